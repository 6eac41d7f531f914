import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { placementOrder } from '../../src/speaker/election.js';
import { labTest, sharedLab } from '../helpers/root.js';
import { startVipkitJson, until, type VipkitProcess } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * Three speakers and a client on one segment. Each VIP must be answered by exactly the
 * node MetalLB's order names (speaker/election.ts, itself checked against sha256sum), as
 * iputils arping in the client sees it; when that node is killed, the next one in the
 * order answers and the client's own neighbour entry follows its gratuitous ARP; a
 * SIGTERM stops a speaker cleanly.
 */
const NODES = ['node1', 'node2', 'node3'];
const SPEC = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
    { name: 'node2', addresses: ['192.0.2.12/24'] },
    { name: 'node3', addresses: ['192.0.2.13/24'] },
  ],
};
const VIPS = ['192.0.2.100', '192.0.2.101', '192.0.2.102', '192.0.2.103', '192.0.2.104', '192.0.2.105'];
const MEMBERS = NODES.flatMap((node, index) => ['--member', `${node}=192.0.2.${11 + index}`]);
const SERVICES = VIPS.flatMap((ip, index) => ['--service', `default/web${index}=${ip}`]);

describe('vipkit run (Layer 2) with three speakers', () => {
  const lab = sharedLab(SPEC);
  const speakers = new Map<string, VipkitProcess>();
  // The namespaces share one file system: each speaker its own status socket.
  const sockets = mkdtempSync(join(tmpdir(), 'vipkit-run-lab-'));
  const socket = (node: string) => join(sockets, `${node}.sock`);
  after(() => {
    for (const speaker of speakers.values()) speaker.child.kill('SIGKILL');
    rmSync(sockets, { recursive: true, force: true });
  });

  const start = (node: string) => {
    const speaker = startVipkitJson(lab(), node, ['run', '--json', '--node-name', node, '--socket', socket(node), ...MEMBERS, '--pool', 'lab=192.0.2.100-192.0.2.120', ...SERVICES]);
    speakers.set(node, speaker);
    return speaker;
  };
  const owner = (ip: string, nodes = NODES) => placementOrder(nodes, ip)[0]!;
  /** The MACs that answer the client's broadcast ARP for `ip`, from iputils arping. */
  const answering = async (ip: string): Promise<string[]> => {
    const { stdout } = await lab().exec('client', ['arping', '-b', '-c', '2', '-w', '2', '-I', 'eth0', ip]);
    return [...new Set([...stdout.matchAll(/reply from \S+ \[([0-9A-F:]+)\]/g)].map((match) => match[1]!.toLowerCase()))];
  };
  const membersUp = (speaker: VipkitProcess, count: number) => speaker.events.filter((event) => event.event === 'memberUp').length >= count;

  labTest('each VIP is answered by exactly its owner in MetalLB order; a killed owner is replaced and the client follows; it comes back and takes its VIP back; stopping, it hands over through BFD AdminDown', async () => {
    for (const node of NODES) start(node);
    for (const [node, speaker] of speakers) await until(`${node} sees both other members Up`, () => membersUp(speaker, 2) || speaker.child.exitCode !== null);
    for (const [node, speaker] of speakers) assert.equal(speaker.child.exitCode, null, `${node} exited: ${speaker.stderr()}`);
    for (const ip of VIPS) {
      await until(`${ip} is answered by ${owner(ip)} alone`, async () => JSON.stringify(await answering(ip)) === JSON.stringify([lab().mac(owner(ip))]));
    }
    for (const node of NODES) {
      const announced = speakers.get(node)!.events.filter((event) => event.event === 'serviceAnnounced').map((event) => event['ip']);
      assert.deepEqual(new Set(announced), new Set(VIPS.filter((ip) => owner(ip) === node)), `${node} announced its own VIPs`);
    }

    // Each speaker's Prometheus metrics, on its own namespace's loopback.
    for (const node of NODES) {
      const scrape = await lab().exec(node, [process.execPath, '-e', "fetch('http://127.0.0.1:7472/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"]);
      assert.equal(scrape.code, 0, scrape.stderr);
      for (const other of NODES.filter((candidate) => candidate !== node)) assert.match(scrape.stdout, new RegExp(`^vipkit_member_up\\{member="${other}"\\} 1$`, 'm'), `${node} reports ${other} up`);
      for (const ip of VIPS.filter((candidate) => owner(candidate) === node)) {
        const service = `default/web${VIPS.indexOf(ip)}`;
        assert.match(scrape.stdout, new RegExp(`^vipkit_announced\\{service="${service}",ip="${ip}",protocol="layer2"\\} 1$`, 'm'));
        assert.match(scrape.stdout, new RegExp(`^vipkit_requests_answered_total\\{ip="${ip}"\\} [1-9]`, 'm'), `${node} counted the answers for ${ip}`);
        assert.match(scrape.stdout, new RegExp(`^vipkit_gratuitous_sent_total\\{ip="${ip}"\\} [1-9]`, 'm'));
      }
      assert.match(scrape.stdout, /^vipkit_nodejs_eventloop_lag_seconds \d/m);
    }

    // vipkit status, from the speaker's own socket.
    for (const node of NODES) {
      const asked = await lab().exec(node, [process.execPath, VIPKIT, 'status', '--json', '--socket', socket(node)]);
      assert.equal(asked.code, 0, asked.stderr);
      const lines = asked.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.deepEqual(lines.filter((line) => line['event'] === 'member').map((line) => [line['name'], line['state']]).sort(), NODES.filter((other) => other !== node).map((other) => [other, 'up']));
      const addresses = lines.filter((line) => line['event'] === 'address');
      assert.deepEqual(addresses.map((line) => line['ip']), VIPS);
      for (const line of addresses) {
        assert.deepEqual(line['order'], placementOrder(NODES, line['ip'] as string));
        assert.equal(line['interface'], line['owner'] === node ? 'eth0' : undefined, JSON.stringify(line));
      }
    }
    const nobody = await lab().exec('node1', [process.execPath, VIPKIT, 'status', '--socket', join(sockets, 'nobody.sock')]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no vipkit run is listening on .*nobody\.sock/);

    // The client has the VIP in its neighbour table; its owner dies without a word.
    const vip = VIPS[0]!;
    const dead = owner(vip);
    const heir = owner(vip, NODES.filter((node) => node !== dead));
    await lab().exec('client', ['bash', '-c', `echo > /dev/udp/${vip}/9`]);
    speakers.get(dead)!.child.kill('SIGKILL');
    await until(`${heir} answers ${vip} after ${dead} died`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(heir)]));
    const neighbour = async () => (JSON.parse((await lab().exec('client', ['ip', '-j', 'neigh', 'show', vip, 'dev', 'eth0'])).stdout) as { lladdr?: string }[])[0]?.lladdr;
    await until(`the client's neighbour entry for ${vip} follows ${heir}'s gratuitous ARP`, async () => (await neighbour()) === lab().mac(heir));
    const heirEvents = speakers.get(heir)!.events;
    assert.ok(heirEvents.some((event) => event.event === 'memberDown' && event['member'] === dead), `${heir} logged memberDown for ${dead}`);
    assert.ok(heirEvents.some((event) => event.event === 'serviceAnnounced' && event['ip'] === vip), `${heir} logged serviceAnnounced for ${vip}`);

    // The owner comes back: it claims nothing before its sessions are Up, then takes its VIP back from the heir.
    const returned = start(dead);
    await until(`${dead} takes ${vip} back`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(dead)]));
    const firstClaim = returned.events.findIndex((event) => event.event === 'serviceAnnounced');
    assert.equal(returned.events.slice(0, firstClaim).filter((event) => event.event === 'memberUp').length, 2, 'both sessions Up before the first claim');
    await until(`${heir} gives ${vip} back`, () => heirEvents.some((event) => event.event === 'serviceWithdrawn' && event['ip'] === vip && event['reason'] === `${dead} owns it`));

    // A planned stop: the heir hears AdminDown (not a timeout) and takes the VIP over again.
    assert.equal(await returned.stop(), 0, returned.stderr());
    assert.ok(returned.events.some((event) => event.event === 'stopping'));
    // It answered until each of its VIPs was claimed by the next owner, not for a fixed time.
    const ownVips = VIPS.filter((ip) => owner(ip) === dead);
    assert.deepEqual(returned.events.filter((event) => event.event === 'handedOver').map((event) => event['ip']).sort(), ownVips.sort());
    assert.ok(!returned.events.some((event) => event.event === 'handoverIncomplete'));
    const leaving = (event: (typeof heirEvents)[number]) => event.event === 'memberDown' && event['member'] === dead;
    await until(`${heir} logs ${dead} leaving`, () => heirEvents.filter(leaving).length === 2);
    assert.match(String(heirEvents.filter(leaving)[1]!['reason']), /administratively down .*diag 3/);
    await until(`${heir} answers ${vip} after ${dead} stopped`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(heir)]));
    for (const node of NODES.filter((candidate) => candidate !== dead)) assert.equal(await speakers.get(node)!.stop(), 0, speakers.get(node)!.stderr());
  }, { timeout: 180_000 });

  labTest('--dry-run prints the candidate order per VIP and sends nothing; mistakes exit 2 with one sentence before anything is sent', async () => {
    const run = (args: string[]) => lab().exec('node1', [process.execPath, VIPKIT, 'run', '--node-name', 'node1', '--socket', socket('refusals'), ...args], { timeoutMs: 30_000 });
    const dry = await run(['--json', '--dry-run', ...MEMBERS, '--pool', 'lab=192.0.2.100-192.0.2.120', ...SERVICES]);
    assert.equal(dry.code, 0, dry.stderr);
    const placements = dry.stdout.trim().split('\n').map((line) => JSON.parse(line) as { ip: string; order: string[]; owner: string; interface?: string; not_announced?: string });
    assert.deepEqual(placements.map((placement) => placement.ip), VIPS);
    for (const placement of placements) {
      assert.deepEqual(placement.order, placementOrder(NODES, placement.ip));
      assert.deepEqual([placement.interface, placement.not_announced], placement.owner === 'node1' ? ['eth0', undefined] : [undefined, `${placement.owner} owns it`]);
    }
    const refusals: [string[], RegExp][] = [
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--service', 'default/web=203.0.113.1'], /--service #1, column 1: service default\/web gets no address: requested 203\.0\.113\.1 is not in any pool/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120,protocol=bgp', '--service', 'default/web'], /service default\/web is in pool lab, advertised over bgp, and no BGP peer is configured: add --peer/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--service', 'default/web', '--shutdown-mode', 'later'], /--shutdown-mode "later" is not withdraw or restart/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--member', 'node2=192.0.2.12', '--member', 'node3=192.0.2.12', '--service', 'default/web'], /repeats the name or address of member node2/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--member', 'node2=198.51.100.12', '--service', 'default/web'], /no interface here has a subnet holding member node2 \(198\.51\.100\.12\)/],
      [['--pool', 'lab=192.0.2.10-192.0.2.12', '--service', 'default/web=192.0.2.11'], /192\.0\.2\.11 is configured on eth0 of this host/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--service', 'default/web', '--bfd-interval', '0.01'], /--bfd-interval 0\.01 is below 0\.02 s/],
      [['--service', 'default/web'], /run needs address pools/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--service', 'default/web', '--metrics-addr', '7472'], /--metrics-addr "7472" is not address:port/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--service', 'default/web', '--log-level', 'chatty'], /--log-level "chatty" is not one of debug, info, warn, error, none/],
      [['--pool', 'lab=192.0.2.100-192.0.2.120', '--service', 'Default/web'], /--service #1/],
    ];
    for (const [args, message] of refusals) {
      const refused = await run(args);
      assert.equal(refused.code, 2, `${args.join(' ')}: ${refused.stderr}`);
      assert.match(refused.stderr, message);
      assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  labTest('split brain, seen on the wire: when another member answers for a VIP too, the one that comes later in its order yields', async () => {
    // node2 is told a wrong address for node1, so no BFD session comes up: after the
    // start-up grace each thinks the other dead and claims every VIP. node1 learns node2's
    // MAC from node2's own address and settles each conflict by the placement order.
    const pair = ['node1', 'node2'];
    const split = new Map([
      ['node1', startVipkitJson(lab(), 'node1', ['run', '--json', '--node-name', 'node1', '--socket', socket('split-node1'), '--member', 'node2=192.0.2.12', '--pool', 'lab=192.0.2.100-192.0.2.120', ...SERVICES])],
      ['node2', startVipkitJson(lab(), 'node2', ['run', '--json', '--node-name', 'node2', '--socket', socket('split-node2'), '--member', 'node1=192.0.2.21', '--pool', 'lab=192.0.2.100-192.0.2.120', ...SERVICES])],
    ]);
    try {
      const node1 = split.get('node1')!;
      for (const ip of VIPS.filter((candidate) => owner(candidate, pair) === 'node2')) {
        await until(`node1 yields ${ip} to node2, which comes first in its order`, async () => JSON.stringify(await answering(ip)) === JSON.stringify([lab().mac('node2')]));
        assert.ok(node1.events.some((event) => event.event === 'conflict' && event['ip'] === ip && event['member'] === 'node2'), `node1 logged the conflict on ${ip}`);
        assert.ok(node1.events.some((event) => event.event === 'serviceWithdrawn' && event['ip'] === ip && /split brain/.test(String(event['reason']))));
      }
      // node1 comes first for the rest: it keeps them (node2, which cannot tell node1's MAC, still answers too).
      for (const ip of VIPS.filter((candidate) => owner(candidate, pair) === 'node1')) assert.ok((await answering(ip)).includes(lab().mac('node1')), `node1 keeps ${ip}`);
      // node2 dies with no BFD session to say so: node1's duplicate-address probe finds its yielded VIPs silent, and it claims them again.
      split.get('node2')!.child.kill('SIGKILL');
      for (const ip of VIPS.filter((candidate) => owner(candidate, pair) === 'node2')) {
        await until(`node1 claims ${ip} again once node2 no longer answers`, async () => JSON.stringify(await answering(ip)) === JSON.stringify([lab().mac('node1')]), 40_000);
        assert.ok(node1.events.some((event) => event.event === 'yieldEnded' && event['ip'] === ip), `node1 logged yieldEnded for ${ip}`);
      }
    } finally {
      assert.equal(await split.get('node1')!.stop(), 0, split.get('node1')!.stderr());
      split.get('node2')!.child.kill('SIGKILL');
    }
  }, { timeout: 120_000 });

  labTest("the owner's link goes down: its VIP moves to the next node; the link comes back: the owner opens it again, waits for its members, and takes its VIP back without answering beside the heir", async () => {
    const flap = new Map(NODES.map((node) => [node, startVipkitJson(lab(), node, ['run', '--json', '--node-name', node, '--socket', socket(`flap-${node}`), ...MEMBERS, '--pool', 'lab=192.0.2.100-192.0.2.120', ...SERVICES])]));
    try {
      for (const [node, speaker] of flap) await until(`${node} sees both other members Up`, () => membersUp(speaker, 2));
      const vip = VIPS[0]!;
      const [cut, heir] = placementOrder(NODES, vip) as [string, string];
      await until(`${cut} answers ${vip}`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(cut)]));
      await lab().exec(cut, ['ip', 'link', 'set', 'eth0', 'down']);
      await until(`${heir} answers ${vip} while ${cut}'s link is down`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(heir)]));
      const cutEvents = flap.get(cut)!.events;
      await until(`${cut} logs linkDown`, () => cutEvents.some((event) => event.event === 'linkDown'));
      await lab().exec(cut, ['ip', 'link', 'set', 'eth0', 'up']);
      await until(`${cut} opens its link again`, () => cutEvents.some((event) => event.event === 'linkUp'));
      await until(`${cut} takes ${vip} back`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(cut)]));
      // Cut off, it saw its members die (and claimed their VIPs, if its routes were still there); back on the link it claimed nothing before their sessions were Up again.
      const after = cutEvents.slice(cutEvents.findIndex((event) => event.event === 'linkUp'));
      const reclaimed = after.findIndex((event) => event.event === 'serviceAnnounced' && event['ip'] === vip);
      assert.equal(after.slice(0, reclaimed).filter((event) => event.event === 'memberUp').length, 2, `${cut} waited for both members before claiming ${vip}: ${JSON.stringify(after.map((event) => [event.event, event['ip'] ?? event['member'], event['reason']]))}`);
    } finally {
      for (const speaker of flap.values()) assert.equal(await speaker.stop(), 0, speaker.stderr());
    }
  }, { timeout: 120_000 });

  labTest('a --services file is re-read when it changes and on SIGHUP: only the change reaches the wire; a broken edit keeps what was there', async () => {
    const file = join(sockets, 'services.yaml');
    const service = (name: string, ip: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n  type: LoadBalancer\n  loadBalancerIP: ${ip}\n  ports:\n    - port: 80\n`;
    writeFileSync(file, service('web', '192.0.2.110'));
    const alone = startVipkitJson(lab(), 'node1', ['run', '--json', '--node-name', 'node1', '--socket', socket('reload'), '--pool', 'lab=192.0.2.100-192.0.2.120', '--services', file]);
    const quiet = startVipkitJson(lab(), 'node2', ['run', '--json', '--log-level', 'warn', '--node-name', 'node2', '--socket', socket('reload-quiet'), '--pool', 'lab=192.0.2.100-192.0.2.120', '--service', 'default/quiet=192.0.2.115']);
    try {
      await until('node1 answers 192.0.2.110', async () => JSON.stringify(await answering('192.0.2.110')) === JSON.stringify([lab().mac('node1')]));
      writeFileSync(file, service('web', '192.0.2.110') + '---\n' + service('api', '192.0.2.111'));
      await until('node1 answers the added 192.0.2.111', async () => JSON.stringify(await answering('192.0.2.111')) === JSON.stringify([lab().mac('node1')]));
      const reloaded = alone.events.find((event) => event.event === 'configReloaded')!;
      assert.deepEqual([reloaded['added'], reloaded['removed']], [['default/api'], []]);
      assert.equal(alone.events.filter((event) => event.event === 'serviceAnnounced' && event['ip'] === '192.0.2.110').length, 1, 'the unchanged service was not announced again');
      writeFileSync(file, 'kind: Service\nspec: [\n');
      alone.child.kill('SIGHUP');
      await until('node1 says it kept its services', () => alone.events.some((event) => event.event === 'configStale'));
      assert.deepEqual(await answering('192.0.2.111'), [lab().mac('node1')]);
      // --log-level warn: the speaker answers, and logs nothing below a warning.
      assert.deepEqual(await answering('192.0.2.115'), [lab().mac('node2')]);
      assert.deepEqual(quiet.events.filter((event) => event['level'] !== 'warn'), []);
    } finally {
      assert.equal(await alone.stop(), 0, alone.stderr());
      assert.equal(await quiet.stop(), 0, quiet.stderr());
    }
  });
});
