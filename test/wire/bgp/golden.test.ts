import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bgpMessage,
  type BgpMessage,
  decodeMessage,
  describeCapability,
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
  routeJson,
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

/** BIRD and ExaBGP both advertised ADD-PATH send/receive for IPv4 and IPv6 unicast. */
const ADD_PATH: SessionCodecContext = { ...FOUR_OCTET, addPath: [IPV4_UNICAST, IPV6_UNICAST] };

/** The one session in which each fixture was sent. */
const CONTEXT_OF: Record<string, SessionCodecContext> = {
  'gobgp-update-as4-path': TWO_OCTET,
  'exabgp-update-2-octet-as': TWO_OCTET,
  'bird-update-mp-ipv4-add-path': ADD_PATH,
  'exabgp-update-extended-communities': ADD_PATH,
  'exabgp-update-cluster-list': ADD_PATH,
  'exabgp-update-aigp': ADD_PATH,
  'exabgp-update-otc': ADD_PATH,
  'exabgp-update-unknown-attribute': ADD_PATH,
  'exabgp-update-extended-next-hop': ADD_PATH,
  'exabgp-update-ipv6-extended-community': ADD_PATH,
};

const checked = new Set<string>();

/** ExaBGP puts each capability in an Optional Parameter of its own (RFC 5492 4 allows
 *  it); vipkit writes them all in one, so these re-encode to other, equivalent bytes. */
const ONE_PARAMETER_PER_CAPABILITY = new Set(['exabgp-open-add-path', 'exabgp-open-2-octet-as']);

function golden<T extends BgpMessage>(name: string, type: T['type']): T {
  checked.add(name);
  const bytes = bgpFixture(name);
  const codec = bgpMessage(CONTEXT_OF[name] ?? FOUR_OCTET);
  const message = codec.decode(bytes);
  assert.equal(message.type, type);
  if (ONE_PARAMETER_PER_CAPABILITY.has(name)) assert.deepEqual(codec.decode(codec.encode(message)), message, `${name} re-encodes to the same message`);
  else assert.deepEqual(codec.encode(message), bytes, `${name} re-encodes byte for byte`);
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

  it('OPEN from GoBGP: FQDN kept as an unknown capability, extended next hop decoded', () => {
    const open = golden<OpenMessage>('gobgp-open', 'open');
    assert.equal(open.myAs, 64800);
    assert.equal(open.holdTime, 90);
    assert.deepEqual(
      open.capabilities.map((capability) => (capability.type === 'unknown' ? `unknown ${capability.code}` : capability.type)),
      ['route-refresh', 'unknown 73', 'multiprotocol', 'multiprotocol', 'four-octet-as', 'graceful-restart', 'extended-next-hop'],
    );
    // tshark: "Extended Next Hop Encoding: NLRI AFI IPv4, NLRI SAFI Unicast, Nexthop AFI IPv6".
    assert.equal(describeCapability(open.capabilities[6]!), 'extended-next-hop ipv4-unicast via ipv6');
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
        context: { ...FOUR_OCTET, families: [IPV4_UNICAST, IPV6_UNICAST], addPath: [] },
        peerContext: { ...FOUR_OCTET, families: [IPV4_UNICAST, IPV6_UNICAST], addPath: [] },
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
});

// BIRD 2.0.12 and ExaBGP 4.2.21 (capture-extensions.sh; README.md): what routers send
// beyond plain unicast. tshark's reading of each is quoted where it names the field.
describe('BGP messages captured from BIRD and ExaBGP', () => {
  const json = (name: string): Record<string, unknown> => {
    const message = update(name);
    return JSON.parse(JSON.stringify(routeJson(routeAttributes(message.attributes, CONTEXT_OF[name]!), false))) as Record<string, unknown>;
  };

  it('OPENs: ADD-PATH, extended next hop, BGP role decoded; the negotiation gives path ids both ways', () => {
    const bird = golden<OpenMessage>('bird-open-role-add-path', 'open');
    const exabgp = golden<OpenMessage>('exabgp-open-add-path', 'open');
    assert.deepEqual(bird.capabilities.map(describeCapability), [
      'multiprotocol ipv4-unicast',
      'multiprotocol ipv4-multicast',
      'multiprotocol ipv6-unicast',
      'route-refresh',
      'extended-next-hop ipv4-unicast via ipv6',
      'bgp-role provider',
      'graceful-restart restart-time=120s',
      'four-octet-as 65002',
      'add-path ipv4-unicast send/receive,ipv6-unicast send/receive',
      'enhanced-route-refresh',
      'long-lived-graceful-restart (code 71)',
    ]);
    assert.ok(exabgp.capabilities.map(describeCapability).includes('add-path ipv4-unicast send/receive,ipv6-unicast send/receive'));
    const session = negotiate(bird, exabgp);
    assert.deepEqual(session.families, [IPV4_UNICAST, { afi: 1, safi: 2 }, IPV6_UNICAST]);
    assert.deepEqual(session.peerContext.addPath, [IPV4_UNICAST, IPV6_UNICAST]);
    assert.deepEqual(session.context.addPath, [IPV4_UNICAST, IPV6_UNICAST]);
    // Receive only on our side: the peer sends path ids, we do not.
    const receiveOnly: OpenMessage = { ...bird, capabilities: [...bird.capabilities.filter((c) => c.type !== 'add-path'), { type: 'add-path', families: [{ ...IPV4_UNICAST, send: false, receive: true }] }] };
    assert.deepEqual([negotiate(receiveOnly, exabgp).peerContext.addPath, negotiate(receiveOnly, exabgp).context.addPath], [[IPV4_UNICAST], []]);
    const old = golden<OpenMessage>('exabgp-open-2-octet-as', 'open');
    assert.equal(negotiate(bird, old).peerContext.fourOctetAs, false);
  });

  it('ADD-PATH: IPv4 unicast in MP_REACH with path id 2 (tshark: NLRI path id 2), route targets, route origin, OTC', () => {
    const message = update('bird-update-mp-ipv4-add-path');
    assert.deepEqual(message.attributes[0], { type: 'mp-reach', afi: 1, safi: 1, flags: 0x90, nextHop: '192.0.2.13', prefixes: ['203.0.113.0/25'], pathIds: [2] });
    // tshark: Route Target 65002:100 [2-Octet AS], Route Origin 192.0.2.1:7 [IPv4], Route Target 1.14(65550):200 [4-Octet AS].
    assert.deepEqual(json('bird-update-mp-ipv4-add-path'), {
      next_hop: '192.0.2.13',
      as_path: '65002',
      origin: 'igp',
      extended_communities: ['RT:65002:100', 'SoO:192.0.2.1:7', 'RT:65550:200'],
      otc: 65002,
    });
  });

  it('extended communities as sent by ExaBGP, and ORIGINATOR_ID', () => {
    assert.deepEqual(update('exabgp-update-extended-communities').nlriPathIds, [1]);
    // tshark: "Route Origin: 49152:33619975 [Transitive 2-Octet AS-Specific]" (ExaBGP wrote
    // origin:192.0.2.1:7 with the 2-octet AS type), "Link Bandwidth: ASN 65002, 1000.000
    // Mbps" (125,000,000 bytes/s), "Encapsulation: VXLAN", "Originator identifier: 192.0.2.99".
    assert.deepEqual(json('exabgp-update-extended-communities'), {
      next_hop: '192.0.2.11',
      as_path: '64800',
      origin: 'igp',
      extended_communities: ['RT:65002:100', 'SoO:49152:33619975', 'RT:65550:200', 'LB:65002:125000000', 'encap:VXLAN'],
      originator_id: '192.0.2.99',
    });
  });

  it('CLUSTER_LIST, AIGP, OTC and an unknown attribute, each by name', () => {
    assert.deepEqual(json('exabgp-update-cluster-list')['cluster_list'], ['192.0.2.1', '192.0.2.2']);
    assert.equal(json('exabgp-update-aigp')['aigp'], 42);
    assert.equal(json('exabgp-update-otc')['otc'], 64800);
    assert.deepEqual(json('exabgp-update-unknown-attribute')['unknown_attributes'], ['attribute 99 (flags 0xc0, 2 bytes): abcd']);
    assert.deepEqual(update('exabgp-update-aigp').nlriPathIds, [3]);
  });

  it('extended next hop: IPv4 prefix, IPv6 next hop (RFC 8950), and an IPv6 extended community', () => {
    const nextHop = update('exabgp-update-extended-next-hop');
    assert.deepEqual(nextHop.attributes[2], { type: 'mp-reach', afi: 1, safi: 1, nextHop: '2001:db8:2::11', prefixes: ['203.0.113.192/26'], pathIds: [6] });
    assert.equal(json('exabgp-update-extended-next-hop')['next_hop'], '2001:db8:2::11');
    assert.deepEqual(json('exabgp-update-ipv6-extended-community')['ipv6_extended_communities'], ['RT:[2001:db8::1]:100']);
  });

  it('IPv4 multicast: a family kept by AFI/SAFI with its NLRI octets, and its End-of-RIB', () => {
    const multicast = update('bird-update-ipv4-multicast');
    assert.deepEqual(multicast.attributes[0], { type: 'mp-reach-undecoded', afi: 1, safi: 2, flags: 0x90, nextHop: Buffer.from([192, 0, 2, 1]), nlri: Buffer.from('18c63364', 'hex') });
    assert.deepEqual(endOfRib(update('bird-eor-ipv4-multicast')), { afi: 1, safi: 2 });
  });

  it('BGPsec (RFC 8208 Appendix A): BGPsec_PATH stands in for AS_PATH, the route stays announced', () => {
    const message = update('rfc8208-update-bgpsec');
    const route = routeAttributes(message.attributes, FOUR_OCTET);
    // tshark: Secure Path segments pCount 1 AS 65536, pCount 1 AS 64496; Signature Block Algo ID 1, two segments.
    assert.deepEqual(JSON.parse(JSON.stringify(routeJson(route, false))), {
      next_hop: '192.0.2.1',
      origin: 'igp',
      bgpsec_path: '65536 64496',
      bgpsec_signatures: ['suite 1: 2 signatures'],
    });
    assert.equal(route.bgpsecPath?.signatureBlocks[0]?.signatures[0]?.ski.toString('hex'), '47f23bf1ab2f8a9d26864ebbd8df2711c74406ec');
  });

  it('a 2-octet AS session from ExaBGP: AS_PATH and AGGREGATOR', () => {
    assert.deepEqual(json('exabgp-update-2-octet-as'), { next_hop: '192.0.2.12', as_path: '64801 64512', origin: 'igp', aggregator: '64512:192.0.2.99' });
  });
});

describe('BGP fixtures', () => {
  it('decodeMessage reads every fixture, and every fixture is checked above', () => {
    for (const [name, bytes] of loadBgpFixtures()) decodeMessage(bytes, CONTEXT_OF[name] ?? FOUR_OCTET);
    assert.deepEqual([...loadBgpFixtures().keys()].filter((name) => !checked.has(name)), []);
  });
});
