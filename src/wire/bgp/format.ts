import { DecodeError } from '../decode-error.js';
import type { AsPathSegment, LargeCommunity } from './attributes.js';
import type { Capability } from './capabilities.js';
import { familyName } from './registry.js';
import type { RouteAttributes } from './route-attributes.js';

/*
 * Text forms the CLI prints and parses (DESIGN.md --json conventions): AS paths as
 * "64800 65002 {64512 64513}", communities as "65002:100" or their well-known name,
 * large communities as "65002:7:8".
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
  atomic_aggregate?: boolean;
  aggregator?: string;
}

/** `ipv6`: the prefixes are IPv6, so the next hop is MP_REACH's, not NEXT_HOP. */
export function routeJson(attributes: RouteAttributes, ipv6: boolean): RouteJson {
  return {
    next_hop: ipv6 ? attributes.ipv6NextHop : attributes.nextHop,
    ...(ipv6 && attributes.ipv6LinkLocalNextHop ? { next_hop_link_local: attributes.ipv6LinkLocalNextHop } : {}),
    ...(attributes.asPath ? { as_path: formatAsPath(attributes.asPath) } : {}),
    origin: attributes.origin,
    med: attributes.med,
    local_pref: attributes.localPref,
    communities: attributes.communities?.map(formatCommunity),
    large_communities: attributes.largeCommunities?.map(formatLargeCommunity),
    ...(attributes.atomicAggregate ? { atomic_aggregate: true } : {}),
    ...(attributes.aggregator ? { aggregator: `${attributes.aggregator.asn}:${attributes.aggregator.address}` } : {}),
  };
}

/** IANA capability codes vipkit does not decode but can name. */
const CAPABILITY_NAMES: Record<number, string> = {
  5: 'extended-next-hop',
  9: 'bgp-role',
  69: 'add-path',
  71: 'long-lived-graceful-restart',
  73: 'fqdn',
  128: 'route-refresh (Cisco, old)',
};

/** The name a capability is matched by on both sides: its type, and the family for multiprotocol. */
export function capabilityName(capability: Capability): string {
  switch (capability.type) {
    case 'multiprotocol':
      return `multiprotocol ${familyName(capability)}`;
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
    case 'unknown':
      return `${capabilityName(capability)} (code ${capability.code}${capability.value.length ? `, ${capability.value.length} bytes` : ''})`;
    default:
      return capabilityName(capability);
  }
}
