import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { ringPeers } from '../../src/liveness/membership.js';
import type { Member } from '../../src/pools/model.js';
import { ClusterSpeaker, type ClusterOptions } from '../../src/speaker/cluster-speaker.js';
import type { ClusterConfig } from '../../src/speaker/cluster-config.js';
import { placementOrder } from '../../src/speaker/election.js';
import type { L2Config, L2Plane, L2PlaneEvents } from '../../src/speaker/l2-plane.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** The data plane as ClusterSpeaker sees it: what it was configured with, what it answers for, and events the test sends. */
class RecordingPlane extends EventEmitter<L2PlaneEvents> implements L2Plane {
  readonly answering = new Map<string, string[]>();

  constructor(readonly config: L2Config) {
    super();
  }

  async open(): Promise<void> {}
  macOf(): string {
    return '02:00:00:00:00:11';
  }
  set(interfaceName: string, addresses: readonly string[]): void {
    this.answering.set(interfaceName, [...addresses]);
  }
  probe(): Promise<Map<string, string[]>> {
    return Promise.resolve(new Map());
  }
  adminDown(): void {}
  async close(): Promise<void> {}
}

const NAMES = ['node1', 'node2', 'node3', 'node4', 'node5'];
const address = (name: string) => `192.0.2.${10 + Number(name.slice(4))}`;
const member = (name: string): Member => ({ name, address: address(name), labels: {}, at: { source: '--member', column: 1 } });
const VIP = '203.0.113.7';

function clusterSpeaker(fullMeshMax: number) {
  const clock = new ManualClock();
  let plane: RecordingPlane | undefined;
  const config: ClusterConfig = { self: { name: 'node1', labels: {} }, members: NAMES.slice(1).map(member), services: [{ key: 'default/web', ips: [VIP], pool: 'web', layer2: {} }], unallocated: [], peers: [] };
  const options: ClusterOptions = {
    interfaceFor: () => 'eth0',
    memberPath: () => ({ interfaceName: 'eth0', local: address('node1') }),
    schedule: { count: 1, intervalMs: 1000, ratePerSecond: 1000 },
    timing: { intervalMs: 50, multiplier: 3 },
    ring: { fullMeshMax, neighbours: 1 },
    startupGraceMs: 1000,
    handoverMs: 100,
    sessionFor: () => {
      throw new Error('no BGP here');
    },
    shutdownMode: 'withdraw',
  };
  const speaker = new ClusterSpeaker(config, options, { l2Plane: (l2) => (plane = new RecordingPlane(l2)), clock });
  return { speaker, clock, plane: plane! };
}

const change = (name: string, up: boolean) => ({ peer: address(name), from: up ? ('Down' as const) : ('Up' as const), to: up ? ('Up' as const) : ('Down' as const), remoteState: up ? ('Up' as const) : ('Down' as const), reason: 'test' });

describe('vipkit run beyond the full mesh', () => {
  test('up to the threshold every member is a BFD peer; beyond it only the ring neighbours, with the ring for the membership messages', () => {
    const mesh = clusterSpeaker(5).plane.config.liveness!;
    assert.deepEqual(mesh.peers.map((peer) => peer.address), NAMES.slice(1).map(address));
    assert.equal(mesh.ring, undefined);
    const { ring, peers } = clusterSpeaker(4).plane.config.liveness!;
    assert.ok(ring);
    assert.deepEqual(ring.self, { name: 'node1', address: address('node1') });
    assert.equal(ring.neighbours, 1);
    assert.deepEqual(
      peers.map((peer) => peer.address).sort(),
      ringPeers(ring).map((peer) => peer.address).sort(),
    );
    assert.equal(peers.length, 2);
  });

  test("on the ring, placement follows the membership's view, not this node's own sessions", async () => {
    const { speaker, clock, plane } = clusterSpeaker(4);
    await speaker.start();
    for (const name of NAMES.slice(1)) plane.emit('member', change(name, true));
    const order = placementOrder(NAMES, VIP);
    const ownerOf = () => speaker.status.addresses.find((entry) => entry.ip === VIP)!.owner;
    assert.equal(ownerOf(), order[0]);
    // A session's own word about a member is evidence for the ring, not a verdict.
    plane.emit('bfd', { ...change(order[0]!, false), diagnostic: 1 });
    assert.equal(ownerOf(), order[0]);
    plane.emit('member', change(order[0]!, false));
    assert.equal(ownerOf(), order[1]);
    assert.equal(speaker.status.members.find((entry) => entry.name === order[0])!.state, 'down');
    clock.advance(1000);
    await speaker.stop();
  });
});
