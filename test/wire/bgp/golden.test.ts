import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bgpMessage,
  type BgpMessage,
  decodeMessage,
  describeNotification,
  endOfRib,
  formatAsPath,
  formatCommunity,
  formatLargeCommunity,
  IPV4_UNICAST,
  IPV6_UNICAST,
  negotiate,
  type OpenMessage,
  routeAttributes,
  type SessionCodecContext,
  type UpdateMessage,
  validateOpen,
} from '../../../src/wire/bgp/index.js';
import { assertRoundTrip } from '../round-trip.js';
import { bgpFixture, loadBgpFixtures } from './bgp-fixtures.js';

// Real messages from BIRD 2.0.12 and GoBGP 3.10.0 (test/fixtures/bgp/README.md): each is
// decoded, its fields asserted, and re-encoded to the very same bytes.
const FOUR_OCTET: SessionCodecContext = { fourOctetAs: true, extendedMessage: false };
const TWO_OCTET: SessionCodecContext = { fourOctetAs: false, extendedMessage: false };

/** The one session in which each fixture was sent. */
const CONTEXT_OF: Record<string, SessionCodecContext> = { 'gobgp-update-as4-path': TWO_OCTET };

const checked = new Set<string>();

function golden<T extends BgpMessage>(name: string, type: T['type']): T {
  checked.add(name);
  const bytes = bgpFixture(name);
  const codec = bgpMessage(CONTEXT_OF[name] ?? FOUR_OCTET);
  const message = codec.decode(bytes);
  assert.equal(message.type, type);
  assert.deepEqual(codec.encode(message), bytes, `${name} re-encodes byte for byte`);
  assertRoundTrip(codec, message);
  return message as T;
}

function update(name: string): UpdateMessage {
  const message = golden<UpdateMessage>(name, 'update');
  assert.equal(message.errors, undefined, `${name} decodes without RFC 7606 errors`);
  return message;
}

function routeText(message: UpdateMessage, context = FOUR_OCTET): Record<string, unknown> {
  const route = routeAttributes(message.attributes, context);
  return {
    ...route,
    ...(route.asPath ? { asPath: formatAsPath(route.asPath) } : {}),
    ...(route.communities ? { communities: route.communities.map(formatCommunity) } : {}),
    ...(route.largeCommunities ? { largeCommunities: route.largeCommunities.map(formatLargeCommunity) } : {}),
  };
}

describe('BGP messages captured from BIRD and GoBGP', () => {
  it('OPEN from BIRD: MP IPv4+IPv6, route refresh, extended message, GR, 4-octet AS, ERR, LLGR', () => {
    const open = golden<OpenMessage>('bird-open', 'open');
    assert.deepEqual(
      { ...open, capabilities: undefined },
      { type: 'open', version: 4, myAs: 65002, holdTime: 240, bgpIdentifier: '192.0.2.1', capabilities: undefined },
    );
    assert.deepEqual(open.capabilities, [
      { type: 'multiprotocol', afi: 1, safi: 1 },
      { type: 'multiprotocol', afi: 2, safi: 1 },
      { type: 'route-refresh' },
      { type: 'extended-message' },
      {
        type: 'graceful-restart',
        restarting: false,
        notification: false,
        restartTime: 120,
        families: [
          { afi: 1, safi: 1, forwardingState: false },
          { afi: 2, safi: 1, forwardingState: false },
        ],
      },
      { type: 'four-octet-as', asn: 65002 },
      { type: 'enhanced-route-refresh' },
      { type: 'unknown', code: 71, value: Buffer.alloc(0) },
    ]);
  });

  it('OPEN from GoBGP: FQDN and extended next hop kept as unknown capabilities', () => {
    const open = golden<OpenMessage>('gobgp-open', 'open');
    assert.equal(open.myAs, 64800);
    assert.equal(open.holdTime, 90);
    assert.deepEqual(
      open.capabilities.map((capability) => (capability.type === 'unknown' ? `unknown ${capability.code}` : capability.type)),
      ['route-refresh', 'unknown 73', 'multiprotocol', 'multiprotocol', 'four-octet-as', 'graceful-restart', 'unknown 5'],
    );
  });

  it('OPEN from BIRD without 4-octet AS (enable as4 off), GR in helper mode', () => {
    const open = golden<OpenMessage>('bird-open-2-octet-as', 'open');
    assert.ok(!open.capabilities.some((capability) => capability.type === 'four-octet-as'));
    assert.deepEqual(open.capabilities[2], { type: 'graceful-restart', restarting: false, notification: false, restartTime: 120, families: [] });
  });

  it('the two OPENs validate and negotiate as BIRD and GoBGP did', () => {
    const bird = golden<OpenMessage>('bird-open', 'open');
    const gobgp = golden<OpenMessage>('gobgp-open', 'open');
    validateOpen(gobgp, { expectedPeerAs: 64800, localRouterId: '192.0.2.1', localAs: 65002 });
    const session = negotiate(bird, gobgp);
    assert.deepEqual(
      { ...session, gracefulRestart: undefined },
      {
        peerAs: 64800,
        peerRouterId: '192.0.2.11',
        holdTime: 90,
        keepaliveTime: 30,
        families: [IPV4_UNICAST, IPV6_UNICAST],
        fourOctetAs: true,
        extendedMessage: false,
        routeRefresh: true,
        enhancedRouteRefresh: false,
        gracefulRestart: undefined,
        context: FOUR_OCTET,
      },
    );
    assert.equal(session.gracefulRestart?.restartTime, 120);
  });

  it('KEEPALIVE', () => {
    assert.deepEqual(golden('bird-keepalive', 'keepalive'), { type: 'keepalive' });
  });

  it('UPDATE from BIRD: IPv4 with MED, communities and a large community', () => {
    const message = update('bird-update-ipv4');
    assert.deepEqual(message.nlri, ['198.51.100.0/24', '203.0.113.0/25']);
    assert.deepEqual(routeText(message), {
      origin: 'igp',
      asPath: '65002',
      nextHop: '192.0.2.1',
      med: 42,
      communities: ['65002:100', 'NO_EXPORT'],
      largeCommunities: ['65002:7:8'],
    });
  });

  it('UPDATE from BIRD: IPv6 in MP_REACH with a global and a link-local next hop', () => {
    const message = update('bird-update-ipv6');
    const [mpReach] = message.attributes;
    // BIRD sets Extended Length on a 44-byte value; the flags are kept to re-encode exactly.
    assert.deepEqual(mpReach, {
      type: 'mp-reach',
      afi: 2,
      safi: 1,
      flags: 0x90,
      nextHop: '2001:db8:2::1',
      linkLocalNextHop: 'fe80::5eff:fe10:1',
      prefixes: ['2001:db8:100::/48'],
    });
    assert.equal(routeText(message)['asPath'], '65002');
  });

  it('UPDATEs from GoBGP: community, AS_SET, IPv6', () => {
    const community = update('gobgp-update-community');
    assert.deepEqual(community.nlri, ['203.0.113.5/32']);
    assert.deepEqual(routeText(community), { origin: 'incomplete', asPath: '64800', nextHop: '192.0.2.11', communities: ['64800:100'] });

    const asSet = update('gobgp-update-as-set');
    assert.deepEqual(asSet.nlri, ['198.51.100.128/25']);
    assert.deepEqual(routeText(asSet), {
      origin: 'incomplete',
      asPath: '64800 64512 {64513 64514}',
      nextHop: '192.0.2.11',
      med: 7,
      communities: ['NO_EXPORT', '64800:200'],
      largeCommunities: ['64800:1:2'],
    });

    const ipv6 = update('gobgp-update-ipv6');
    const mpReach = ipv6.attributes.find((attribute) => attribute.type === 'mp-reach');
    assert.deepEqual(mpReach, { type: 'mp-reach', afi: 2, safi: 1, nextHop: '2001:db8:2::11', prefixes: ['2001:db8:200::/48'] });
  });

  it('UPDATE from GoBGP to a 2-octet session: AS_TRANS, AS4_PATH and AS4_AGGREGATOR merged', () => {
    const message = golden<UpdateMessage>('gobgp-update-as4-path', 'update');
    const asPath = message.attributes.find((attribute) => attribute.type === 'as-path');
    assert.deepEqual(asPath, { type: 'as-path', segments: [{ type: 'sequence', asns: [64800, 23456, 64512] }] });
    assert.deepEqual(routeText(message, TWO_OCTET), {
      origin: 'incomplete',
      asPath: '64800 65550 64512',
      aggregator: { asn: 65550, address: '192.0.2.99' },
      nextHop: '192.0.2.11',
    });
  });

  it('withdrawals: IPv4 in Withdrawn Routes, IPv6 in MP_UNREACH', () => {
    assert.deepEqual(update('gobgp-withdraw-ipv4'), { type: 'update', withdrawn: ['203.0.113.5/32'], attributes: [], nlri: [] });
    assert.deepEqual(update('gobgp-withdraw-ipv6').attributes, [{ type: 'mp-unreach', afi: 2, safi: 1, prefixes: ['2001:db8:200::/48'] }]);
    assert.equal(endOfRib(update('gobgp-withdraw-ipv6')), undefined);
  });

  it('End-of-RIB from both, for both families', () => {
    for (const speaker of ['bird', 'gobgp']) {
      assert.deepEqual(endOfRib(update(`${speaker}-eor-ipv4`)), IPV4_UNICAST);
      assert.deepEqual(endOfRib(update(`${speaker}-eor-ipv6`)), IPV6_UNICAST);
    }
  });

  it('ROUTE-REFRESH from BIRD (birdc reload in) for each family', () => {
    assert.deepEqual(golden('bird-route-refresh-ipv4', 'route-refresh'), { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
    assert.deepEqual(golden('bird-route-refresh-ipv6', 'route-refresh'), { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 });
  });

  it('NOTIFICATIONs: BIRD shutdown with a communication, GoBGP Bad Peer AS', () => {
    const shutdown = golden('bird-notification-shutdown', 'notification');
    assert.deepEqual({ ...shutdown, data: undefined }, { type: 'notification', code: 6, subcode: 2, communication: 'maintenance window', data: undefined });
    assert.equal(describeNotification(6, 2), 'Cease / Administrative Shutdown');
    assert.deepEqual(golden('gobgp-notification-bad-peer-as', 'notification'), { type: 'notification', code: 2, subcode: 2 });
    assert.equal(describeNotification(2, 2), 'OPEN Message Error / Bad Peer AS');
  });

  it('decodeMessage reads every fixture, and every fixture is checked above', () => {
    for (const [name, bytes] of loadBgpFixtures()) decodeMessage(bytes, CONTEXT_OF[name] ?? FOUR_OCTET);
    assert.deepEqual([...loadBgpFixtures().keys()].filter((name) => !checked.has(name)), []);
  });
});
