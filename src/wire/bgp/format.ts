import { DecodeError } from '../decode-error.js';
import { ipv4FromBytes, ipv6FromBytes } from '../ip-address.js';
import { Reader } from '../reader.js';
import { attributeName, type AsPathSegment, type LargeCommunity, type SecurePathSegment, type SignatureBlock, type UnknownAttribute } from './attributes.js';
import { type Capability, ROLES } from './capabilities.js';
import { decodeNlri } from './nlri.js';
import { familyName } from './registry.js';
import type { RouteRefreshMessage } from './route-refresh.js';
import type { RouteAttributes } from './route-attributes.js';

/*
 * Text forms the CLI prints and parses (DESIGN.md --json conventions): AS paths as
 * "64800 65002 {64512 64513}", communities as "65002:100" or their well-known name,
 * large communities as "65002:7:8", extended communities as routers show them
 * ("RT:65002:100", "SoO:192.0.2.1:7", "LB:65002:125000000").
 */

/** IANA "BGP Well-known Communities" (RFC 1997, 3765, 7611, 7999, 8326, 9494). */
export const WELL_KNOWN_COMMUNITIES: ReadonlyMap<number, string> = new Map([
  [0xffff0000, 'GRACEFUL_SHUTDOWN'],
  [0xffff0001, 'ACCEPT_OWN'],
  [0xffff0002, 'ROUTE_FILTER_TRANSLATED_v4'],
  [0xffff0003, 'ROUTE_FILTER_v4'],
  [0xffff0004, 'ROUTE_FILTER_TRANSLATED_v6'],
  [0xffff0005, 'ROUTE_FILTER_v6'],
  [0xffff0006, 'LLGR_STALE'],
  [0xffff0007, 'NO_LLGR'],
  [0xffff0008, 'ACCEPT_OWN_NEXTHOP'],
  [0xffff029a, 'BLACKHOLE'],
  [0xffffff01, 'NO_EXPORT'],
  [0xffffff02, 'NO_ADVERTISE'],
  [0xffffff03, 'NO_EXPORT_SUBCONFED'],
  [0xffffff04, 'NO_PEER'],
]);

const COMMUNITY_BY_NAME = new Map([...WELL_KNOWN_COMMUNITIES].map(([value, name]) => [name.toLowerCase().replace(/_/g, '-'), value]));

/** Segments in the usual notation: sequences as space-separated ASes, sets in braces,
 *  confederation sequences in parentheses and confederation sets in square brackets. */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  return segments
    .map((segment) => {
      const asns = segment.asns.join(' ');
      switch (segment.type) {
        case 'sequence':
          return asns;
        case 'set':
          return `{${asns}}`;
        case 'confed-sequence':
          return `(${asns})`;
        case 'confed-set':
          return `[${asns}]`;
      }
    })
    .join(' ');
}

const BRACKETS: Record<string, { close: string; type: AsPathSegment['type'] }> = {
  '{': { close: '}', type: 'set' },
  '(': { close: ')', type: 'confed-sequence' },
  '[': { close: ']', type: 'confed-set' },
};

function parseAsn(text: string): number {
  const asn = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(asn >= 0 && asn <= 0xffffffff)) throw new DecodeError('bgp-text', `not an AS number: ${JSON.stringify(text)}`);
  return asn;
}

/** The inverse of formatAsPath; commas inside sets are accepted too ("{64513,64514}"). */
export function parseAsPath(text: string): AsPathSegment[] {
  const tokens = text.match(/[{}()[\]]|[^\s{}()[\],]+/g) ?? [];
  const segments: AsPathSegment[] = [];
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    const bracket = BRACKETS[token];
    if (bracket !== undefined) {
      const asns: number[] = [];
      for (index++; index < tokens.length && tokens[index] !== bracket.close; index++) asns.push(parseAsn(tokens[index]!));
      if (index >= tokens.length || asns.length === 0) throw new DecodeError('bgp-text', `unclosed or empty ${token} in AS path ${JSON.stringify(text)}`);
      segments.push({ type: bracket.type, asns });
      continue;
    }
    const last = segments[segments.length - 1];
    if (last?.type === 'sequence') last.asns.push(parseAsn(token));
    else segments.push({ type: 'sequence', asns: [parseAsn(token)] });
  }
  return segments;
}

/** "65002:100", or the well-known name ("NO_EXPORT"). */
export function formatCommunity(value: number): string {
  return WELL_KNOWN_COMMUNITIES.get(value) ?? `${value >>> 16}:${value & 0xffff}`;
}

/** "65002:100", a well-known name in any case with - or _ ("no-export", "NO_EXPORT"). */
export function parseCommunity(text: string): number {
  const named = COMMUNITY_BY_NAME.get(text.toLowerCase().replace(/_/g, '-'));
  if (named !== undefined) return named;
  const match = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  const [high, low] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(high <= 0xffff && low <= 0xffff)) throw new DecodeError('bgp-text', `not a community: ${JSON.stringify(text)}`);
  return ((high << 16) | low) >>> 0;
}

export function formatLargeCommunity(community: LargeCommunity): string {
  return `${community.globalAdministrator}:${community.localData1}:${community.localData2}`;
}

export function parseLargeCommunity(text: string): LargeCommunity {
  const parts = text.split(':');
  if (parts.length !== 3) throw new DecodeError('bgp-text', `not a large community: ${JSON.stringify(text)}`);
  const [globalAdministrator, localData1, localData2] = parts.map(parseAsn) as [number, number, number];
  return { globalAdministrator, localData1, localData2 };
}

const SUBTYPE_NAMES: Record<number, string> = { 0x02: 'RT', 0x03: 'SoO' };
/** IANA "BGP Tunnel Encapsulation Attribute Tunnel Types" that routers use. */
const TUNNEL_TYPES: Record<number, string> = { 1: 'L2TPv3', 2: 'GRE', 7: 'IP-in-IP', 8: 'VXLAN', 9: 'NVGRE', 10: 'MPLS', 11: 'MPLS-in-GRE', 12: 'VXLAN-GPE', 13: 'MPLS-in-UDP' };
/** IANA extended community types (high octet, Transitive bit clear), RFC 4360 3, RFC 5668, RFC 7153. */
const EXTENDED_TYPE_NAMES: Record<number, string> = { 0x00: 'as2', 0x01: 'ipv4', 0x02: 'as4', 0x03: 'opaque', 0x06: 'evpn' };

const hexByte = (value: number): string => `0x${value.toString(16).padStart(2, '0')}`;

/**
 * An extended community (8 octets, RFC 4360) as routers print it: route targets and
 * route origins of the three address-specific types as "RT:65002:100",
 * "RT:192.0.2.1:7", "RT:65550:200" ("SoO:" for origins), link bandwidth as
 * "LB:65002:<bytes per second>" (draft-ietf-idr-link-bandwidth), encapsulation and color
 * (RFC 9012) as "encap:VXLAN", "color:100"; any other as its type, subtype and value in
 * hex: "opaque:0x06:000000000064", or "0x8a:0x01:..." for unnamed types.
 */
export function formatExtendedCommunity(bytes: Buffer): string {
  const [type, subtype] = [bytes[0]!, bytes[1]!];
  const kind = type & ~0x40;
  const named = SUBTYPE_NAMES[subtype];
  if (named !== undefined && kind <= 0x02) {
    if (kind === 0x00) return `${named}:${bytes.readUInt16BE(2)}:${bytes.readUInt32BE(4)}`;
    if (kind === 0x01) return `${named}:${ipv4FromBytes(bytes.subarray(2, 6))}:${bytes.readUInt16BE(6)}`;
    return `${named}:${bytes.readUInt32BE(2)}:${bytes.readUInt16BE(6)}`;
  }
  if (kind === 0x00 && subtype === 0x04) return `LB:${bytes.readUInt16BE(2)}:${bytes.readFloatBE(4)}`;
  if (kind === 0x03 && subtype === 0x0c) return `encap:${TUNNEL_TYPES[bytes.readUInt16BE(6)] ?? bytes.readUInt16BE(6)}`;
  if (kind === 0x03 && subtype === 0x0b) return `color:${bytes.readUInt32BE(4)}`;
  return `${EXTENDED_TYPE_NAMES[kind] ?? hexByte(type)}:${hexByte(subtype)}:${bytes.subarray(2).toString('hex')}`;
}

/** An IPv6 address specific extended community (20 octets, RFC 5701): "RT:[2001:db8::1]:100",
 *  "SoO:[...]:7", or type, subtype and value in hex. */
export function formatIpv6ExtendedCommunity(bytes: Buffer): string {
  const named = SUBTYPE_NAMES[bytes[1]!];
  if (named !== undefined && (bytes[0]! & ~0x40) === 0x00) return `${named}:[${ipv6FromBytes(bytes.subarray(2, 18))}]:${bytes.readUInt16BE(18)}`;
  return `${hexByte(bytes[0]!)}:${hexByte(bytes[1]!)}:${bytes.subarray(2).toString('hex')}`;
}

/** RFC 8205 3.1: the Flags bit of a Secure_Path segment inside a confederation. */
const CONFED_SEGMENT = 0x80;

/** Secure_Path (RFC 8205 3.1) in AS path notation: each AS as often as its pCount says,
 *  confederation segments in parentheses. */
export function formatSecurePath(segments: readonly SecurePathSegment[]): string {
  return segments
    .map((segment) => {
      const asns = Array<number>(segment.pCount).fill(segment.asn).join(' ');
      return (segment.flags & CONFED_SEGMENT) !== 0 && asns ? `(${asns})` : asns;
    })
    .filter(Boolean)
    .join(' ');
}

/** "suite 1: 2 signatures" per Signature_Block. */
export function describeSignatureBlock(block: SignatureBlock): string {
  return `suite ${block.algorithmSuite}: ${block.signatures.length} signature${block.signatures.length === 1 ? '' : 's'}`;
}

/** An attribute vipkit does not know: "attribute 99 (flags 0xc0, 2 bytes): abcd". */
export function describeUnknownAttribute(attribute: UnknownAttribute): string {
  return `${attributeName(attribute.code)} (flags ${hexByte(attribute.flags)}, ${attribute.value.length} bytes)${attribute.value.length > 0 ? `: ${attribute.value.toString('hex')}` : ''}`;
}

/** DESIGN.md: integers beyond 2^53 as strings. */
function jsonInteger(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** A route's attributes in DESIGN.md's JSON shapes; absent attributes are left out. */
export interface RouteJson {
  next_hop?: string;
  next_hop_link_local?: string;
  as_path?: string;
  origin?: string;
  med?: number;
  local_pref?: number;
  communities?: string[];
  large_communities?: string[];
  extended_communities?: string[];
  ipv6_extended_communities?: string[];
  atomic_aggregate?: boolean;
  aggregator?: string;
  originator_id?: string;
  cluster_list?: string[];
  aigp?: number | string;
  otc?: number;
  bgpsec_path?: string;
  bgpsec_signatures?: string[];
  unknown_attributes?: string[];
}

/** `ipv6`: the prefixes are IPv6, so the next hop is MP_REACH's, not NEXT_HOP; IPv4
 *  prefixes carried in MP_REACH have its next hop (IPv6 with RFC 8950). */
export function routeJson(attributes: RouteAttributes, ipv6: boolean): RouteJson {
  const nextHop = ipv6 ? attributes.ipv6NextHop : (attributes.ipv4MpNextHop ?? attributes.nextHop);
  const linkLocal = ipv6 ? attributes.ipv6LinkLocalNextHop : attributes.ipv4MpLinkLocalNextHop;
  return {
    next_hop: nextHop,
    ...(linkLocal ? { next_hop_link_local: linkLocal } : {}),
    ...(attributes.asPath ? { as_path: formatAsPath(attributes.asPath) } : {}),
    origin: attributes.origin,
    med: attributes.med,
    local_pref: attributes.localPref,
    communities: attributes.communities?.map(formatCommunity),
    large_communities: attributes.largeCommunities?.map(formatLargeCommunity),
    extended_communities: attributes.extendedCommunities?.map(formatExtendedCommunity),
    ipv6_extended_communities: attributes.ipv6ExtendedCommunities?.map(formatIpv6ExtendedCommunity),
    ...(attributes.atomicAggregate ? { atomic_aggregate: true } : {}),
    ...(attributes.aggregator ? { aggregator: `${attributes.aggregator.asn}:${attributes.aggregator.address}` } : {}),
    originator_id: attributes.originatorId,
    cluster_list: attributes.clusterList,
    ...(attributes.aigp !== undefined ? { aigp: jsonInteger(attributes.aigp) } : {}),
    otc: attributes.otc,
    ...(attributes.bgpsecPath
      ? { bgpsec_path: formatSecurePath(attributes.bgpsecPath.securePath), bgpsec_signatures: attributes.bgpsecPath.signatureBlocks.map(describeSignatureBlock) }
      : {}),
    unknown_attributes: attributes.unknown?.map(describeUnknownAttribute),
  };
}

/** IANA capability codes vipkit does not decode but can name. */
const CAPABILITY_NAMES: Record<number, string> = {
  71: 'long-lived-graceful-restart',
  73: 'fqdn',
  128: 'route-refresh (Cisco, old)',
};

/** The name a capability is matched by on both sides: its type, and the family for multiprotocol. */
export function capabilityName(capability: Capability): string {
  switch (capability.type) {
    case 'multiprotocol':
      return `multiprotocol ${familyName(capability)}`;
    case 'role':
      return 'bgp-role';
    case 'unknown':
      return CAPABILITY_NAMES[capability.code] ?? `capability ${capability.code}`;
    default:
      return capability.type;
  }
}

/** A capability with its values, as `bgp-peer` and `watch --bgp` print it. */
export function describeCapability(capability: Capability): string {
  switch (capability.type) {
    case 'four-octet-as':
      return `four-octet-as ${capability.asn}`;
    case 'graceful-restart': {
      const flags = [capability.restarting ? 'restarting' : '', capability.notification ? 'notification' : ''].filter(Boolean);
      const families = capability.families.map((family) => `${familyName(family)}${family.forwardingState ? ' (forwarding kept)' : ''}`);
      return `graceful-restart restart-time=${capability.restartTime}s${flags.length ? ` ${flags.join(',')}` : ''}${families.length ? ` ${families.join(',')}` : ''}`;
    }
    case 'add-path': {
      const modes = capability.families.map((family) => `${familyName(family)} ${family.send && family.receive ? 'send/receive' : family.send ? 'send' : family.receive ? 'receive' : 'neither'}`);
      return `add-path ${modes.join(',')}`;
    }
    case 'extended-next-hop':
      return `extended-next-hop ${capability.families.map((family) => `${familyName(family)} via ${['', 'ipv4', 'ipv6'][family.nextHopAfi] || `afi ${family.nextHopAfi}`}`).join(',')}`;
    case 'role':
      return `bgp-role ${ROLES[capability.role] ?? capability.role}`;
    case 'unknown':
      return `${capabilityName(capability)} (code ${capability.code}${capability.value.length ? `, ${capability.value.length} bytes` : ''})`;
    default:
      return capabilityName(capability);
  }
}

/** The Address Prefix ORF (RFC 5292; IANA ORF type 64, Cisco's pre-standard 128 is the same). */
const ADDRESS_PREFIX_ORF = new Set([64, 128]);
const ORF_ACTIONS = ['add', 'remove', 'remove-all'];

/** Address Prefix ORF entries (RFC 5292, RFC 5291) as prefix-list lines:
 *  "add seq 10 permit 203.0.113.0/24 ge 25 le 32", "remove-all". */
function describeAddressPrefixOrf(afi: number, entries: Buffer): string[] {
  const reader = new Reader(entries, 'bgp-orf');
  const lines: string[] = [];
  while (reader.remaining > 0) {
    const flags = reader.u8('ORF entry flags');
    const action = ORF_ACTIONS[flags >> 6] ?? `action ${flags >> 6}`;
    if (flags >> 6 === 2) {
      lines.push(action);
      continue;
    }
    const sequence = reader.u32('sequence');
    const minLength = reader.u8('minlen');
    const maxLength = reader.u8('maxlen');
    const length = reader.u8('prefix length');
    const nlri = Buffer.concat([Buffer.from([length]), reader.bytes(Math.ceil(length / 8), `${length}-bit prefix`)]);
    const [prefix] = decodeNlri(new Reader(nlri, 'bgp-orf'), afi).prefixes;
    const range = `${minLength ? ` ge ${minLength}` : ''}${maxLength ? ` le ${maxLength}` : ''}`;
    lines.push(`${action} seq ${sequence} ${flags & 0x20 ? 'deny' : 'permit'} ${prefix}${range}`);
  }
  return lines;
}

/** A ROUTE-REFRESH's Outbound Route Filters (RFC 5291), one line per entry or filter. */
export function describeOrf(message: RouteRefreshMessage): string[] {
  if (message.orf === undefined) return [];
  const when = message.orf.whenToRefresh === 1 ? 'immediate' : message.orf.whenToRefresh === 2 ? 'defer' : `when-to-refresh ${message.orf.whenToRefresh}`;
  return [
    when,
    ...message.orf.filters.flatMap(({ orfType, entries }) => {
      if (!ADDRESS_PREFIX_ORF.has(orfType)) return [`ORF type ${orfType}: ${entries.length} bytes`];
      try {
        return describeAddressPrefixOrf(message.afi, entries).map((line) => `address-prefix ORF: ${line}`);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        return [`address-prefix ORF: ${entries.length} bytes, malformed: ${error.detail}`];
      }
    }),
  ];
}
