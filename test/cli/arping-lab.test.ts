import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { labTest, sharedLab } from '../helpers/root.js';
import { captureDuring, tsharkFields } from '../helpers/capture.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * arping against the real thing: the Linux kernel in other namespaces answers ARP and NDP.
 * 192.0.2.100 is configured on node2 and node3 at once: a duplicate.
 */
const SPEC = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24', '2001:db8:2::10/64'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'node2', addresses: ['192.0.2.12/24', '2001:db8:2::12/64', '192.0.2.100/24', '2001:db8:2::100/64'] },
    { name: 'node3', addresses: ['192.0.2.13/24', '2001:db8:2::13/64', '192.0.2.100/24', '2001:db8:2::100/64'] },
  ],
};

interface Event {
  event: string;
  [field: string]: unknown;
}

describe('vipkit arping in a namespace lab', () => {
  const lab = sharedLab(SPEC);

  async function arping(...args: string[]) {
    const result = await lab().exec('client', [process.execPath, VIPKIT, 'arping', ...args], { timeoutMs: 30_000 });
    const events = args.includes('--json') ? result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Event) : [];
    return { ...result, events };
  }

  labTest('the kernel of another namespace answers ARP: its MAC, an RTT, exit 0', async () => {
    const { code, events, stderr } = await arping('-c', '2', '-i', '0.2', '--json', '192.0.2.11');
    assert.equal(code, 0, stderr);
    const replies = events.filter((event) => event.event === 'reply');
    assert.equal(replies.length, 2);
    for (const reply of replies) {
      assert.equal(reply['ip'], '192.0.2.11');
      assert.equal(reply['mac'], lab().mac('node1'));
      assert.equal(reply['interface'], 'eth0');
      assert.ok(typeof reply['rtt_ms'] === 'number' && reply['rtt_ms'] > 0);
      assert.match(String(reply['ts']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const summary = events.at(-1)!;
    assert.equal(summary.event, 'summary');
    assert.equal(summary['sent'], 2);
    assert.equal(summary['received'], 2);
    assert.deepEqual(summary['targets'], { '192.0.2.11': [lab().mac('node1')] });
    assert.equal(summary['duplicates'], undefined, 'absent values are omitted');
  });

  labTest('human output mimics iputils', async () => {
    const { code, stdout, stderr } = await arping('-c', '1', '192.0.2.11');
    assert.equal(code, 0);
    assert.match(stderr, /^ARPING 192\.0\.2\.11 from 192\.0\.2\.10 eth0$/m);
    const mac = lab().mac('node1').toUpperCase().replaceAll('.', '\\.');
    assert.match(stdout, new RegExp(`^Unicast reply from 192\\.0\\.2\\.11 \\[${mac}\\]  \\d+\\.\\d{3}ms$`, 'm'));
    assert.match(stdout, /^Sent 1 probes \(1 broadcast\(s\)\)\nReceived 1 response\(s\)$/m);
  });

  labTest('an address nobody holds gets no reply: exit 1', async () => {
    const { code, stdout, stderr } = await arping('-c', '2', '-i', '0.2', '192.0.2.99');
    assert.equal(code, 1);
    assert.match(stdout, /Received 0 response\(s\)/);
    assert.doesNotMatch(stderr, /warning/);
  });

  labTest('this host\'s own address: a warning that its kernel will not answer, exit 1', async () => {
    const { code, stderr } = await arping('-c', '1', '192.0.2.10');
    assert.equal(code, 1);
    assert.match(stderr, /192\.0\.2\.10 is configured on eth0 of this host: a kernel does not answer its own requests/);
  });

  labTest('IPv6 through NDP: the kernel answers the solicitation; silence exits 1', async () => {
    const answered = await arping('-c', '2', '-i', '0.2', '--json', '2001:db8:2::11');
    assert.equal(answered.code, 0, answered.stderr);
    const replies = answered.events.filter((event) => event.event === 'reply');
    assert.equal(replies.length, 2);
    assert.deepEqual(new Set(replies.map((reply) => reply['mac'])), new Set([lab().mac('node1')]));
    const silent = await arping('-c', '2', '-i', '0.2', '2001:db8:2::99');
    assert.equal(silent.code, 1);
  });

  labTest('two hosts holding one address: both MACs, a loud warning, exit 3 on request, -D says in use', async () => {
    const both = await arping('-c', '2', '-i', '0.2', '--ethers', '/dev/null', '192.0.2.100');
    assert.equal(both.code, 0);
    assert.match(both.stdout, new RegExp(lab().mac('node2').toUpperCase()));
    assert.match(both.stdout, new RegExp(lab().mac('node3').toUpperCase()));
    assert.match(both.stderr, /warning: 192\.0\.2\.100 is answered by more than one MAC/);

    const json = await arping('-c', '2', '-i', '0.2', '--json', '--fail-on-duplicate', '192.0.2.100');
    assert.equal(json.code, 3);
    const summary = json.events.at(-1)!;
    assert.deepEqual(summary['duplicates'], ['192.0.2.100']);
    assert.deepEqual(new Set((summary['targets'] as Record<string, string[]>)['192.0.2.100']), new Set([lab().mac('node2'), lab().mac('node3')]));

    const v6 = await arping('-c', '2', '-i', '0.2', '--fail-on-duplicate', '2001:db8:2::100');
    assert.equal(v6.code, 3, v6.stderr);

    assert.equal((await arping('-D', '-c', '2', '-i', '0.2', '192.0.2.100')).code, 1, 'in use');
    assert.equal((await arping('-D', '-c', '2', '-i', '0.2', '192.0.2.99')).code, 0, 'free');
    assert.equal((await arping('-D', '-c', '2', '-i', '0.2', '2001:db8:2::100')).code, 1, 'IPv6 in use');
    assert.equal((await arping('-D', '-c', '2', '-i', '0.2', '2001:db8:2::99')).code, 0, 'IPv6 free');
  });

  labTest('a sweep of a /27 finds exactly the hosts that exist', async () => {
    const { code, events, stderr } = await arping('--json', '192.0.2.0/27');
    assert.equal(code, 0, stderr);
    const summary = events.at(-1)!;
    assert.equal(summary.event, 'summary');
    assert.deepEqual(summary['targets'], {
      '192.0.2.11': [lab().mac('node1')],
      '192.0.2.12': [lab().mac('node2')],
      '192.0.2.13': [lab().mac('node3')],
    });
    assert.equal(summary['silent'], 30 - 3);
  });

  labTest('-U and -A frames, captured by tcpdump on another host, read cleanly in tshark', async () => {
    const fields = ['arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'arp.isgratuitous', 'eth.dst'];
    for (const [flag, opcode] of [['-U', '1'], ['-A', '2']] as const) {
      let code = -1;
      const capture = await captureDuring(lab(), 'node1', 'arp', async () => {
        ({ code } = await arping(flag, '-c', '2', '-i', '0.1', '192.0.2.50'));
      });
      try {
        assert.equal(code, 0);
        const frames = tsharkFields(capture.file, fields);
        assert.equal(frames.length, 2, `${flag}: two frames seen`);
        for (const frame of frames) {
          assert.equal(frame['arp.opcode'], opcode);
          assert.equal(frame['arp.src.hw_mac'], lab().mac('client'));
          assert.equal(frame['arp.src.proto_ipv4'], '192.0.2.50');
          assert.equal(frame['arp.dst.proto_ipv4'], '192.0.2.50');
          assert.equal(frame['arp.isgratuitous'], '1');
          assert.equal(frame['eth.dst'], 'ff:ff:ff:ff:ff:ff');
          assert.equal(frame['_ws.malformed'], '', 'tshark finds nothing malformed');
        }
      } finally {
        capture.dispose();
      }
    }
  });

  labTest('-U for IPv6 sends unsolicited neighbor advertisements tshark accepts', async () => {
    let code = -1;
    const capture = await captureDuring(lab(), 'node1', 'icmp6', async () => {
      ({ code } = await arping('-U', '-c', '2', '-i', '0.1', '2001:db8:2::50'));
    });
    try {
      assert.equal(code, 0);
      const frames = tsharkFields(capture.file, ['icmpv6.type', 'icmpv6.nd.na.target_address', 'icmpv6.nd.na.flag.o', 'icmpv6.nd.na.flag.s', 'icmpv6.opt.linkaddr', 'ipv6.hlim', 'ipv6.dst', 'icmpv6.checksum.status'], 'icmpv6.type == 136 && icmpv6.nd.na.target_address == 2001:db8:2::50');
      assert.equal(frames.length, 2);
      for (const frame of frames) {
        assert.equal(frame['icmpv6.nd.na.target_address'], '2001:db8:2::50');
        assert.equal(frame['icmpv6.nd.na.flag.o'], '1');
        assert.equal(frame['icmpv6.nd.na.flag.s'], '0');
        assert.equal(frame['icmpv6.opt.linkaddr'], lab().mac('client'));
        assert.equal(frame['ipv6.hlim'], '255');
        assert.equal(frame['ipv6.dst'], 'ff02::1');
        assert.equal(frame['icmpv6.checksum.status'], '1', 'checksum good');
        assert.equal(frame['_ws.malformed'], '');
      }
    } finally {
      capture.dispose();
    }
  });

  labTest('--vlan tags the probes with 802.1Q, as tshark reads them', async () => {
    const capture = await captureDuring(lab(), 'node1', 'vlan', async () => {
      await arping('--vlan', '100', '-c', '1', '192.0.2.11');
    });
    try {
      const frames = tsharkFields(capture.file, ['vlan.id', 'arp.opcode', 'arp.dst.proto_ipv4']);
      assert.equal(frames.length, 1);
      assert.deepEqual({ ...frames[0], '_ws.expert.message': '' }, {
        'vlan.id': '100',
        'arp.opcode': '1',
        'arp.dst.proto_ipv4': '192.0.2.11',
        '_ws.expert.message': '',
        '_ws.malformed': '',
      });
    } finally {
      capture.dispose();
    }
  });

  labTest('without CAP_NET_RAW, arping says how to grant it and exits 2', async () => {
    const { code, stderr, stdout } = await lab().exec('client', ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, VIPKIT, 'arping', '-c', '1', '192.0.2.11']);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /needs CAP_NET_RAW: run as root or `setcap cap_net_raw,cap_net_admin\+eip/);
    assert.doesNotMatch(stderr, /\n\s+at /);
    assert.equal(stdout, '');
  });

  labTest('a target outside every subnet of the namespace is refused, never probed elsewhere', async () => {
    const { code, stderr, stdout } = await arping('198.51.100.7');
    assert.equal(code, 2);
    assert.match(stderr, /no interface here has a subnet holding 198\.51\.100\.7/);
    assert.equal(stdout, '');
  });
});
