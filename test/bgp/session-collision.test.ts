import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BgpSession, type SessionConfig } from '../../src/bgp/session.js';
import type { StateName } from '../../src/bgp/fsm.js';
import { IPV4_UNICAST } from '../../src/wire/bgp/registry.js';
import { connection, isCollisionCease, sendKeepalive, sendOpen, settle } from './memory-socket.js';

/**
 * RFC 4271 6.8 on a session holding the connection it opened and the one the peer
 * opened, over in-memory sockets: the test plays the peer on both.
 */

const PEER_ID = '192.0.2.100';

function config(routerId: string): SessionConfig {
  return { peerAddress: '192.0.2.1', port: 179, localAs: 64800, peerAs: 65002, routerId, holdTime: 90, families: [IPV4_UNICAST], passive: false };
}

/** A session whose outgoing connection is up and sent its OPEN, and which accepted the peer's connection. */
async function collidingSession(routerId: string) {
  const outgoing = connection();
  const incoming = connection();
  const session = new BgpSession(config(routerId), () => outgoing.ours);
  const states: { from: StateName; to: StateName; reason: string }[] = [];
  const sent: { subcode: number; reason: string }[] = [];
  let established = 0;
  session.on('state', (change) => states.push(change));
  session.on('notification-sent', ({ notification, reason }) => sent.push({ subcode: notification.subcode, reason }));
  session.on('established', () => established++);
  session.start();
  outgoing.ours.emit('connect');
  assert.equal(session.accept(incoming.ours), undefined, 'the peer connection is taken beside ours');
  await settle();
  assert.deepEqual([outgoing.received.map((m) => m.type), incoming.received.map((m) => m.type)], [['open'], ['open']]);
  return { session, outgoing, incoming, states, sent, established: () => established };
}

describe('connection collision (RFC 4271 6.8)', () => {
  for (const [routerId, lower] of [['192.0.2.11', true], ['198.51.100.1', false]] as const) {
    const loserName = lower ? 'outgoing' : 'incoming';
    test(`our identifier ${routerId} is ${lower ? 'lower' : 'higher'} than ${PEER_ID}: the ${loserName} connection is closed`, async () => {
      const run = await collidingSession(routerId);
      // The peer answers on its own connection first, then on ours: the collision comes with the second OPEN.
      sendOpen(run.incoming.peer, PEER_ID);
      await settle();
      assert.equal(run.session.state, 'OpenConfirm');
      sendOpen(run.outgoing.peer, PEER_ID);
      await settle();
      const loser = lower ? run.outgoing : run.incoming;
      const winner = lower ? run.incoming : run.outgoing;
      assert.ok(isCollisionCease(loser.received.at(-1)), `Cease / Connection Collision Resolution on the ${loserName} connection: ${JSON.stringify(loser.received.at(-1))}`);
      assert.ok(!winner.received.some((message) => message.type === 'notification'), 'nothing closes the other connection');
      assert.equal(run.sent.length, 1);
      assert.match(run.sent[0]!.reason, /connection collision \(RFC 4271 6\.8\)/);
      assert.match(run.sent[0]!.reason, lower ? /lower than the peer's 192\.0\.2\.100, so the connection we opened closes \(on the connection we opened\)$/ : /higher than the peer's 192\.0\.2\.100, so the connection the peer opened closes \(on the connection the peer opened\)$/);
      sendKeepalive(winner.peer);
      await settle();
      assert.equal(run.session.state, 'Established');
      assert.equal(run.established(), 1);
      assert.deepEqual(run.states.at(-1)?.to, 'Established');
      assert.ok(run.states.every((change) => change.reason.length > 0 && change.from !== change.to), 'every state event is a change, with its reason');
      const late = connection();
      assert.match(run.session.accept(late.ours) ?? '', /already Established/, 'a connection to an Established session is refused');
      await settle();
      assert.ok(isCollisionCease(late.received[0]));
      await run.session.stop('test done');
    });
  }

  test('the OPEN on the connection we opened arrives first: the tie-break is the same', async () => {
    const run = await collidingSession('192.0.2.11');
    sendOpen(run.outgoing.peer, PEER_ID);
    await settle();
    sendOpen(run.incoming.peer, PEER_ID);
    await settle();
    assert.ok(isCollisionCease(run.outgoing.received.at(-1)), 'our identifier is lower: the connection we opened goes');
    assert.equal(run.session.state, 'OpenConfirm');
    sendKeepalive(run.incoming.peer);
    await settle();
    assert.equal(run.established(), 1);
    await run.session.stop('test done');
  });

  test('reaching Established closes the other connection still in its OPEN exchange', async () => {
    const run = await collidingSession('198.51.100.1');
    sendOpen(run.incoming.peer, PEER_ID);
    await settle();
    sendKeepalive(run.incoming.peer);
    await settle();
    assert.equal(run.session.state, 'Established');
    assert.ok(isCollisionCease(run.outgoing.received.at(-1)), 'the connection we opened, in OpenSent, gets the Cease');
    assert.match(run.sent[0]!.reason, /established on the other connection, so this one closes \(on the connection we opened\)$/);
    await run.session.stop('test done');
  });
});
