import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BASE_CONTEXT,
  BgpError,
  BgpFramer,
  bgpMessage,
  decodeUpdate,
  describeOrf,
  ErrorAction,
  formatAsPath,
  formatCommunity,
  formatExtendedCommunity,
  formatIpv6ExtendedCommunity,
  keepalive,
  MessageTooLongError,
  negotiate,
  notification,
  open,
  type OpenMessage,
  packUpdates,
  packWithdrawals,
  parseAsPath,
  parseCommunity,
  parseLargeCommunity,
  parsePrefix,
  routeAttributes,
  type RouteAttributes,
  routeJson,
  routeRefresh,
  type SessionCodecContext,
  toPathAttributes,
  updateCapacity,
  updateCodec,
  validateOpen,
} from '../../../src/wire/bgp/index.js';
import { assertRoundTrip } from '../round-trip.js';
import { bgpFixture } from './bgp-fixtures.js';

const FOUR_OCTET: SessionCodecContext = { fourOctetAs: true, extendedMessage: false };
const TWO_OCTET: SessionCodecContext = { fourOctetAs: false, extendedMessage: false };
const EXTENDED: SessionCodecContext = { fourOctetAs: true, extendedMessage: true };

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}

function bgpError(action: () => unknown, code: number, subcode: number): BgpError {
  const error = thrown(action);
  assert.ok(error instanceof BgpError, `expected BgpError, got ${String(error)}`);
  assert.deepEqual([error.code, error.subcode], [code, subcode], error.message);
  return error;
}

const LOCAL_OPEN: OpenMessage = {
  type: 'open',
  version: 4,
  myAs: 64800,
  holdTime: 9,
  bgpIdentifier: '192.0.2.11',
  capabilities: [
    { type: 'multiprotocol', afi: 1, safi: 1 },
    { type: 'multiprotocol', afi: 2, safi: 1 },
    { type: 'route-refresh' },
    { type: 'four-octet-as', asn: 64800 },
    { type: 'extended-message' },
  ],
};

describe('BgpFramer', () => {
  it('splits a stream at any boundary and keeps partial data for later', () => {
    const stream = Buffer.concat([bgpFixture('bird-open'), bgpFixture('bird-keepalive'), bgpFixture('bird-update-ipv4')]);
    for (let cut = 0; cut <= stream.length; cut += 7) {
      const framer = new BgpFramer();
      const messages = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      assert.deepEqual(messages, [bgpFixture('bird-open'), bgpFixture('bird-keepalive'), bgpFixture('bird-update-ipv4')]);
      assert.equal(framer.buffered, 0);
    }
    const framer = new BgpFramer();
    assert.deepEqual(framer.push(stream.subarray(0, 30)), []);
    assert.equal(framer.buffered, 30);
  });

  it('refuses a bad marker, length or type with the Message Header Error', () => {
    const keepaliveBytes = bgpFixture('bird-keepalive');
    bgpError(() => new BgpFramer().push(Buffer.concat([Buffer.alloc(1), keepaliveBytes])), 1, 1);
    const long = Buffer.from(keepaliveBytes);
    long.writeUInt16BE(4097, 16);
    assert.deepEqual(bgpError(() => new BgpFramer().push(long), 1, 2).data, Buffer.from([0x10, 0x01]), 'data is the bad length');
    const extended = new BgpFramer();
    extended.extendedMessage = true;
    assert.deepEqual(extended.push(long), [], 'with extended messages 4097 is fine (and incomplete)');
    const badType = Buffer.from(keepaliveBytes);
    badType[18] = 9;
    assert.deepEqual(bgpError(() => new BgpFramer().push(badType), 1, 3).data, Buffer.from([9]));
  });

  it('refuses a KEEPALIVE with a body and a ROUTE-REFRESH of the wrong length', () => {
    const padded = Buffer.concat([bgpFixture('bird-keepalive'), Buffer.alloc(1)]);
    padded.writeUInt16BE(20, 16);
    bgpError(() => keepalive.decode(padded), 1, 2);
    const refresh = Buffer.concat([bgpFixture('bird-route-refresh-ipv4'), Buffer.alloc(1)]);
    refresh.writeUInt16BE(24, 16);
    bgpError(() => routeRefresh.decode(refresh), 7, 1);
    const borr = Buffer.concat([bgpFixture('bird-route-refresh-ipv4'), Buffer.from([1, 64, 0, 0])]);
    borr.writeUInt16BE(27, 16);
    borr.writeUInt8(1, 21); // subtype BoRR: no ORF may follow (RFC 7313 5)
    bgpError(() => routeRefresh.decode(borr), 7, 1);
  });
});

describe('message codecs', () => {
  it('round-trip every message type', () => {
    assertRoundTrip(open, LOCAL_OPEN);
    assertRoundTrip(open, { ...LOCAL_OPEN, capabilities: [{ type: 'graceful-restart', restarting: true, notification: true, restartTime: 4095, families: [{ afi: 2, safi: 1, forwardingState: true }] }] });
    assertRoundTrip(keepalive, { type: 'keepalive' });
    assertRoundTrip(routeRefresh, { type: 'route-refresh', afi: 2, safi: 1, subtype: 1 });
    assertRoundTrip(notification, { type: 'notification', code: 6, subcode: 4, communication: 'ünïcödé reboot' });
    assertRoundTrip(notification, { type: 'notification', code: 3, subcode: 3, data: Buffer.from([3]) });
    assertRoundTrip(bgpMessage(TWO_OCTET), { type: 'update', withdrawn: ['198.51.100.0/24'], attributes: [], nlri: [] });
    assertRoundTrip(open, {
      ...LOCAL_OPEN,
      capabilities: [
        { type: 'add-path', families: [{ afi: 1, safi: 1, receive: true, send: false }, { afi: 2, safi: 1, receive: true, send: true }] },
        { type: 'extended-next-hop', families: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
        { type: 'role', role: 3 },
      ],
    });
    const orf = { whenToRefresh: 1, filters: [{ orfType: 64, entries: Buffer.from([0x00, 0, 0, 0, 10, 25, 32, 24, 203, 0, 113]) }] };
    assertRoundTrip(routeRefresh, { type: 'route-refresh', afi: 1, safi: 1, subtype: 0, orf });
  });

  it('round-trips every attribute through the route view (RFC 4456, 4360, 5701, 7311, 9234)', () => {
    const route: RouteAttributes = {
      origin: 'igp',
      asPath: parseAsPath('64800'),
      nextHop: '192.0.2.11',
      originatorId: '192.0.2.99',
      clusterList: ['192.0.2.1', '192.0.2.2'],
      extendedCommunities: [Buffer.from('0002fdea00000064', 'hex')],
      ipv6ExtendedCommunities: [Buffer.from('000220010db80000000000000000000000010064', 'hex')],
      aigp: 2n ** 60n,
      otc: 64800,
      unknown: [
        { type: 'unknown', code: 99, flags: 0xc0, value: Buffer.from([0xab]) },
        { type: 'unknown', code: 98, flags: 0x80, value: Buffer.from([0xcd]) },
      ],
    };
    const update = assertRoundTrip(updateCodec(FOUR_OCTET), { type: 'update', withdrawn: [], attributes: toPathAttributes(route, FOUR_OCTET), nlri: ['203.0.113.0/25'] });
    const back = routeAttributes(update.attributes, FOUR_OCTET);
    // Only the optional transitive unknown attribute is passed on, marked Partial (RFC 4271 5).
    assert.deepEqual(back, { ...route, unknown: [{ type: 'unknown', code: 99, flags: 0xe0, value: Buffer.from([0xab]) }] });
    assert.equal(routeJson(back, false).aigp, '1152921504606846976', 'beyond 2^53 as a string');
  });

  it('an OPEN with capabilities over 255 bytes uses RFC 9072 extended parameters', () => {
    const many: OpenMessage = { ...LOCAL_OPEN, capabilities: Array.from({ length: 70 }, (_, index) => ({ type: 'multiprotocol' as const, afi: 1, safi: index })) };
    const bytes = open.encode(many);
    assert.equal(bytes[28], 255);
    assert.equal(bytes[29], 255);
    assertRoundTrip(open, many);
  });

  it('a Shutdown Communication over 255 bytes is refused', () => {
    assert.ok(thrown(() => notification.encode({ type: 'notification', code: 6, subcode: 2, communication: 'x'.repeat(256) })) instanceof Error);
  });

  it('refuses an UPDATE over 4096 bytes unless extended messages were negotiated', () => {
    const communities = Array.from({ length: 1100 }, (_, index) => index);
    const big = { type: 'update' as const, withdrawn: [], attributes: [{ type: 'communities' as const, value: communities }], nlri: [] };
    const error = thrown(() => updateCodec(FOUR_OCTET).encode(big));
    assert.ok(error instanceof MessageTooLongError);
    assert.equal(error.limit, 4096);
    assertRoundTrip(updateCodec(EXTENDED), big);
  });

  it('writes AS numbers in 2 octets for a 2-octet session and refuses ones that need 4', () => {
    const attributes = toPathAttributes({ origin: 'igp', asPath: parseAsPath('64800 65550'), nextHop: '192.0.2.11' }, TWO_OCTET);
    assert.deepEqual(
      attributes.filter((attribute) => attribute.type === 'as-path' || attribute.type === 'as4-path'),
      [
        { type: 'as-path', segments: [{ type: 'sequence', asns: [64800, 23456] }] },
        { type: 'as4-path', segments: [{ type: 'sequence', asns: [64800, 65550] }] },
      ],
    );
    const update = decodeUpdate(updateCodec(TWO_OCTET).encode({ type: 'update', withdrawn: [], attributes, nlri: ['198.18.0.0/24'] }), TWO_OCTET);
    assert.equal(formatAsPath(routeAttributes(update.attributes, TWO_OCTET).asPath!), '64800 65550');
    assert.ok(thrown(() => updateCodec(TWO_OCTET).encode({ type: 'update', withdrawn: [], attributes: [{ type: 'as-path', segments: [{ type: 'sequence', asns: [65550] }] }], nlri: [] })) instanceof Error);
  });
});

describe('packing UPDATEs', () => {
  const route: RouteAttributes = { origin: 'igp', asPath: [{ type: 'sequence', asns: [64800] }], nextHop: '192.0.2.11', ipv6NextHop: '2001:db8:2::11', communities: [parseCommunity('64800:100')] };
  const ipv4 = Array.from({ length: 2000 }, (_, index) => `198.18.${index >> 8}.${index & 0xff}/32`);
  const ipv6 = Array.from({ length: 600 }, (_, index) => `2001:db8:${(index + 1).toString(16)}::/48`);

  for (const context of [FOUR_OCTET, EXTENDED]) {
    it(`fills UPDATEs to the limit and loses no prefix (extended ${context.extendedMessage})`, () => {
      const limit = context.extendedMessage ? 65535 : 4096;
      const messages = packUpdates(route, [...ipv4, ...ipv6], context);
      const announced: string[] = [];
      for (const bytes of messages) {
        assert.ok(bytes.length <= limit);
        const update = decodeUpdate(bytes, context);
        assert.equal(update.errors, undefined);
        announced.push(...update.nlri, ...update.attributes.flatMap((attribute) => (attribute.type === 'mp-reach' ? attribute.prefixes : [])));
        assert.deepEqual(routeAttributes(update.attributes, context).communities, route.communities);
      }
      assert.deepEqual(announced, [...ipv4, ...ipv6]);
      // 2000 /32s of 5 bytes and 600 /48s of 7 bytes: as few messages as the bytes need.
      const ipv4Messages = Math.ceil((ipv4.length * 5) / updateCapacity(route, { afi: 1, safi: 1 }, context));
      const ipv6Messages = Math.ceil((ipv6.length * 7) / updateCapacity(route, { afi: 2, safi: 1 }, context));
      assert.equal(messages.length, ipv4Messages + ipv6Messages);
      if (!context.extendedMessage) assert.ok(messages[0]!.length > limit - 5, 'the first message is full');
    });
  }

  it('withdraws in as few messages as fit', () => {
    const messages = packWithdrawals([...ipv4, ...ipv6], FOUR_OCTET);
    const withdrawn = messages.flatMap((bytes) => {
      const update = decodeUpdate(bytes, FOUR_OCTET);
      return [...update.withdrawn, ...update.attributes.flatMap((attribute) => (attribute.type === 'mp-unreach' ? attribute.prefixes : []))];
    });
    assert.deepEqual(withdrawn, [...ipv4, ...ipv6]);
    assert.equal(messages.length, Math.ceil((ipv4.length * 5) / (4096 - 23)) + Math.ceil((ipv6.length * 7) / (4096 - 23 - 7)));
  });
});

describe('OPEN validation and negotiation', () => {
  const expect = { expectedPeerAs: 64800, localRouterId: '192.0.2.1', localAs: 65002 };

  it('accepts a good OPEN and names each refusal', () => {
    validateOpen(LOCAL_OPEN, expect);
    assert.deepEqual(bgpError(() => validateOpen({ ...LOCAL_OPEN, version: 3 }, expect), 2, 1).data, Buffer.from([0, 4]));
    bgpError(() => validateOpen(LOCAL_OPEN, { ...expect, expectedPeerAs: 65099 }), 2, 2);
    bgpError(() => validateOpen({ ...LOCAL_OPEN, bgpIdentifier: '0.0.0.0' }, expect), 2, 3);
    bgpError(() => validateOpen({ ...LOCAL_OPEN, bgpIdentifier: '192.0.2.1' }, { ...expect, localAs: 64800 }), 2, 3);
    bgpError(() => validateOpen({ ...LOCAL_OPEN, holdTime: 2 }, expect), 2, 6);
    bgpError(() => validateOpen({ ...LOCAL_OPEN, holdTime: 1 }, expect), 2, 6);
    validateOpen({ ...LOCAL_OPEN, holdTime: 0 }, expect);
    bgpError(() => validateOpen({ ...LOCAL_OPEN, parameters: [{ type: 1, value: Buffer.alloc(0) }] }, expect), 2, 4);
    const fourOctet: OpenMessage = { ...LOCAL_OPEN, myAs: 23456, capabilities: [{ type: 'four-octet-as', asn: 65550 }] };
    validateOpen(fourOctet, { ...expect, expectedPeerAs: 65550 });
    bgpError(() => validateOpen(fourOctet, expect), 2, 2);
  });

  it('negotiates the smaller hold time, a third of it for keepalives, and the common capabilities', () => {
    const peer = open.decode(bgpFixture('bird-open-2-octet-as'));
    const session = negotiate(LOCAL_OPEN, peer);
    assert.deepEqual([session.holdTime, session.keepaliveTime, session.peerAs], [9, 3, 65002]);
    assert.deepEqual(session.families, [{ afi: 1, safi: 1 }]);
    assert.deepEqual(session.context, { ...BASE_CONTEXT, families: [{ afi: 1, safi: 1 }], addPath: [] });
    assert.deepEqual(session.peerContext, session.context, 'no ADD-PATH either way');
    assert.equal(session.routeRefresh, true);
    assert.equal(session.gracefulRestart, undefined, 'only the peer advertised graceful restart');
    assert.equal(negotiate({ ...LOCAL_OPEN, holdTime: 0 }, peer).keepaliveTime, 0);
  });
});

describe('text forms', () => {
  it('extended communities as routers print them, and the rest by type (RFC 4360, 5668, 5701, 9012)', () => {
    const text = (hex: string): string => formatExtendedCommunity(Buffer.from(hex, 'hex'));
    assert.equal(text('0002fdea00000064'), 'RT:65002:100');
    assert.equal(text('0103c00002010007'), 'SoO:192.0.2.1:7');
    assert.equal(text('02020001000e00c8'), 'RT:65550:200');
    assert.equal(text('4004fdea4cee6b28'), 'LB:65002:125000000');
    assert.equal(text('030c000000000008'), 'encap:VXLAN');
    assert.equal(text('030b000000000064'), 'color:100');
    assert.equal(text('0306000000000064'), 'opaque:0x06:000000000064');
    assert.equal(text('8a01000000000001'), '0x8a:0x01:000000000001');
    assert.equal(formatIpv6ExtendedCommunity(Buffer.from('000320010db80000000000000000000000010007', 'hex')), 'SoO:[2001:db8::1]:7');
    assert.equal(formatIpv6ExtendedCommunity(Buffer.from('400920010db80000000000000000000000010007', 'hex')), '0x40:0x09:20010db80000000000000000000000010007');
  });

  it('Address Prefix ORF entries as prefix-list lines (RFC 5292)', () => {
    const entries = Buffer.from([
      ...[0x00, 0, 0, 0, 10, 25, 32, 24, 203, 0, 113], // add permit, seq 10, ge 25 le 32, 203.0.113.0/24
      ...[0x60, 0, 0, 0, 20, 0, 0, 16, 198, 51], // remove (0x40) deny (0x20), seq 20, 198.51.0.0/16
      ...[0x80], // remove-all
    ]);
    assert.deepEqual(describeOrf({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0, orf: { whenToRefresh: 2, filters: [{ orfType: 64, entries }, { orfType: 130, entries: Buffer.alloc(3) }] } }), [
      'defer',
      'address-prefix ORF: add seq 10 permit 203.0.113.0/24 ge 25 le 32',
      'address-prefix ORF: remove seq 20 deny 198.51.0.0/16',
      'address-prefix ORF: remove-all',
      'ORF type 130: 3 bytes',
    ]);
    assert.deepEqual(describeOrf({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0, orf: { whenToRefresh: 1, filters: [{ orfType: 64, entries: Buffer.from([0x00, 0, 0]) }] } }), [
      'immediate',
      'address-prefix ORF: 3 bytes, malformed: bgp-orf: sequence needs 4 bytes, 2 left',
    ]);
  });

  it('AS paths, communities, large communities and prefixes', () => {
    const path = parseAsPath('64800 65002 {64512,64513} (65000 65001) [65003]');
    assert.equal(formatAsPath(path), '64800 65002 {64512 64513} (65000 65001) [65003]');
    assert.equal(formatCommunity(parseCommunity('65002:100')), '65002:100');
    assert.equal(formatCommunity(parseCommunity('no-export')), 'NO_EXPORT');
    assert.equal(parseCommunity('BLACKHOLE'), 0xffff029a);
    assert.equal(formatCommunity(0xffff0000), 'GRACEFUL_SHUTDOWN');
    assert.equal(formatCommunity(0xffffff04), 'NO_PEER');
    assert.deepEqual(parseLargeCommunity('65002:7:8'), { globalAdministrator: 65002, localData1: 7, localData2: 8 });
    assert.deepEqual(parsePrefix('2001:db8::/32').length, 32);
    for (const bad of ['203.0.113.5/24', '203.0.113.0/33', '65536:1', '{64512']) {
      assert.ok(thrown(() => (bad.includes('/') ? parsePrefix(bad) : bad.includes('{') ? parseAsPath(bad) : parseCommunity(bad))) instanceof Error);
    }
    assert.equal(ErrorAction.AttributeDiscard < ErrorAction.TreatAsWithdraw && ErrorAction.AfiSafiDisable < ErrorAction.SessionReset, true);
  });
});
