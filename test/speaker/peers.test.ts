import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Peer } from '../../src/pools/model.js';
import { announcerPeer, type SessionDefaults } from '../../src/speaker/peers.js';
import { SpeakerConfigError } from '../../src/speaker/speaker.js';

const at = { source: '--peer', column: 1 };
const peer = (fields: Partial<Peer>): Peer => ({ address: '192.0.2.1', asn: 65002, myAsn: 64800, nodeSelectors: [], at, ...fields });
// Next hops and the router id given: nothing here depends on this host's interfaces.
const defaults: SessionDefaults = { port: 179, holdTime: 90, routerId: '192.0.2.11', nextHop: '192.0.2.11', nextHopV6: '2001:db8:2::11' };
const both = new Set([4, 6] as const);

describe('a configured peer as a session from this host', () => {
  test('the global flags fill in what the peer does not say; what it says wins', () => {
    assert.deepEqual(announcerPeer(peer({}), defaults, both), {
      session: { peerAddress: '192.0.2.1', port: 179, localAs: 64800, peerAs: 65002, routerId: '192.0.2.11', holdTime: 90, ttl: 1 },
      nextHop: '192.0.2.11',
      nextHopV6: '2001:db8:2::11',
    });
    const own = announcerPeer(peer({ port: 1179, holdTime: 9, keepaliveTime: 3, routerId: '192.0.2.99', sourceAddress: '192.0.2.12' }), defaults, both);
    assert.deepEqual(own.session, { peerAddress: '192.0.2.1', port: 1179, localAddress: '192.0.2.12', localAs: 64800, peerAs: 65002, routerId: '192.0.2.99', holdTime: 9, keepaliveTime: 3, ttl: 1 });
  });

  test('without a router id anywhere, an IPv4 source address is the router id', () => {
    const { routerId: _unused, ...withoutRouterId } = defaults;
    assert.equal(announcerPeer(peer({ sourceAddress: '192.0.2.12' }), withoutRouterId, both).session.routerId, '192.0.2.12');
  });

  test('what a session cannot be started with is refused in one sentence', () => {
    const refused: [Partial<Peer>, Partial<SessionDefaults>, RegExp][] = [
      [{ asn: undefined }, {}, /--peer 192\.0\.2\.1 has no AS number: add asn=<n> to it, or give --peer-asn/],
      [{ myAsn: undefined }, {}, /our AS number is unknown: give --my-asn/],
      [{ password: 'x'.repeat(81) }, {}, /--peer 192\.0\.2\.1: .*80/],
      [{ sourceAddress: '2001:db8:2::11' }, {}, /source address 2001:db8:2::11 is not of the peer's address family/],
      [{}, { nextHop: '2001:db8::1' }, /--next-hop 2001:db8::1 is not an IPv4 address/],
      [{}, { nextHop: '0.0.0.0' }, /--next-hop 0\.0\.0\.0 is in 0\.0\.0\.0\/8/],
      [{}, { nextHopV6: 'ff02::1' }, /--next-hop-v6 ff02::1 is a multicast address/],
    ];
    for (const [fields, flags, message] of refused) {
      assert.throws(() => announcerPeer(peer(fields), { ...defaults, ...flags }, both), (error: Error) => error instanceof SpeakerConfigError && message.test(error.message), message.source);
    }
  });

  test('an eBGP peer gets TTL 1 as routers give it, 255 with ebgp-multihop; iBGP keeps the kernel\'s; a password is the session\'s TCP-MD5 key', () => {
    assert.equal(announcerPeer(peer({ ebgpMultiHop: false }), defaults, both).session.ttl, 1);
    assert.equal(announcerPeer(peer({ ebgpMultiHop: true }), defaults, both).session.ttl, 255);
    assert.equal(announcerPeer(peer({ asn: 64800 }), defaults, both).session.ttl, undefined);
    assert.equal(announcerPeer(peer({ password: 'secret' }), defaults, both).session.password, 'secret');
  });
});
