import { DecodeError } from '../decode-error.js';
import { ipv4FromBytes, ipv4ToBytes, ipv6FromBytes, ipv6ToBytes } from '../ip-address.js';
import { Reader } from '../reader.js';
import { checkUint } from '../uint-field.js';
import { BgpError, ErrorAction } from './bgp-error.js';
import { ErrorCode, UpdateSubcode } from './notification-codes.js';
import { addPathHint, decodeNlri, encodeNlri, type Nlri } from './nlri.js';
import { Afi, decodesFamily, type Family, familyName, hasAddPath, type SessionCodecContext } from './registry.js';

/*
 * Path attribute (RFC 4271 4.3):
 *
 *  0                   1
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Attr. Flags  |Attr. Type Code|   flags: Optional, Transitive, Partial,
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+          Extended Length, 4 unused bits
 * | Length (1, or 2 if Extended)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Value (Length octets) ...
 *
 * Values:
 * - ORIGIN (1): 1 octet, 0 IGP, 1 EGP, 2 INCOMPLETE.
 * - AS_PATH (2) and AS4_PATH (17, RFC 6793 3): segments of
 *     +-------------+-------------+---------------------------------+
 *     | type (1)    | count (1)   | count AS numbers, 2 or 4 octets |
 *     +-------------+-------------+---------------------------------+
 *   type 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET (RFC 5065).
 *   AS_PATH numbers are 4 octets only in a session where both sides advertised the
 *   4-octet AS capability; AS4_PATH's always are.
 * - NEXT_HOP (3): IPv4 address. MULTI_EXIT_DISC (4), LOCAL_PREF (5): 4 octets.
 * - ATOMIC_AGGREGATE (6): empty. AGGREGATOR (7): AS (2 or 4 octets, as AS_PATH) and
 *   IPv4 address; AS4_AGGREGATOR (18): 4-octet AS and IPv4 address.
 * - COMMUNITIES (8, RFC 1997): 4 octets each. LARGE_COMMUNITY (32, RFC 8092): 12 each.
 * - MP_REACH_NLRI (14, RFC 4760 3):
 *     +---------------------------------------------------------+
 *     | Address Family Identifier (2 octets)                    |
 *     | Subsequent Address Family Identifier (1 octet)          |
 *     | Length of Next Hop Network Address (1 octet)            |
 *     | Network Address of Next Hop (variable)                  |
 *     | Reserved (1 octet)                                      |
 *     | Network Layer Reachability Information (variable)       |
 *     +---------------------------------------------------------+
 *   An IPv6 next hop is 16 octets, or 32 with a link-local address after the global one
 *   (RFC 2545 3).
 *   An IPv4 unicast next hop may be IPv6 too, 16 or 32 octets (RFC 8950 3). Families
 *   vipkit does not decode, or that the session did not negotiate (RFC 4760 8), are kept
 *   as AFI, SAFI, next hop and NLRI octets ('mp-reach-undecoded'): a family, not an error.
 * - MP_UNREACH_NLRI (15, RFC 4760 4): AFI (2), SAFI (1), Withdrawn Routes (variable).
 *   With ADD-PATH (RFC 7911 3) every prefix in either is preceded by a 4-octet path id.
 * - ORIGINATOR_ID (9, RFC 4456 8): IPv4 router id. CLUSTER_LIST (10): 4 octets each.
 * - EXTENDED COMMUNITIES (16, RFC 4360 2): 8 octets each,
 *     +--------+---------+--------------------------------------------+
 *     | type   | subtype | value (6 octets, by type: RFC 4360 3, 5668) |
 *     +--------+---------+--------------------------------------------+
 * - IPv6 Address Specific Extended Community (25, RFC 5701 2): 20 octets each: type,
 *   subtype, IPv6 global administrator (16), local administrator (2).
 * - AIGP (26, RFC 7311 3): TLVs of type (1), length (2, the whole TLV), value; the AIGP
 *   TLV (type 1) holds an 8-octet metric.
 * - BGPsec_PATH (33, RFC 8205 3): Secure_Path, then Signature_Blocks (one or two),
 *     +-----------------------------------------------------------+
 *     | Secure_Path Length (2, itself included)                   |
 *     | Secure_Path Segments: pCount (1), Flags (1), AS (4) ...   |
 *     +-----------------------------------------------------------+
 *     | Signature_Block Length (2, itself included)               |
 *     | Algorithm Suite Identifier (1)                            |
 *     | Signature Segments: SKI (20), Signature Length (2),       |
 *     |                     Signature (variable) ...              |
 *     +-----------------------------------------------------------+
 *   It stands in for AS_PATH (RFC 8205 4); its signatures are shown, never checked.
 * - OTC, Only to Customer (35, RFC 9234 5): a 4-octet AS.
 *
 * The decoded list keeps the sender's order, and `flags` only when they differ from what
 * the encoder would write (so captured messages re-encode byte for byte). Any other
 * attribute is kept as code, flags and raw value.
 */
export const AttributeCode = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  ExtendedCommunities: 16,
  As4Path: 17,
  As4Aggregator: 18,
  Ipv6ExtendedCommunities: 25,
  Aigp: 26,
  LargeCommunities: 32,
  BgpsecPath: 33,
  Otc: 35,
} as const;

export const AttributeFlag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;

export type Origin = 'igp' | 'egp' | 'incomplete';
export const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];

export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';
const SEGMENT_TYPES: readonly AsPathSegmentType[] = ['set', 'sequence', 'confed-sequence', 'confed-set'];

export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

export interface LargeCommunity {
  globalAdministrator: number;
  localData1: number;
  localData2: number;
}

export interface Aggregator {
  asn: number;
  address: string;
}

/** One Secure_Path segment (RFC 8205 3.1): the AS, how many times it counts (pCount, 0
 *  for a transparent route server), and the Flags octet (0x80: Confed_Segment). */
export interface SecurePathSegment {
  pCount: number;
  flags: number;
  asn: number;
}

/** One Signature_Block (RFC 8205 3.2): its algorithm suite and signature segments. */
export interface SignatureBlock {
  algorithmSuite: number;
  signatures: Array<{ ski: Buffer; signature: Buffer }>;
}

/** One AIGP TLV (RFC 7311 3); type 1 carries the accumulated metric. */
export interface AigpTlv {
  type: number;
  value: Buffer;
}

export type PathAttribute = (
  | { type: 'origin'; value: Origin }
  | { type: 'as-path'; segments: AsPathSegment[] }
  | { type: 'next-hop'; value: string }
  | { type: 'med'; value: number }
  | { type: 'local-pref'; value: number }
  | { type: 'atomic-aggregate' }
  | ({ type: 'aggregator' } & Aggregator)
  /** 32-bit values, e.g. 0xfdea0064 for 65002:100 (format.ts names them). */
  | { type: 'communities'; value: number[] }
  | { type: 'as4-path'; segments: AsPathSegment[] }
  | ({ type: 'as4-aggregator' } & Aggregator)
  | { type: 'large-communities'; value: LargeCommunity[] }
  /** `nextHop` is IPv6 for IPv6 prefixes, and for IPv4 ones with an extended next hop (RFC 8950). */
  | { type: 'mp-reach'; afi: number; safi: number; nextHop: string; linkLocalNextHop?: string; prefixes: string[]; pathIds?: number[] }
  | { type: 'mp-unreach'; afi: number; safi: number; prefixes: string[]; pathIds?: number[] }
  /** A family vipkit does not decode or the session did not negotiate: octets as received. */
  | { type: 'mp-reach-undecoded'; afi: number; safi: number; nextHop: Buffer; nlri: Buffer }
  | { type: 'mp-unreach-undecoded'; afi: number; safi: number; nlri: Buffer }
  | { type: 'originator-id'; value: string }
  | { type: 'cluster-list'; value: string[] }
  /** 8 octets each (format.ts names them). */
  | { type: 'extended-communities'; value: Buffer[] }
  /** 20 octets each. */
  | { type: 'ipv6-extended-communities'; value: Buffer[] }
  | { type: 'aigp'; tlvs: AigpTlv[] }
  | { type: 'bgpsec-path'; securePath: SecurePathSegment[]; signatureBlocks: SignatureBlock[] }
  | { type: 'otc'; value: number }
) & { flags?: number };

/** An attribute vipkit does not interpret: flags, type code and value as received. */
export interface UnknownAttribute {
  type: 'unknown';
  code: number;
  flags: number;
  value: Buffer;
}

export type AnyPathAttribute = PathAttribute | UnknownAttribute;

/**
 * Per known attribute: its code, the Optional/Transitive flags it must carry (RFC 4271
 * 5), and what RFC 7606 (7.x; RFC 6793 6 for the AS4_ ones) does when it is malformed —
 * the one lookup every attribute error goes through.
 */
interface AttributeSpec {
  code: number;
  name: string;
  flags: number;
  malformed: ErrorAction;
}

const OPTIONAL_TRANSITIVE = AttributeFlag.Optional | AttributeFlag.Transitive;

const SPECS: Record<PathAttribute['type'], AttributeSpec> = {
  origin: { code: AttributeCode.Origin, name: 'ORIGIN', flags: AttributeFlag.Transitive, malformed: ErrorAction.TreatAsWithdraw },
  'as-path': { code: AttributeCode.AsPath, name: 'AS_PATH', flags: AttributeFlag.Transitive, malformed: ErrorAction.TreatAsWithdraw },
  'next-hop': { code: AttributeCode.NextHop, name: 'NEXT_HOP', flags: AttributeFlag.Transitive, malformed: ErrorAction.TreatAsWithdraw },
  med: { code: AttributeCode.MultiExitDisc, name: 'MULTI_EXIT_DISC', flags: AttributeFlag.Optional, malformed: ErrorAction.TreatAsWithdraw },
  'local-pref': { code: AttributeCode.LocalPref, name: 'LOCAL_PREF', flags: AttributeFlag.Transitive, malformed: ErrorAction.TreatAsWithdraw },
  'atomic-aggregate': { code: AttributeCode.AtomicAggregate, name: 'ATOMIC_AGGREGATE', flags: AttributeFlag.Transitive, malformed: ErrorAction.AttributeDiscard },
  aggregator: { code: AttributeCode.Aggregator, name: 'AGGREGATOR', flags: OPTIONAL_TRANSITIVE, malformed: ErrorAction.AttributeDiscard },
  communities: { code: AttributeCode.Communities, name: 'COMMUNITIES', flags: OPTIONAL_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw },
  'mp-reach': { code: AttributeCode.MpReachNlri, name: 'MP_REACH_NLRI', flags: AttributeFlag.Optional, malformed: ErrorAction.AfiSafiDisable },
  'mp-unreach': { code: AttributeCode.MpUnreachNlri, name: 'MP_UNREACH_NLRI', flags: AttributeFlag.Optional, malformed: ErrorAction.AfiSafiDisable },
  'as4-path': { code: AttributeCode.As4Path, name: 'AS4_PATH', flags: OPTIONAL_TRANSITIVE, malformed: ErrorAction.AttributeDiscard },
  'as4-aggregator': { code: AttributeCode.As4Aggregator, name: 'AS4_AGGREGATOR', flags: OPTIONAL_TRANSITIVE, malformed: ErrorAction.AttributeDiscard },
  'large-communities': { code: AttributeCode.LargeCommunities, name: 'LARGE_COMMUNITY', flags: OPTIONAL_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw },
  'originator-id': { code: AttributeCode.OriginatorId, name: 'ORIGINATOR_ID', flags: AttributeFlag.Optional, malformed: ErrorAction.TreatAsWithdraw },
  'cluster-list': { code: AttributeCode.ClusterList, name: 'CLUSTER_LIST', flags: AttributeFlag.Optional, malformed: ErrorAction.TreatAsWithdraw },
  'extended-communities': { code: AttributeCode.ExtendedCommunities, name: 'EXTENDED_COMMUNITIES', flags: OPTIONAL_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw },
  'ipv6-extended-communities': {
    code: AttributeCode.Ipv6ExtendedCommunities,
    name: 'IPv6_EXTENDED_COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    malformed: ErrorAction.TreatAsWithdraw,
  },
  // RFC 7311 ("Handling a Malformed AIGP Attribute"): ignored like an unrecognized
  // non-transitive attribute, i.e. discarded.
  aigp: { code: AttributeCode.Aigp, name: 'AIGP', flags: AttributeFlag.Optional, malformed: ErrorAction.AttributeDiscard },
  // RFC 8205 5.2: a syntactically incorrect BGPsec_PATH is treat-as-withdraw.
  'bgpsec-path': { code: AttributeCode.BgpsecPath, name: 'BGPsec_PATH', flags: AttributeFlag.Optional, malformed: ErrorAction.TreatAsWithdraw },
  // RFC 9234 5: an OTC of another length than 4 is treat-as-withdraw.
  otc: { code: AttributeCode.Otc, name: 'OTC', flags: OPTIONAL_TRANSITIVE, malformed: ErrorAction.TreatAsWithdraw },
  'mp-reach-undecoded': { code: AttributeCode.MpReachNlri, name: 'MP_REACH_NLRI', flags: AttributeFlag.Optional, malformed: ErrorAction.AfiSafiDisable },
  'mp-unreach-undecoded': { code: AttributeCode.MpUnreachNlri, name: 'MP_UNREACH_NLRI', flags: AttributeFlag.Optional, malformed: ErrorAction.AfiSafiDisable },
};

/** The type a code decodes as; MP_REACH/MP_UNREACH become their -undecoded kind by family. */
const TYPE_BY_CODE = new Map<number, PathAttribute['type']>(
  Object.entries(SPECS)
    .filter(([type]) => !type.endsWith('-undecoded'))
    .map(([type, spec]) => [spec.code, type as PathAttribute['type']]),
);

/** The Optional and Transitive bits an attribute of `code` must carry (RFC 4271 4.3); undefined for a code vipkit does not know. */
export function typeFlagsOf(code: number): number | undefined {
  const type = TYPE_BY_CODE.get(code);
  return type === undefined ? undefined : SPECS[type].flags;
}

export function attributeName(code: number): string {
  const type = TYPE_BY_CODE.get(code);
  return type === undefined ? `attribute ${code}` : SPECS[type].name;
}

export function attributeCode(attribute: AnyPathAttribute): number {
  return attribute.type === 'unknown' ? attribute.code : SPECS[attribute.type].code;
}

function u32Bytes(value: number, field: string): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(checkUint('bgp-attribute', field, value, 32));
  return bytes;
}

function asnBytes(asn: number, fourOctet: boolean): Buffer {
  if (fourOctet) return u32Bytes(asn, 'AS number');
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(checkUint('bgp-attribute', 'AS number in a 2-octet AS session', asn, 16));
  return bytes;
}

function encodeSegments(segments: readonly AsPathSegment[], fourOctet: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const segment of segments) {
    // A segment holds at most 255 ASes; longer runs become consecutive segments.
    for (let start = 0; start === 0 || start < segment.asns.length; start += 255) {
      const chunk = segment.asns.slice(start, start + 255);
      parts.push(Buffer.from([SEGMENT_TYPES.indexOf(segment.type) + 1, chunk.length]), ...chunk.map((asn) => asnBytes(asn, fourOctet)));
    }
  }
  return Buffer.concat(parts);
}

function ipv6NextHop(attribute: { nextHop: string; linkLocalNextHop?: string }): Buffer {
  const global = ipv6ToBytes(attribute.nextHop);
  return attribute.linkLocalNextHop === undefined ? global : Buffer.concat([global, ipv6ToBytes(attribute.linkLocalNextHop)]);
}

function familyBytes(afi: number, safi: number): Buffer {
  const bytes = Buffer.alloc(3);
  bytes.writeUInt16BE(checkUint('bgp-attribute', 'AFI', afi, 16));
  bytes.writeUInt8(checkUint('bgp-attribute', 'SAFI', safi, 8), 2);
  return bytes;
}

function u16Bytes(value: number, field: string): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(checkUint('bgp-attribute', field, value, 16));
  return bytes;
}

/**
 * The path identifiers to write for one NLRI field of `family`: present exactly when the
 * context has ADD-PATH for it (RFC 7911 3), or the message cannot be written.
 */
export function pathIdsToWrite(pathIds: readonly number[] | undefined, family: Family, context: SessionCodecContext): readonly number[] | undefined {
  const addPath = hasAddPath(context, family);
  if (addPath === (pathIds !== undefined)) return pathIds;
  throw new DecodeError('bgp-attribute', `${familyName(family)} ${addPath ? 'needs path identifiers (ADD-PATH)' : 'has path identifiers, but no ADD-PATH'} in this session`);
}

/** Items that must each be `size` octets, back to back. */
function fixedSize(items: readonly Buffer[], size: number, what: string): Buffer {
  const wrong = items.find((item) => item.length !== size);
  if (wrong !== undefined) throw new DecodeError('bgp-attribute', `${what} of ${wrong.length} bytes, expected ${size}`);
  return Buffer.concat(items);
}

function encodeBgpsecPath(attribute: { securePath: readonly SecurePathSegment[]; signatureBlocks: readonly SignatureBlock[] }): Buffer {
  const segments = attribute.securePath.map((segment) =>
    Buffer.concat([Buffer.from([checkUint('bgp-attribute', 'pCount', segment.pCount, 8), checkUint('bgp-attribute', 'Secure_Path flags', segment.flags, 8)]), u32Bytes(segment.asn, 'AS number')]),
  );
  const blocks = attribute.signatureBlocks.map((block) => {
    const signatures = block.signatures.map(({ ski, signature }) => Buffer.concat([fixedSize([ski], SKI_LENGTH, 'SKI'), u16Bytes(signature.length, 'signature length'), signature]));
    const body = Buffer.concat([Buffer.from([checkUint('bgp-attribute', 'algorithm suite', block.algorithmSuite, 8)]), ...signatures]);
    return Buffer.concat([u16Bytes(2 + body.length, 'Signature_Block length'), body]);
  });
  return Buffer.concat([u16Bytes(2 + 6 * segments.length, 'Secure_Path length'), ...segments, ...blocks]);
}

/** The value octets of a known attribute (context decides AS number width and path ids). */
function encodeValue(attribute: PathAttribute, context: SessionCodecContext): Buffer {
  switch (attribute.type) {
    case 'origin':
      return Buffer.from([ORIGINS.indexOf(attribute.value)]);
    case 'as-path':
      return encodeSegments(attribute.segments, context.fourOctetAs);
    case 'as4-path':
      return encodeSegments(attribute.segments, true);
    case 'next-hop':
      return ipv4ToBytes(attribute.value);
    case 'med':
    case 'local-pref':
      return u32Bytes(attribute.value, attribute.type);
    case 'atomic-aggregate':
      return Buffer.alloc(0);
    case 'aggregator':
      return Buffer.concat([asnBytes(attribute.asn, context.fourOctetAs), ipv4ToBytes(attribute.address)]);
    case 'as4-aggregator':
      return Buffer.concat([asnBytes(attribute.asn, true), ipv4ToBytes(attribute.address)]);
    case 'communities':
      return Buffer.concat(attribute.value.map((community) => u32Bytes(community, 'community')));
    case 'large-communities':
      return Buffer.concat(
        attribute.value.flatMap((c) => [u32Bytes(c.globalAdministrator, 'global administrator'), u32Bytes(c.localData1, 'local data 1'), u32Bytes(c.localData2, 'local data 2')]),
      );
    case 'mp-reach': {
      // An IPv6 next hop for IPv4 prefixes is RFC 8950's extended next hop.
      const nextHop = attribute.nextHop.includes(':') ? ipv6NextHop(attribute) : ipv4ToBytes(attribute.nextHop);
      const pathIds = pathIdsToWrite(attribute.pathIds, attribute, context);
      return Buffer.concat([familyBytes(attribute.afi, attribute.safi), Buffer.from([nextHop.length]), nextHop, Buffer.from([0]), encodeNlri(attribute.afi, attribute.prefixes, pathIds)]);
    }
    case 'mp-unreach':
      return Buffer.concat([familyBytes(attribute.afi, attribute.safi), encodeNlri(attribute.afi, attribute.prefixes, pathIdsToWrite(attribute.pathIds, attribute, context))]);
    case 'mp-reach-undecoded': {
      const nextHopLength = checkUint('bgp-attribute', 'next hop length', attribute.nextHop.length, 8);
      return Buffer.concat([familyBytes(attribute.afi, attribute.safi), Buffer.from([nextHopLength]), attribute.nextHop, Buffer.from([0]), attribute.nlri]);
    }
    case 'mp-unreach-undecoded':
      return Buffer.concat([familyBytes(attribute.afi, attribute.safi), attribute.nlri]);
    case 'originator-id':
      return ipv4ToBytes(attribute.value);
    case 'cluster-list':
      return Buffer.concat(attribute.value.map(ipv4ToBytes));
    case 'extended-communities':
      return fixedSize(attribute.value, 8, 'extended community');
    case 'ipv6-extended-communities':
      return fixedSize(attribute.value, 20, 'IPv6 extended community');
    case 'aigp':
      return Buffer.concat(attribute.tlvs.map((tlv) => Buffer.concat([Buffer.from([checkUint('bgp-attribute', 'AIGP TLV type', tlv.type, 8)]), u16Bytes(3 + tlv.value.length, 'AIGP TLV length'), tlv.value])));
    case 'bgpsec-path':
      return encodeBgpsecPath(attribute);
    case 'otc':
      return u32Bytes(attribute.value, 'OTC');
  }
}

/** The flags the encoder writes when an attribute has none of its own. */
function defaultFlags(type: PathAttribute['type'], valueLength: number): number {
  return SPECS[type].flags | (valueLength > 255 ? AttributeFlag.ExtendedLength : 0);
}

/** RFC 8205 3.2: a Subject Key Identifier is 20 octets. */
const SKI_LENGTH = 20;

/** Flags, type code, length (1 or 2 octets), value. */
export function encodeAttribute(attribute: AnyPathAttribute, context: SessionCodecContext): Buffer {
  const value = attribute.type === 'unknown' ? attribute.value : encodeValue(attribute, context);
  let flags = attribute.flags ?? defaultFlags(attribute.type as PathAttribute['type'], value.length);
  if (value.length > 255) flags |= AttributeFlag.ExtendedLength;
  const extended = (flags & AttributeFlag.ExtendedLength) !== 0;
  const header = Buffer.alloc(extended ? 4 : 3);
  header.writeUInt8(checkUint('bgp-attribute', 'flags', flags, 8), 0);
  header.writeUInt8(checkUint('bgp-attribute', 'type code', attributeCode(attribute), 8), 1);
  if (extended) header.writeUInt16BE(checkUint('bgp-attribute', 'attribute length', value.length, 16), 2);
  else header.writeUInt8(value.length, 2);
  return Buffer.concat([header, value]);
}

/** Where an attribute was found, for errors: its type, flags and bytes (the NOTIFICATION
 *  Data for attribute errors is the whole attribute, RFC 4271 6.3). */
interface RawAttribute {
  code: number;
  flags: number;
  value: Buffer;
  bytes: Buffer;
  offset: number;
}

function attributeError(raw: RawAttribute, spec: AttributeSpec, subcode: number, reason: string, action = spec.malformed, family?: Family): BgpError {
  return new BgpError(ErrorCode.Update, subcode, `${spec.name}: ${reason}`, { data: raw.bytes, action, offset: raw.offset, ...(family ? { family } : {}) });
}

function decodeSegments(raw: RawAttribute, spec: AttributeSpec, fourOctet: boolean): AsPathSegment[] {
  const reader = new Reader(raw.value, 'bgp-as-path');
  const width = fourOctet ? 4 : 2;
  const segments: AsPathSegment[] = [];
  const malformed = (reason: string): BgpError => attributeError(raw, spec, UpdateSubcode.MalformedAsPath, reason);
  while (reader.remaining > 0) {
    if (reader.remaining < 2) throw malformed('a segment header is cut short');
    const typeCode = reader.u8();
    const count = reader.u8();
    const type = SEGMENT_TYPES[typeCode - 1];
    // RFC 7606 7.2: an unknown segment type, a zero count or an overrun are malformed.
    if (type === undefined) throw malformed(`unknown segment type ${typeCode}`);
    if (count === 0) throw malformed('a segment with no AS numbers');
    if (reader.remaining < count * width) throw malformed(`segment of ${count} ASes needs ${count * width} bytes, ${reader.remaining} left`);
    const asns = Array.from({ length: count }, () => (fourOctet ? reader.u32() : reader.u16()));
    segments.push({ type, asns });
  }
  return segments;
}

function decodeMpFamily(raw: RawAttribute, spec: AttributeSpec, reader: Reader): Family {
  // RFC 7606 7.11: with no AFI/SAFI to disable, only a session reset is left.
  if (reader.remaining < 3) throw attributeError(raw, spec, UpdateSubcode.OptionalAttributeError, 'too short for AFI and SAFI', ErrorAction.SessionReset);
  return { afi: reader.u16(), safi: reader.u8() };
}

function decodeMpNlri(raw: RawAttribute, spec: AttributeSpec, reader: Reader, family: Family, context: SessionCodecContext): Nlri {
  const field = raw.value.subarray(reader.offset);
  const addPath = hasAddPath(context, family);
  try {
    return decodeNlri(reader, family.afi, addPath);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    const hint = addPath ? '' : addPathHint(field, family.afi);
    throw attributeError(raw, spec, UpdateSubcode.OptionalAttributeError, `${familyName(family)}: ${error.detail}${hint}`, ErrorAction.AfiSafiDisable, family);
  }
}

/** MP_REACH_NLRI (RFC 4760 3): prefixes for a decoded family, octets for any other. */
function decodeMpReach(raw: RawAttribute, context: SessionCodecContext): PathAttribute {
  const spec = SPECS['mp-reach'];
  const reader = new Reader(raw.value, 'bgp-mp-reach');
  const family = decodeMpFamily(raw, spec, reader);
  const nextHopLength = reader.remaining > 0 ? reader.u8() : -1;
  const decoded = decodesFamily(context, family);
  // IPv4 unicast may have an IPv6 next hop (RFC 8950 3); families not decoded any length.
  const allowed = !decoded ? [nextHopLength] : family.afi === Afi.Ipv6 ? [16, 32] : [4, 16, 32];
  // RFC 7606 7.11: a next hop length that does not fit the family, or runs over.
  if (nextHopLength < 0 || !allowed.includes(nextHopLength) || reader.remaining < nextHopLength + 1) {
    throw attributeError(raw, spec, UpdateSubcode.OptionalAttributeError, `next hop length ${nextHopLength} for ${familyName(family)}`, ErrorAction.AfiSafiDisable, family);
  }
  const nextHopBytes = reader.bytes(nextHopLength);
  reader.skip(1, 'reserved');
  if (!decoded) return { type: 'mp-reach-undecoded', ...family, nextHop: nextHopBytes, nlri: reader.rest() };
  const nextHop = nextHopLength === 4 ? ipv4FromBytes(nextHopBytes) : ipv6FromBytes(nextHopBytes.subarray(0, 16));
  const linkLocal = nextHopLength === 32 ? { linkLocalNextHop: ipv6FromBytes(nextHopBytes.subarray(16)) } : {};
  return { type: 'mp-reach', ...family, nextHop, ...linkLocal, ...decodeMpNlri(raw, spec, reader, family, context) };
}

function decodeMpUnreach(raw: RawAttribute, context: SessionCodecContext): PathAttribute {
  const spec = SPECS['mp-unreach'];
  const reader = new Reader(raw.value, 'bgp-mp-unreach');
  const family = decodeMpFamily(raw, spec, reader);
  if (!decodesFamily(context, family)) return { type: 'mp-unreach-undecoded', ...family, nlri: reader.rest() };
  return { type: 'mp-unreach', ...family, ...decodeMpNlri(raw, spec, reader, family, context) };
}

/** AIGP TLVs (RFC 7311 3): each length counts the whole TLV; the AIGP TLV is 11 octets. */
function decodeAigp(raw: RawAttribute, spec: AttributeSpec): AigpTlv[] {
  const reader = new Reader(raw.value, 'bgp-aigp');
  const malformed = (reason: string): BgpError => attributeError(raw, spec, UpdateSubcode.OptionalAttributeError, reason);
  const tlvs: AigpTlv[] = [];
  while (reader.remaining > 0) {
    if (reader.remaining < 3) throw malformed(`${reader.remaining} stray bytes after the last TLV`);
    const type = reader.u8();
    const length = reader.u16();
    if (length < 3 || length - 3 > reader.remaining) throw malformed(`TLV ${type} of length ${length} with ${reader.remaining + 3} bytes left`);
    if (type === 1 && length !== 11) throw malformed(`AIGP TLV of length ${length}, expected 11`);
    tlvs.push({ type, value: reader.bytes(length - 3) });
  }
  return tlvs;
}

/** BGPsec_PATH (RFC 8205 3); any inconsistency is malformed (5.2). */
function decodeBgpsecPath(raw: RawAttribute, spec: AttributeSpec): PathAttribute {
  const reader = new Reader(raw.value, 'bgp-bgpsec-path');
  const malformed = (reason: string): BgpError => attributeError(raw, spec, UpdateSubcode.OptionalAttributeError, reason);
  const pathLength = reader.remaining >= 2 ? reader.u16() : 0;
  if (pathLength < 8 || (pathLength - 2) % 6 !== 0 || pathLength - 2 > reader.remaining) throw malformed(`Secure_Path length ${pathLength}`);
  const securePath = Array.from({ length: (pathLength - 2) / 6 }, () => ({ pCount: reader.u8(), flags: reader.u8(), asn: reader.u32() }));
  const signatureBlocks: SignatureBlock[] = [];
  while (reader.remaining > 0) {
    const blockLength = reader.remaining >= 2 ? reader.u16() : 0;
    if (blockLength < 3 || blockLength - 2 > reader.remaining) throw malformed(`Signature_Block length ${blockLength} with ${reader.remaining + 2} bytes left`);
    const block = reader.sub(blockLength - 2);
    const algorithmSuite = block.u8();
    const signatures: SignatureBlock['signatures'] = [];
    while (block.remaining > 0) {
      if (block.remaining < SKI_LENGTH + 2) throw malformed(`a signature segment cut short in suite ${algorithmSuite}'s block`);
      const ski = block.bytes(SKI_LENGTH);
      const length = block.u16();
      if (length > block.remaining) throw malformed(`signature of ${length} bytes with ${block.remaining} left`);
      signatures.push({ ski, signature: block.bytes(length) });
    }
    signatureBlocks.push({ algorithmSuite, signatures });
  }
  // RFC 8205 3: one Signature_Block per algorithm suite, one or two.
  if (signatureBlocks.length === 0 || signatureBlocks.length > 2) throw malformed(`${signatureBlocks.length} Signature_Blocks`);
  return { type: 'bgpsec-path', securePath, signatureBlocks };
}

/** Value of a known attribute; throws BgpError with the action from its spec. */
function decodeValue(type: PathAttribute['type'], raw: RawAttribute, context: SessionCodecContext): PathAttribute {
  const spec = SPECS[type];
  const { value } = raw;
  const lengthMustBe = (...lengths: number[]): void => {
    if (!lengths.includes(value.length)) {
      throw attributeError(raw, spec, UpdateSubcode.AttributeLengthError, `length ${value.length}, expected ${lengths.join(' or ')}`);
    }
  };
  /** The value cut into items of `size` octets; any other length is malformed. */
  const multipleOf = (size: number): Buffer[] => {
    if (value.length === 0 || value.length % size !== 0) {
      throw attributeError(raw, spec, UpdateSubcode.AttributeLengthError, `length ${value.length} is not a non-zero multiple of ${size}`);
    }
    return Array.from({ length: value.length / size }, (_, index) => value.subarray(index * size, (index + 1) * size));
  };
  const aggregator = (fourOctet: boolean): Aggregator => {
    lengthMustBe(fourOctet ? 8 : 6);
    return { asn: fourOctet ? value.readUInt32BE(0) : value.readUInt16BE(0), address: ipv4FromBytes(value.subarray(value.length - 4)) };
  };
  switch (type) {
    case 'origin': {
      lengthMustBe(1);
      const origin = ORIGINS[value[0]!];
      if (origin === undefined) throw attributeError(raw, spec, UpdateSubcode.InvalidOrigin, `undefined value ${value[0]}`);
      return { type, value: origin };
    }
    case 'as-path':
      return { type, segments: decodeSegments(raw, spec, context.fourOctetAs) };
    case 'as4-path':
      return { type, segments: decodeSegments(raw, spec, true) };
    case 'next-hop':
      lengthMustBe(4);
      return { type, value: ipv4FromBytes(value) };
    case 'med':
    case 'local-pref':
      lengthMustBe(4);
      return { type, value: value.readUInt32BE(0) };
    case 'atomic-aggregate':
      lengthMustBe(0);
      return { type };
    case 'aggregator':
      return { type, ...aggregator(context.fourOctetAs) };
    case 'as4-aggregator':
      return { type, ...aggregator(true) };
    case 'communities':
      // RFC 7606 7.8: a length that is not a non-zero multiple of 4.
      return { type, value: multipleOf(4).map((item) => item.readUInt32BE(0)) };
    case 'large-communities':
      // RFC 8092 6: likewise for 12.
      return {
        type,
        value: multipleOf(12).map((item) => ({ globalAdministrator: item.readUInt32BE(0), localData1: item.readUInt32BE(4), localData2: item.readUInt32BE(8) })),
      };
    case 'mp-reach':
    case 'mp-reach-undecoded':
      return decodeMpReach(raw, context);
    case 'mp-unreach':
    case 'mp-unreach-undecoded':
      return decodeMpUnreach(raw, context);
    case 'originator-id':
      // RFC 7606 7.9.
      lengthMustBe(4);
      return { type, value: ipv4FromBytes(value) };
    case 'cluster-list':
      // RFC 7606 7.10.
      return { type, value: multipleOf(4).map(ipv4FromBytes) };
    case 'extended-communities':
      // RFC 7606 7.14.
      return { type, value: multipleOf(8) };
    case 'ipv6-extended-communities':
      // RFC 7606 7.15.
      return { type, value: multipleOf(20) };
    case 'aigp':
      return { type, tlvs: decodeAigp(raw, spec) };
    case 'bgpsec-path':
      return decodeBgpsecPath(raw, spec);
    case 'otc':
      lengthMustBe(4);
      return { type, value: value.readUInt32BE(0) };
  }
}

/** What decodeAttributes found: the attributes that survived, and every RFC 7606 error
 *  short of a session reset (those throw). */
export interface DecodedAttributes {
  attributes: AnyPathAttribute[];
  errors: BgpError[];
}

const MALFORMED_LIST = (reason: string, action: ErrorAction, offset: number): BgpError =>
  new BgpError(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, reason, { action, offset });

/**
 * Decodes the Path Attributes field (`reader` spans exactly Total Path Attribute Length)
 * per RFC 7606: attribute-level errors are collected with their action; an error whose
 * action is a session reset throws. Duplicates (3g): the first occurrence counts, later
 * ones are discarded, except MP_REACH/MP_UNREACH, which reset the session.
 */
export function decodeAttributes(reader: Reader, context: SessionCodecContext): DecodedAttributes {
  const attributes: AnyPathAttribute[] = [];
  const errors: BgpError[] = [];
  const seen = new Set<number>();
  while (reader.remaining > 0) {
    const offset = reader.offset;
    if (reader.remaining < 3) {
      // RFC 7606 4: too few octets left for an attribute header: treat-as-withdraw.
      errors.push(MALFORMED_LIST(`${reader.remaining} stray bytes after the last attribute`, ErrorAction.TreatAsWithdraw, offset));
      break;
    }
    const flags = reader.u8();
    const code = reader.u8();
    const extended = (flags & AttributeFlag.ExtendedLength) !== 0;
    if (extended && reader.remaining < 2) {
      errors.push(MALFORMED_LIST('extended attribute length cut short', ErrorAction.TreatAsWithdraw, offset));
      break;
    }
    const length = extended ? reader.u16() : reader.u8();
    if (length > reader.remaining) {
      // RFC 7606 4: the attribute overruns Total Path Attribute Length: treat-as-withdraw.
      errors.push(
        new BgpError(ErrorCode.Update, UpdateSubcode.AttributeLengthError, `${attributeName(code)} length ${length} overruns the ${reader.remaining} bytes left`, {
          action: ErrorAction.TreatAsWithdraw,
          offset,
        }),
      );
      break;
    }
    const value = reader.bytes(length);
    const raw: RawAttribute = { code, flags, value, bytes: Buffer.concat([Buffer.from([flags, code]), Buffer.from(extended ? [length >> 8, length & 0xff] : [length]), value]), offset };
    const type = TYPE_BY_CODE.get(code);
    const spec = type === undefined ? undefined : SPECS[type];
    if (seen.has(code)) {
      if (code === AttributeCode.MpReachNlri || code === AttributeCode.MpUnreachNlri) {
        throw MALFORMED_LIST(`${attributeName(code)} appears twice`, ErrorAction.SessionReset, offset);
      }
      errors.push(MALFORMED_LIST(`${attributeName(code)} appears twice; the repeat is discarded`, ErrorAction.AttributeDiscard, offset));
      continue;
    }
    seen.add(code);
    if (type === undefined || spec === undefined) {
      if ((flags & AttributeFlag.Optional) === 0) {
        // RFC 4271 6.3; RFC 7606 does not soften it.
        throw new BgpError(ErrorCode.Update, UpdateSubcode.UnrecognizedWellKnownAttribute, `unrecognized well-known attribute ${code}`, { data: raw.bytes, offset });
      }
      attributes.push({ type: 'unknown', code, flags, value });
      continue;
    }
    try {
      // RFC 7606 3c: Optional/Transitive bits that conflict with the type make the
      // attribute malformed, with that attribute's own error handling.
      const typeBits = AttributeFlag.Optional | AttributeFlag.Transitive;
      if ((flags & typeBits) !== spec.flags) {
        // Before its AFI/SAFI is read there is no family to disable for MP_(UN)REACH.
        const action = spec.malformed === ErrorAction.AfiSafiDisable ? ErrorAction.SessionReset : spec.malformed;
        throw attributeError(raw, spec, UpdateSubcode.AttributeFlagsError, `flags 0x${flags.toString(16)}, expected 0x${spec.flags.toString(16)}`, action);
      }
      const attribute = decodeValue(type, raw, context);
      if (flags !== defaultFlags(type, length)) attribute.flags = flags;
      attributes.push(attribute);
    } catch (error) {
      if (!(error instanceof BgpError) || error.action === ErrorAction.SessionReset) throw error;
      errors.push(error);
    }
  }
  return { attributes, errors };
}
