import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { Membership, ringPeers, type RingConfig } from '../../src/liveness/membership.js';
import { ringFingerprint, ringNeighbours, ringOrder } from '../../src/liveness/ring.js';
import { placementOrder } from '../../src/speaker/election.js';
import { membershipMessage, type MembershipMessage } from '../../src/wire/membership.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { prng } from '../helpers/prng.js';
import { DIGEST_MS, LATENCY_MS, SimulatedCluster } from '../helpers/simulated-cluster.js';

const SIZE = 25;
const K = 3;
/** Detect Mult x the interval (RFC 5880 6.8.4) at the defaults. */
const DETECTION_MS = 150;
/** BFD's slow start (1 s packets) and the first digests are over by then. */
const SETTLED_MS = 5000;
const VIPS = Array.from({ length: 40 }, (_, index) => `203.0.113.${index + 1}`);

function settledRing(size = SIZE) {
  const cluster = new SimulatedCluster({ size, neighbours: K });
  cluster.startAll();
  cluster.clock.advance(SETTLED_MS);
  return cluster;
}

/** Every live node's owner per VIP, as placement computes it from its own view. */
function owners(cluster: SimulatedCluster): Map<string, string[]> {
  return new Map(cluster.nodes.filter((node) => node.alive).map((node) => [node.name, VIPS.map((ip) => placementOrder(cluster.liveSet(node), ip)[0]!)]));
}

function assertAllAgree(cluster: SimulatedCluster): void {
  const views = cluster.nodes.filter((node) => node.alive).map((node) => cluster.liveSet(node).join(' '));
  assert.equal(new Set(views).size, 1, 'every live node has the same live set');
  assert.equal(new Set([...owners(cluster).values()].map((list) => list.join(' '))).size, 1, 'every live node places every VIP alike');
}

/** A message as `from`'s membership would send it about `member` at `version`. */
function report(cluster: SimulatedCluster, member: string, version: number, flags: { suspect?: boolean; up?: boolean }): MembershipMessage {
  const order = ringOrder(cluster.nodes.map((node) => node.name));
  return { ring: ringFingerprint(order, K), entries: [{ member: order.indexOf(member), version, suspect: flags.suspect ?? false, up: flags.up ?? false, leaving: false }] };
}

/** Two distinct ring neighbours of `name`, and a member that is not one. */
function aroundOf(cluster: SimulatedCluster, name: string) {
  const order = ringOrder(cluster.nodes.map((node) => node.name));
  const at = order.indexOf(name);
  const neighbours = ringNeighbours(order.length, at, K).map((place) => order[place]!);
  const stranger = order.find((other) => other !== name && !neighbours.includes(other))!;
  return { neighbours, stranger };
}

describe('the ring', () => {
  test('every node computes the same neighbours from the member list in any order, and watching is mutual', () => {
    const names = Array.from({ length: SIZE }, (_, index) => `node${index + 1}`);
    const random = prng(5);
    const peersOf = new Map<string, string[]>();
    for (const name of names) {
      const others = names.filter((other) => other !== name).sort(() => random() - 0.5);
      const config: RingConfig = { self: { name, address: `a-${name}` }, members: others.map((other) => ({ name: other, address: `a-${other}` })), neighbours: K, digestMs: DIGEST_MS };
      peersOf.set(name, ringPeers(config).map((member) => member.name));
    }
    const order = ringOrder(names);
    assert.deepEqual(ringOrder([...names].reverse()), order);
    for (const [name, peers] of peersOf) {
      assert.equal(peers.length, 2 * K, `${name} watches ${2 * K}`);
      for (const peer of peers) assert.ok(peersOf.get(peer)!.includes(name), `${peer} watches ${name} back`);
      const at = order.indexOf(name);
      assert.deepEqual(new Set(peers), new Set([1, 2, 3, -1, -2, -3].map((step) => order[(at + step + SIZE) % SIZE])), `${name}'s neighbours are the 3 on each side`);
    }
  });

  test('a small ring has each member once: the neighbours never repeat or include the node', () => {
    assert.deepEqual(ringNeighbours(4, 0, 3), [1, 2, 3]);
    assert.deepEqual(ringNeighbours(5, 4, 1), [0, 3]);
  });
});

describe('membership on the ring', () => {
  test('the members come up and every node sees all of them', () => {
    const cluster = settledRing();
    for (const node of cluster.nodes) assert.deepEqual([...cluster.view(node).values()].filter((state) => state !== 'up'), [], `${node.name} sees everyone up`);
    assertAllAgree(cluster);
  });

  test('a killed node is known dead by all within the BFD detection time plus one message, and placement converges', () => {
    const cluster = settledRing();
    const victim = cluster.node('node007');
    const before = owners(cluster).get('node001')!;
    const killedAt = cluster.clock.now();
    cluster.kill(victim);
    cluster.clock.advance(1000);
    const learnt = cluster.observed.filter((seen) => seen.at > killedAt);
    assert.deepEqual(new Set(learnt.map((seen) => `${seen.member} ${seen.up ? 'up' : 'down'}`)), new Set(['node007 down']), 'nothing else changed');
    assert.equal(new Set(learnt.map((seen) => seen.on)).size, SIZE - 1, 'every live node learnt it');
    const last = Math.max(...learnt.map((seen) => seen.at)) - killedAt;
    // The last packet left before the kill and arrived within the latency; the second suspicion takes one more hop.
    assert.ok(last <= DETECTION_MS + 2 * LATENCY_MS, `all knew after ${last} ms`);
    assert.match(learnt[0]!.reason, /lost their BFD sessions with it/);
    assertAllAgree(cluster);
    const after = owners(cluster).get('node001')!;
    assert.ok(!after.includes('node007'));
    for (const [index, owner] of before.entries()) if (owner !== 'node007') assert.equal(after[index], owner, `${VIPS[index]} stays on ${owner}`);
  });

  test('a lost suspicion is repaired by a neighbour\'s digest', () => {
    const cluster = settledRing();
    const victim = cluster.node('node012');
    const deaf = cluster.nodes.find((node) => node !== victim && !aroundOf(cluster, 'node012').neighbours.includes(node.name))!;
    const killedAt = cluster.clock.now();
    const cutUntil = killedAt + 400;
    cluster.drop = (_from, to, kind) => to === deaf && kind === 'membership' && cluster.clock.now() < cutUntil;
    cluster.kill(victim);
    cluster.clock.advance(300);
    assert.equal(cluster.view(deaf).get('node012'), 'up', 'the suspicions were lost on the way');
    cluster.clock.advance(DIGEST_MS + 100);
    const seen = cluster.observed.find((change) => change.at > killedAt && change.on === deaf.name && change.member === 'node012');
    assert.ok(seen, 'the digest told it');
    assert.ok(seen.at <= cutUntil + DIGEST_MS + LATENCY_MS, `learnt at +${seen.at - killedAt} ms`);
    assert.match(seen.reason, /view says so/);
    assertAllAgree(cluster);
  });

  test('one neighbour\'s false report changes nothing, and a non-neighbour\'s is discarded', () => {
    const cluster = settledRing();
    const { neighbours, stranger } = aroundOf(cluster, 'node003');
    const discarded: string[] = [];
    for (const node of cluster.nodes) node.membership!.on('discarded', ({ reason }) => discarded.push(reason));
    const since = cluster.clock.now();
    cluster.broadcast(cluster.node(neighbours[0]!), report(cluster, 'node003', 1, { suspect: true }));
    cluster.broadcast(cluster.node(stranger), report(cluster, 'node003', 1, { suspect: true }));
    cluster.clock.advance(100);
    assert.deepEqual(cluster.observed.filter((seen) => seen.at > since), [], 'nobody changed its view');
    assert.equal(discarded.length, SIZE - 1);
    assert.match(discarded[0]!, new RegExp(`${stranger} is not a ring neighbour of node003`));
    assertAllAgree(cluster);
  });

  test('two neighbours\' false reports are refuted by the live node itself within a round trip', () => {
    const cluster = settledRing();
    const { neighbours } = aroundOf(cluster, 'node003');
    const since = cluster.clock.now();
    for (const name of neighbours.slice(0, 2)) cluster.broadcast(cluster.node(name), report(cluster, 'node003', 1, { suspect: true }));
    cluster.clock.advance(10);
    const changes = cluster.observed.filter((seen) => seen.at > since);
    assert.ok(changes.every((seen) => seen.member === 'node003'));
    assert.ok(changes.filter((seen) => seen.up).every((seen) => /node003's view says so/.test(seen.reason)), 'the refutation is node003\'s own');
    for (const node of cluster.nodes) if (node.name !== 'node003') assert.equal(cluster.view(node).get('node003'), 'up', `${node.name} sees node003 up again`);
    assert.ok(Math.max(...changes.map((seen) => seen.at)) - since <= 2 * LATENCY_MS + 1);
    assertAllAgree(cluster);
  });

  test('a node cut off from BFD takes none of its neighbours down with it, and comes back', () => {
    const cluster = settledRing();
    const stalled = cluster.node('node020');
    const since = cluster.clock.now();
    cluster.drop = (from, to, kind) => kind === 'bfd' && (from === stalled || to === stalled) && cluster.clock.now() < since + 500;
    cluster.clock.advance(400);
    const downs = cluster.observed.filter((seen) => seen.at > since && !seen.up);
    assert.deepEqual(new Set(downs.map((seen) => seen.member)), new Set(['node020']), 'only the cut-off node is down, nowhere else');
    cluster.clock.advance(3000);
    for (const node of cluster.nodes) assert.deepEqual([...cluster.view(node).values()].filter((state) => state !== 'up'), [], `${node.name} sees everyone up again`);
    assertAllAgree(cluster);
  });

  test('a killed node that restarts is reported Up by its neighbours, and learns the view from them', () => {
    const cluster = settledRing();
    const victim = cluster.node('node009');
    cluster.kill(victim);
    cluster.clock.advance(1000);
    const restartedAt = cluster.clock.now();
    cluster.start(victim);
    cluster.clock.advance(3000);
    const ups = cluster.observed.filter((seen) => seen.at > restartedAt && seen.member === 'node009' && seen.up);
    assert.equal(new Set(ups.map((seen) => seen.on)).size, SIZE - 1, 'every node saw it come back');
    assert.deepEqual([...cluster.view(victim).values()].filter((state) => state !== 'up'), [], 'it sees everyone');
    assertAllAgree(cluster);
  });

  test('a planned stop (AdminDown) is known everywhere at once, as leaving', () => {
    const cluster = settledRing();
    const leaving = cluster.node('node015');
    const since = cluster.clock.now();
    leaving.sessions!.adminDown();
    cluster.clock.advance(20);
    const downs = cluster.observed.filter((seen) => seen.at > since && seen.member === 'node015' && !seen.up);
    assert.equal(new Set(downs.map((seen) => seen.on)).size, SIZE - 1);
    assert.ok(downs.every((seen) => seen.leaving));
    assert.ok(Math.max(...downs.map((seen) => seen.at)) - since <= 3 * LATENCY_MS);
  });
});

test('a digest of a large ring goes in messages that need no IP fragmentation', () => {
  const names = Array.from({ length: 400 }, (_, index) => `node${index + 1}`);
  const addressOf = (name: string) => `2001:db8::${names.indexOf(name) + 1}`;
  const clock = new ManualClock();
  const sent: MembershipMessage[] = [];
  const channel = Object.assign(new EventEmitter(), { send: (_to: string, message: MembershipMessage) => void sent.push(message) });
  const config: RingConfig = { self: { name: 'node1', address: addressOf('node1') }, members: names.slice(1).map((name) => ({ name, address: addressOf(name) })), neighbours: 1, digestMs: DIGEST_MS };
  const membership = new Membership(channel, config, clock);
  membership.start();
  const order = ringOrder(names);
  const all = order.map((_, member) => ({ member, version: 1, suspect: false, up: false, leaving: false }));
  channel.emit('message', { from: addressOf('node2'), message: { ring: ringFingerprint(order, 1), entries: all } });
  assert.equal([...membership.states.values()].filter((state) => state === 'up').length, names.length - 1);
  clock.advance(DIGEST_MS);
  membership.stop();
  assert.deepEqual(
    sent.map((message) => message.entries.length),
    [150, 150, 100, 150, 150, 100],
    'three messages to each of the two neighbours',
  );
  assert.ok(Math.max(...sent.map((message) => membershipMessage.encodingLength(message))) <= 1280 - 40 - 8);
});
