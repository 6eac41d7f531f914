import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLab } from '../../src/lab/lab.js';
import { findInterface, interfaceForTarget, sourceAddressFor, type InterfaceInfo } from '../../src/link/interfaces.js';
import { labTest } from '../helpers/root.js';

const SCRIPT = fileURLToPath(new URL('./interfaces-script.js', import.meta.url));

interface Seen {
  interfaces: InterfaceInfo[];
  default4?: { interfaceName: string; gateway?: string };
  default6?: { interfaceName: string; gateway?: string };
  targets: Record<string, { interfaceName?: string; source?: string }>;
}

test('loopback is found with its addresses but never chosen for a target', () => {
  const lo = findInterface('lo');
  assert.ok(lo);
  assert.equal(lo.loopback, true);
  assert.equal(lo.mac, undefined);
  assert.deepEqual(lo.ipv4, [{ address: '127.0.0.1', prefixLength: 8 }]);
  assert.equal(interfaceForTarget('127.0.0.1'), undefined);
  assert.equal(findInterface('vk-nope0'), undefined);
  assert.equal(findInterface('../lo'), undefined);
  assert.equal(interfaceForTarget('not an address'), undefined);
});

labTest('interface discovery inside a namespace: addresses, routes, longest prefix, no fallback', async () => {
  const spec = {
    hosts: [{ name: 'a', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'], mac: '02:00:00:00:00:11' }],
  };
  await withLab(spec, async (lab) => {
    // A second interface that is up (a veth pair inside the namespace: the dummy module may
    // be missing) and one that is down.
    const setup = [
      ['ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1'],
      ['ip', 'address', 'add', '192.0.2.129/25', 'dev', 'up0'],
      ['ip', 'link', 'set', 'up1', 'up'],
      ['ip', 'link', 'set', 'up0', 'up'],
      ['ip', 'link', 'add', 'down0', 'type', 'veth', 'peer', 'name', 'down1'],
      ['ip', 'route', 'add', 'default', 'via', '192.0.2.1'],
      ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:2::1'],
    ];
    for (const argv of setup) assert.equal((await lab.exec('a', argv)).code, 0, argv.join(' '));
    const targets = ['192.0.2.20', '192.0.2.200', '203.0.113.5', '2001:db8:2::99', '2001:db8:3::1', 'fe80::99%eth0', '127.0.0.1'];
    const result = await lab.exec('a', [process.execPath, SCRIPT, ...targets]);
    assert.equal(result.code, 0, result.stderr);
    const seen = JSON.parse(result.stdout) as Seen;

    const byName = new Map(seen.interfaces.map((iface) => [iface.name, iface]));
    assert.deepEqual([...byName.keys()].sort(), ['down0', 'down1', 'eth0', 'lo', 'up0', 'up1']);
    const eth0 = byName.get('eth0')!;
    assert.equal(eth0.mac, '02:00:00:00:00:11');
    assert.equal(eth0.up, true);
    assert.equal(eth0.mtu, 1500);
    assert.deepEqual(eth0.ipv4, [{ address: '192.0.2.11', prefixLength: 24 }]);
    assert.deepEqual(eth0.ipv6.find((entry) => entry.address === '2001:db8:2::11'), { address: '2001:db8:2::11', prefixLength: 64 });
    const linkLocal = eth0.ipv6.find((entry) => entry.address.startsWith('fe80:'));
    assert.ok(linkLocal, 'eth0 has a link-local address');
    // An interface that is down is listed, without addresses.
    assert.deepEqual({ ...byName.get('down0')!, mac: undefined, index: 0 }, {
      name: 'down0', index: 0, mac: undefined, up: false, loopback: false, mtu: 1500, ipv4: [], ipv6: [],
    });

    assert.deepEqual(seen.default4, { interfaceName: 'eth0', gateway: '192.0.2.1' });
    assert.deepEqual(seen.default6, { interfaceName: 'eth0', gateway: '2001:db8:2::1' });
    assert.deepEqual(seen.targets, {
      '192.0.2.20': { interfaceName: 'eth0', source: '192.0.2.11' },
      // 192.0.2.129/25 on up0 is longer than 192.0.2.0/24 on eth0.
      '192.0.2.200': { interfaceName: 'up0', source: '192.0.2.129' },
      // No subnet holds it: no answer, even though a default route exists.
      '203.0.113.5': {},
      '2001:db8:2::99': { interfaceName: 'eth0', source: '2001:db8:2::11' },
      '2001:db8:3::1': {},
      'fe80::99%eth0': { interfaceName: 'eth0', source: linkLocal.address },
      '127.0.0.1': {},
    });
  });
});

test('sourceAddressFor prefers a global IPv6 address in the subnet, else the link-local one', () => {
  const iface: InterfaceInfo = {
    name: 'eth0', index: 2, up: true, loopback: false, mtu: 1500,
    ipv4: [{ address: '192.0.2.11', prefixLength: 24 }],
    ipv6: [
      { address: 'fe80::1', prefixLength: 64 },
      { address: '2001:db8:2::11', prefixLength: 64 },
    ],
  };
  assert.equal(sourceAddressFor(iface, '192.0.2.1'), '192.0.2.11');
  assert.equal(sourceAddressFor(iface, '198.51.100.1'), undefined);
  assert.equal(sourceAddressFor(iface, '2001:db8:2::1'), '2001:db8:2::11');
  assert.equal(sourceAddressFor(iface, '2001:db8:5::1'), 'fe80::1');
  assert.equal(sourceAddressFor(iface, 'fe80::2'), 'fe80::1');
});
