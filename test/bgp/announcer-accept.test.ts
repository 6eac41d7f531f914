import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpAnnouncer } from '../../src/bgp/announcer.js';
import { IPV4_UNICAST } from '../../src/wire/bgp/registry.js';
import { connection, sendKeepalive, sendOpen, settle } from './memory-socket.js';

/** announce --accept-incoming: a connection a peer opens reaches its session, which announces over it. */
test('the announcer hands a peer connection to its session and announces over it; strangers get a Cease', async () => {
  const session = { peerAddress: '192.0.2.1', port: 179, localAs: 64800, peerAs: 65002, routerId: '192.0.2.11', holdTime: 90 };
  const announcer = new BgpAnnouncer([{ session, nextHop: '192.0.2.11' }], [IPV4_UNICAST], { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 });
  const rejected: string[] = [];
  announcer.on('rejected', ({ address }) => rejected.push(address));
  announcer.set({ prefixes: () => ['203.0.113.10/32'] });
  // Not started: the only connection is the one the peer opens.
  const fromPeer = connection('192.0.2.1');
  announcer.accept(fromPeer.ours);
  await settle();
  sendOpen(fromPeer.peer, '192.0.2.1');
  sendKeepalive(fromPeer.peer);
  await settle();
  await settle();
  assert.equal(announcer.status[0]!.state, 'Established');
  assert.deepEqual(fromPeer.received.map((message) => message.type), ['open', 'keepalive', 'update']);

  const stranger = connection('192.0.2.99');
  announcer.accept(stranger.ours);
  await settle();
  assert.deepEqual(rejected, ['192.0.2.99']);
  const [refusal] = stranger.received;
  assert.ok(refusal?.type === 'notification' && refusal.code === 6 && refusal.subcode === 5, 'Cease / Connection Rejected');
  await announcer.stop('test done');
});
