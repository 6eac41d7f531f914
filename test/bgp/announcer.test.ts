import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpAnnouncer, NO_ROUTES, type RoutePolicy, type Routes } from '../../src/bgp/announcer.js';
import { handOverConnection } from '../../src/bgp/session.js';
import type { BgpMessage } from '../../src/wire/bgp/message.js';
import { BASE_CONTEXT, IPV4_UNICAST, IPV6_UNICAST } from '../../src/wire/bgp/registry.js';
import { routeAttributes } from '../../src/wire/bgp/route-attributes.js';
import type { UpdateMessage } from '../../src/wire/bgp/update.js';
import { connection, memoryDialer, sendKeepalive, sendOpen, settle } from './memory-socket.js';

const PEER = '192.0.2.1';
const session = { peerAddress: PEER, port: 179, localAs: 64800, peerAs: 65002, routerId: '192.0.2.11', holdTime: 90 };
const plain: RoutePolicy = { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 };

const updates = (received: BgpMessage[]): UpdateMessage[] => received.filter((message): message is UpdateMessage => message.type === 'update');
/** RFC 4724 2: the IPv4 End-of-RIB is an UPDATE with nothing in it. */
const isIpv4EndOfRib = (update: UpdateMessage) => update.withdrawn.length === 0 && update.attributes.length === 0 && update.nlri.length === 0;

/** An announcer whose one peer (eBGP, AS 65002) is in memory and Established; what the peer received. */
async function established(routes: Routes, families = [IPV4_UNICAST]): Promise<{ announcer: BgpAnnouncer; received: BgpMessage[] }> {
  const { dial, peers } = memoryDialer(PEER);
  const announcer = new BgpAnnouncer([{ session, nextHop: '192.0.2.11' }], families, dial);
  announcer.set(routes);
  announcer.start();
  await settle();
  await settle();
  const [peer] = peers;
  assert.ok(peer, 'the announcer connected');
  sendOpen(peer.peer, PEER);
  sendKeepalive(peer.peer);
  for (let turn = 0; turn < 4; turn++) await settle();
  assert.equal(announcer.status[0]!.state, 'Established');
  return { announcer, received: peer.received };
}

test('a new session gets every route, then End-of-RIB for each negotiated family (RFC 4724 4)', async () => {
  const { announcer, received } = await established(new Map([['203.0.113.10/32', plain], ['203.0.113.11/32', plain]]));
  const sent = updates(received);
  assert.deepEqual(sent.flatMap((update) => update.nlri).sort(), ['203.0.113.10/32', '203.0.113.11/32']);
  assert.ok(isIpv4EndOfRib(sent.at(-1)!), 'the last UPDATE is the End-of-RIB');
  assert.equal(sent.filter(isIpv4EndOfRib).length, 1);
  await announcer.stop('test done');
});

test('with nothing to announce, End-of-RIB still goes', async () => {
  const { announcer, received } = await established(NO_ROUTES);
  const sent = updates(received);
  assert.equal(sent.length, 1);
  assert.ok(isIpv4EndOfRib(sent[0]!));
  await announcer.stop('test done');
});

test('each prefix carries its own policy; a policy for other peers is not sent to this one', async () => {
  const tagged: RoutePolicy = { ...plain, med: 7, communities: [64800 * 65536 + 100], asPathPrepend: 1 };
  const elsewhere: RoutePolicy = { ...plain, peers: new Set(['192.0.2.2']) };
  const { announcer, received } = await established(new Map([['203.0.113.10/32', plain], ['203.0.113.20/32', tagged], ['203.0.113.30/32', elsewhere]]));
  const byPrefix = new Map(updates(received).flatMap((update) => update.nlri.map((prefix) => [prefix, routeAttributes(update.attributes, BASE_CONTEXT)] as const)));
  assert.deepEqual([...byPrefix.keys()].sort(), ['203.0.113.10/32', '203.0.113.20/32']);
  assert.deepEqual(byPrefix.get('203.0.113.10/32'), { origin: 'igp', asPath: [{ type: 'sequence', asns: [64800] }], nextHop: '192.0.2.11' });
  assert.deepEqual(byPrefix.get('203.0.113.20/32'), { origin: 'igp', asPath: [{ type: 'sequence', asns: [64800, 64800] }], nextHop: '192.0.2.11', med: 7, communities: [64800 * 65536 + 100] });
  await announcer.stop('test done');
});

test('a change sends only the difference, and no second End-of-RIB', async () => {
  const { announcer, received } = await established(new Map([['203.0.113.10/32', plain], ['203.0.113.11/32', plain]]));
  const before = updates(received).length;
  announcer.set(new Map([['203.0.113.11/32', plain], ['203.0.113.12/32', plain]]));
  await settle();
  await settle();
  const change = updates(received).slice(before);
  assert.deepEqual(change.flatMap((update) => update.withdrawn), ['203.0.113.10/32']);
  assert.deepEqual(change.flatMap((update) => update.nlri), ['203.0.113.12/32']);
  assert.equal(change.filter(isIpv4EndOfRib).length, 0);
  await announcer.stop('test done');
});

test('stop withdraws everything before the Cease', async () => {
  const { announcer, received } = await established(new Map([['203.0.113.10/32', plain]]));
  const before = received.length;
  await announcer.stop('maintenance');
  await settle();
  const after = received.slice(before);
  assert.deepEqual(after.map((message) => message.type), ['update', 'notification']);
  assert.deepEqual((after[0] as UpdateMessage).withdrawn, ['203.0.113.10/32']);
});

test('IPv6 routes to a peer that negotiated only IPv4 are skipped, with the reason', async () => {
  const skipped: string[] = [];
  const { dial, peers } = memoryDialer(PEER);
  const announcer = new BgpAnnouncer([{ session, nextHop: '192.0.2.11', nextHopV6: '2001:db8:2::11' }], [IPV4_UNICAST, IPV6_UNICAST], dial);
  announcer.on('skipped', ({ family, count, reason }) => skipped.push(`${family} ${count} ${reason}`));
  announcer.set(new Map([['203.0.113.10/32', plain], ['2001:db8:100::10/128', plain]]));
  announcer.start();
  await settle();
  await settle();
  sendOpen(peers[0]!.peer, PEER);
  sendKeepalive(peers[0]!.peer);
  for (let turn = 0; turn < 4; turn++) await settle();
  assert.deepEqual(skipped, ['ipv6-unicast 1 the peer did not negotiate ipv6-unicast']);
  assert.deepEqual(updates(peers[0]!.received).flatMap((update) => update.nlri), ['203.0.113.10/32']);
  await announcer.stop('test done');
});

/** announce --accept-incoming: a connection a peer opens reaches its session, which announces over it. */
test('a connection the peer opens is handed to its session, which announces over it; strangers get a Cease', async () => {
  const announcer = new BgpAnnouncer([{ session, nextHop: '192.0.2.11' }], [IPV4_UNICAST]);
  announcer.set(new Map([['203.0.113.10/32', plain]]));
  const sessionFor = (from: string) => announcer.sessionOf(from) ?? `${from} is not a peer`;
  // Not started: the only connection is the one the peer opens.
  const fromPeer = connection(PEER);
  handOverConnection(fromPeer.ours, sessionFor);
  await settle();
  sendOpen(fromPeer.peer, PEER);
  sendKeepalive(fromPeer.peer);
  await settle();
  await settle();
  assert.equal(announcer.status[0]!.state, 'Established');
  assert.deepEqual(fromPeer.received.map((message) => message.type), ['open', 'keepalive', 'update', 'update']);

  const stranger = connection('192.0.2.99');
  assert.deepEqual(handOverConnection(stranger.ours, sessionFor), { address: '192.0.2.99', refused: '192.0.2.99 is not a peer' });
  await settle();
  const [refusal] = stranger.received;
  assert.ok(refusal?.type === 'notification' && refusal.code === 6 && refusal.subcode === 5, 'Cease / Connection Rejected');
  await announcer.stop('test done');
});

test('a new next hop goes out as UPDATEs on the session as it is; no reset', async () => {
  const { announcer, received } = await established(new Map([['203.0.113.10/32', plain]]));
  const events: string[] = [];
  announcer.on('configured', ({ change }) => events.push(change));
  const before = received.length;
  announcer.configure([{ session, nextHop: '192.0.2.99' }]);
  await settle();
  const after = received.slice(before);
  assert.deepEqual(after.map((message) => message.type), ['update']);
  assert.equal(routeAttributes((after[0] as UpdateMessage).attributes, BASE_CONTEXT).nextHop, '192.0.2.99');
  assert.deepEqual(events, []);
  assert.equal(announcer.status[0]!.state, 'Established');
  await announcer.stop('test done');
});

test('a changed session parameter resets that session with a Cease / Other Configuration Change (RFC 4486), saying which; a removed peer gets Peer De-configured', async () => {
  const { announcer, received } = await established(new Map([['203.0.113.10/32', plain]]));
  const events: string[] = [];
  announcer.on('configured', ({ change, reason }) => events.push(`${change}: ${reason}`));
  announcer.configure([{ session: { ...session, holdTime: 30 }, nextHop: '192.0.2.11' }]);
  await settle();
  const reset = received.at(-1);
  assert.ok(reset?.type === 'notification' && reset.code === 6 && reset.subcode === 6, 'Cease / Other Configuration Change');
  assert.deepEqual(events, ['reset: holdTime 90 -> 30']);
  assert.equal(announcer.status.length, 1);

  announcer.configure([{ session: { ...session, holdTime: 30, password: 'new' }, nextHop: '192.0.2.11' }]);
  assert.equal(events.at(-1), 'reset: the password changed', 'a password is never written out');
  announcer.configure([]);
  assert.equal(events.at(-1), 'removed: no longer configured');
  assert.equal(announcer.status.length, 0);
  await announcer.stop('test done');
});

test('closing for a restart withdraws nothing and sends no NOTIFICATION: the connection just closes (RFC 4724 4.2)', async () => {
  const { announcer, received } = await established(new Map([['203.0.113.10/32', plain]]));
  const before = received.length;
  await announcer.closeForRestart();
  await settle();
  assert.deepEqual(received.slice(before), []);
  assert.equal(announcer.status[0]!.state, 'Idle');
});

test('graceful restart is advertised with its restart time and forwarding state preserved for each family (RFC 4724 3)', async () => {
  const { dial, peers } = memoryDialer(PEER);
  const announcer = new BgpAnnouncer([{ session: { ...session, gracefulRestart: { restartTime: 120 } }, nextHop: '192.0.2.11' }], [IPV4_UNICAST, IPV6_UNICAST], dial);
  announcer.start();
  await settle();
  await settle();
  const open = peers[0]!.received[0];
  assert.ok(open?.type === 'open');
  const restart = open.capabilities.find((capability) => capability.type === 'graceful-restart');
  assert.deepEqual(restart, {
    type: 'graceful-restart',
    restarting: false,
    notification: false,
    restartTime: 120,
    families: [
      { ...IPV4_UNICAST, forwardingState: true },
      { ...IPV6_UNICAST, forwardingState: true },
    ],
  });
  await announcer.stop('test done');
});
