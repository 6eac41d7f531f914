import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { MEMBERSHIP_PORT } from '../../src/liveness/membership-transport.js';
import { ringNeighbours, ringOrder } from '../../src/liveness/ring.js';
import { placementOrder } from '../../src/speaker/election.js';
import { captureDuring, tsharkFields } from '../helpers/capture.js';
import { labTest, sharedLab } from '../helpers/root.js';
import { startVipkitJson, until, type VipkitProcess } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * The ring with real frames, at a size namespaces afford: five speakers told that the full
 * mesh ends at 2 nodes, with one ring neighbour on each side. tshark must see each node run
 * BFD with its two ring neighbours only, and membership messages with TTL 255; when a
 * node is killed, every other node must have it dead and place its VIP on the same heir,
 * which the client's arping confirms.
 */
const NODES = ['node1', 'node2', 'node3', 'node4', 'node5'];
const address = (node: string) => `192.0.2.${10 + NODES.indexOf(node) + 1}`;
const SPEC = { hosts: [{ name: 'client', addresses: ['192.0.2.10/24'] }, ...NODES.map((node) => ({ name: node, addresses: [`${address(node)}/24`] }))] };
const VIPS = ['192.0.2.100', '192.0.2.101', '192.0.2.102', '192.0.2.103'];
const MEMBERS = NODES.flatMap((node) => ['--member', `${node}=${address(node)}`]);
const SERVICES = VIPS.flatMap((ip, index) => ['--service', `default/web${index}=${ip}`]);
const K = 1;
const CAPTURE_MS = 1500;

/** Each node's ring neighbours, as every node computes them. */
function neighbours(): Map<string, Set<string>> {
  const order = ringOrder(NODES);
  return new Map(order.map((node, at) => [node, new Set(ringNeighbours(order.length, at, K).map((place) => order[place]!))]));
}

describe('vipkit run on the ring (beyond --bfd-full-mesh-max)', () => {
  const lab = sharedLab(SPEC);
  const speakers = new Map<string, VipkitProcess>();
  const sockets = mkdtempSync(join(tmpdir(), 'vipkit-run-ring-lab-'));
  after(() => {
    for (const speaker of speakers.values()) speaker.child.kill('SIGKILL');
    rmSync(sockets, { recursive: true, force: true });
  });

  const start = (node: string) => {
    const argv = ['run', '--json', '--node-name', node, '--socket', join(sockets, `${node}.sock`), '--bfd-full-mesh-max', '2', '--bfd-ring-neighbours', String(K), ...MEMBERS, '--pool', 'lab=192.0.2.100-192.0.2.120', ...SERVICES];
    speakers.set(node, startVipkitJson(lab(), node, argv));
  };
  const answering = async (ip: string): Promise<string[]> => {
    const { stdout } = await lab().exec('client', ['arping', '-b', '-c', '2', '-w', '2', '-I', 'eth0', ip]);
    return [...new Set([...stdout.matchAll(/reply from \S+ \[([0-9A-F:]+)\]/g)].map((match) => match[1]!.toLowerCase()))];
  };
  const upCount = (speaker: VipkitProcess) => speaker.events.filter((event) => event.event === 'memberUp').length;

  labTest('each node runs BFD with its ring neighbours only; a killed node is dead on every node and its VIP moves to the same heir everywhere', async () => {
    for (const node of NODES) start(node);
    for (const [node, speaker] of speakers) await until(`${node} sees the four others Up`, () => upCount(speaker) >= NODES.length - 1 || speaker.child.exitCode !== null);
    for (const [node, speaker] of speakers) assert.equal(speaker.child.exitCode, null, `${node} exited: ${speaker.stderr()}`);

    // On the wire: BFD between ring neighbours only, and the digests, all with TTL 255.
    const ring = neighbours();
    const captures = await Promise.all(NODES.map((node) => captureDuring(lab(), node, `udp port 3784 or udp port ${MEMBERSHIP_PORT}`, () => new Promise((resolve) => setTimeout(resolve, CAPTURE_MS)))));
    try {
      for (const [index, capture] of captures.entries()) {
        const node = NODES[index]!;
        const bfd = tsharkFields(capture.file, ['ip.src', 'ip.dst', 'ip.ttl', 'bfd.sta'], 'bfd');
        assert.ok(bfd.length > 0, `${node} captured BFD`);
        for (const packet of bfd) assert.deepEqual([packet['_ws.expert.message'], packet['_ws.malformed'], packet['ip.ttl']], ['', '', '255'], JSON.stringify(packet));
        const peers = new Set(bfd.map((packet) => (packet['ip.src'] === address(node) ? packet['ip.dst']! : packet['ip.src']!)));
        assert.deepEqual(peers, new Set([...ring.get(node)!].map(address)), `${node} runs BFD with its ring neighbours ${[...ring.get(node)!].join(' and ')} only`);
        const digests = tsharkFields(capture.file, ['ip.src', 'ip.dst', 'ip.ttl'], `udp.dstport == ${MEMBERSHIP_PORT}`);
        assert.ok(digests.some((packet) => packet['ip.src'] === address(node)), `${node} sent its digest`);
        for (const packet of digests) assert.equal(packet['ip.ttl'], '255');
      }
    } finally {
      for (const capture of captures) capture.dispose();
    }

    // Kill the owner of the first VIP: every node hears it from the ring and agrees on the heir.
    const vip = VIPS[0]!;
    const dead = placementOrder(NODES, vip)[0]!;
    const live = NODES.filter((node) => node !== dead);
    const heir = placementOrder(live, vip)[0]!;
    await until(`${dead} answers ${vip}`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(dead)]));
    speakers.get(dead)!.child.kill('SIGKILL');
    for (const node of live) {
      await until(`${node} has ${dead} down`, () => speakers.get(node)!.events.some((event) => event.event === 'memberDown' && event['member'] === dead), 10_000);
    }
    for (const node of live.filter((candidate) => !ring.get(dead)!.has(candidate))) {
      const down = speakers.get(node)!.events.find((event) => event.event === 'memberDown' && event['member'] === dead)!;
      assert.match(String(down['reason']), /lost their BFD sessions with it/, `${node} heard it from ${dead}'s neighbours, not its own session`);
    }
    await until(`${heir} answers ${vip} alone`, async () => JSON.stringify(await answering(vip)) === JSON.stringify([lab().mac(heir)]));
    for (const node of live) {
      const asked = await lab().exec(node, [process.execPath, VIPKIT, 'status', '--json', '--socket', join(sockets, `${node}.sock`)]);
      assert.equal(asked.code, 0, asked.stderr);
      const lines = asked.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.deepEqual(lines.filter((line) => line['event'] === 'member' && line['state'] === 'down').map((line) => line['name']), [dead], `${node}'s view`);
      for (const line of lines.filter((candidate) => candidate['event'] === 'address')) {
        assert.equal(line['owner'], placementOrder(live, line['ip'] as string)[0], `${node} places ${String(line['ip'])} as everyone does`);
      }
    }
    for (const node of live) assert.equal(await speakers.get(node)!.stop(), 0, speakers.get(node)!.stderr());
  }, { timeout: 180_000 });
});
