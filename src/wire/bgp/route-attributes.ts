import {
  type Aggregator,
  type AnyPathAttribute,
  type AsPathSegment,
  AttributeFlag,
  type LargeCommunity,
  type Origin,
  type PathAttribute,
  type SecurePathSegment,
  type SignatureBlock,
  type UnknownAttribute,
} from './attributes.js';
import { Afi, AS_TRANS, type SessionCodecContext } from './registry.js';

/**
 * The attributes a route carries, as the Adj-RIBs and the CLI see them: one field per
 * attribute, the AS path already merged with AS4_PATH (RFC 6793 4.2.3), no reachability
 * (prefixes travel beside it). `toPathAttributes` builds the wire list back for a session.
 */
export interface RouteAttributes {
  origin?: Origin;
  /** 4-octet AS numbers; `[]` for a route originated in this AS. */
  asPath?: AsPathSegment[];
  /** IPv4 NEXT_HOP, for IPv4 prefixes. */
  nextHop?: string;
  /** MP_REACH next hop for IPv6 prefixes: global, and link-local (RFC 2545 3). */
  ipv6NextHop?: string;
  ipv6LinkLocalNextHop?: string;
  /** MP_REACH next hop for IPv4 prefixes carried there: IPv4, or IPv6 with its link-local
   *  (extended next hop, RFC 8950). */
  ipv4MpNextHop?: string;
  ipv4MpLinkLocalNextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  communities?: number[];
  largeCommunities?: LargeCommunity[];
  /** RFC 4456 8. */
  originatorId?: string;
  clusterList?: string[];
  /** 8 octets each (RFC 4360), 20 each (RFC 5701). */
  extendedCommunities?: Buffer[];
  ipv6ExtendedCommunities?: Buffer[];
  /** The AIGP TLV's accumulated metric (RFC 7311 3: the first one counts). */
  aigp?: bigint;
  /** Only to Customer: the AS that set it (RFC 9234 5). */
  otc?: number;
  /** BGPsec_PATH as received (RFC 8205); never signed again by vipkit, so never sent. */
  bgpsecPath?: { securePath: SecurePathSegment[]; signatureBlocks: SignatureBlock[] };
  /** Attributes vipkit does not know, as received; only optional transitive ones are
   *  passed on (RFC 4271 5, with Partial set). */
  unknown?: UnknownAttribute[];
}

/** ASes a path counts for route selection and the AS4 merge (RFC 4271 9.1.2.2, RFC 6793
 *  4.2.3): a set counts as one, confederation segments as none. */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  return segments.reduce((sum, segment) => sum + (segment.type === 'sequence' ? segment.asns.length : segment.type === 'set' ? 1 : 0), 0);
}

/**
 * RFC 6793 4.2.3, for a route from a 2-octet (OLD) session: if AS_PATH has fewer ASes
 * than AS4_PATH, AS4_PATH is ignored; otherwise the leading ASes AS_PATH has beyond
 * AS4_PATH's count (added by OLD speakers) come first, then AS4_PATH.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  // Confederation segments in AS4_PATH are discarded (RFC 6793 6).
  const as4 = as4Path.filter((segment) => segment.type === 'sequence' || segment.type === 'set');
  let leading = asPathLength(asPath) - asPathLength(as4);
  if (leading < 0) return asPath.map((segment) => ({ ...segment, asns: [...segment.asns] }));
  const merged: AsPathSegment[] = [];
  for (const segment of asPath) {
    if (leading <= 0 && segment.type !== 'confed-sequence' && segment.type !== 'confed-set') break;
    if (segment.type === 'sequence') {
      const taken = segment.asns.slice(0, leading);
      if (taken.length > 0) merged.push({ type: 'sequence', asns: taken });
      leading -= taken.length;
    } else {
      merged.push({ ...segment, asns: [...segment.asns] });
      if (segment.type === 'set') leading -= 1;
    }
  }
  return [...merged, ...as4.map((segment) => ({ ...segment, asns: [...segment.asns] }))];
}

/** RFC 7311 3: the AIGP TLV's type. */
const AIGP_TLV = 1;

/** The route view of an UPDATE's attributes in a session's context. */
export function routeAttributes(attributes: readonly AnyPathAttribute[], context: SessionCodecContext): RouteAttributes {
  const route: RouteAttributes = {};
  let as4Path: AsPathSegment[] | undefined;
  let as4Aggregator: Aggregator | undefined;
  const unknown: UnknownAttribute[] = [];
  for (const attribute of attributes) {
    switch (attribute.type) {
      case 'origin':
        route.origin = attribute.value;
        break;
      case 'as-path':
        route.asPath = attribute.segments;
        break;
      case 'next-hop':
        route.nextHop = attribute.value;
        break;
      case 'med':
        route.med = attribute.value;
        break;
      case 'local-pref':
        route.localPref = attribute.value;
        break;
      case 'atomic-aggregate':
        route.atomicAggregate = true;
        break;
      case 'aggregator':
        route.aggregator = { asn: attribute.asn, address: attribute.address };
        break;
      case 'communities':
        route.communities = attribute.value;
        break;
      case 'large-communities':
        route.largeCommunities = attribute.value;
        break;
      case 'as4-path':
        as4Path = attribute.segments;
        break;
      case 'as4-aggregator':
        as4Aggregator = { asn: attribute.asn, address: attribute.address };
        break;
      case 'mp-reach':
        if (attribute.afi === Afi.Ipv6) {
          route.ipv6NextHop = attribute.nextHop;
          if (attribute.linkLocalNextHop !== undefined) route.ipv6LinkLocalNextHop = attribute.linkLocalNextHop;
        } else {
          route.ipv4MpNextHop = attribute.nextHop;
          if (attribute.linkLocalNextHop !== undefined) route.ipv4MpLinkLocalNextHop = attribute.linkLocalNextHop;
        }
        break;
      case 'originator-id':
        route.originatorId = attribute.value;
        break;
      case 'cluster-list':
        route.clusterList = attribute.value;
        break;
      case 'extended-communities':
        route.extendedCommunities = attribute.value;
        break;
      case 'ipv6-extended-communities':
        route.ipv6ExtendedCommunities = attribute.value;
        break;
      case 'aigp': {
        const metric = attribute.tlvs.find((tlv) => tlv.type === AIGP_TLV);
        if (metric !== undefined) route.aigp = metric.value.readBigUInt64BE(0);
        break;
      }
      case 'otc':
        route.otc = attribute.value;
        break;
      case 'bgpsec-path':
        route.bgpsecPath = { securePath: attribute.securePath, signatureBlocks: attribute.signatureBlocks };
        break;
      case 'mp-unreach':
      case 'mp-reach-undecoded':
      case 'mp-unreach-undecoded':
        break;
      case 'unknown':
        unknown.push(attribute);
        break;
    }
  }
  // RFC 6793 4.2.3: a NEW speaker ignores AS4_ attributes from a NEW speaker; from an OLD
  // one it merges them, unless AGGREGATOR names a real 2-octet AS (then both are ignored).
  const aggregatorIsTrans = route.aggregator === undefined || route.aggregator.asn === AS_TRANS;
  if (!context.fourOctetAs && aggregatorIsTrans) {
    if (as4Aggregator !== undefined && route.aggregator !== undefined) route.aggregator = as4Aggregator;
    if (as4Path !== undefined && route.asPath !== undefined) route.asPath = mergeAs4Path(route.asPath, as4Path);
  }
  if (unknown.length > 0) route.unknown = unknown;
  return route;
}

function needsFourOctets(segments: readonly AsPathSegment[]): boolean {
  return segments.some((segment) => segment.asns.some((asn) => asn > 0xffff));
}

function withAsTrans(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.map((segment) => ({ type: segment.type, asns: segment.asns.map((asn) => (asn > 0xffff ? AS_TRANS : asn)) }));
}

/**
 * The wire attributes for a route, in type-code order, for IPv4 prefixes (MP_REACH is
 * added by the packer for IPv6). BGPsec_PATH is not among them: vipkit does not sign. Towards a 2-octet session, ASes over 65535 become
 * AS_TRANS and the real path/aggregator go in AS4_PATH / AS4_AGGREGATOR (RFC 6793 4.2.2).
 */
export function toPathAttributes(route: RouteAttributes, context: SessionCodecContext): AnyPathAttribute[] {
  const list: AnyPathAttribute[] = [];
  const as4: PathAttribute[] = [];
  if (route.origin !== undefined) list.push({ type: 'origin', value: route.origin });
  if (route.asPath !== undefined) {
    if (!context.fourOctetAs && needsFourOctets(route.asPath)) {
      list.push({ type: 'as-path', segments: withAsTrans(route.asPath) });
      as4.push({ type: 'as4-path', segments: route.asPath.filter((segment) => segment.type === 'sequence' || segment.type === 'set') });
    } else {
      list.push({ type: 'as-path', segments: route.asPath });
    }
  }
  if (route.nextHop !== undefined) list.push({ type: 'next-hop', value: route.nextHop });
  if (route.med !== undefined) list.push({ type: 'med', value: route.med });
  if (route.localPref !== undefined) list.push({ type: 'local-pref', value: route.localPref });
  if (route.atomicAggregate) list.push({ type: 'atomic-aggregate' });
  if (route.aggregator !== undefined) {
    if (!context.fourOctetAs && route.aggregator.asn > 0xffff) {
      list.push({ type: 'aggregator', asn: AS_TRANS, address: route.aggregator.address });
      as4.push({ type: 'as4-aggregator', ...route.aggregator });
    } else {
      list.push({ type: 'aggregator', ...route.aggregator });
    }
  }
  if (route.communities !== undefined && route.communities.length > 0) list.push({ type: 'communities', value: route.communities });
  if (route.originatorId !== undefined) list.push({ type: 'originator-id', value: route.originatorId });
  if (route.clusterList !== undefined && route.clusterList.length > 0) list.push({ type: 'cluster-list', value: route.clusterList });
  if (route.extendedCommunities !== undefined && route.extendedCommunities.length > 0) list.push({ type: 'extended-communities', value: route.extendedCommunities });
  list.push(...as4);
  if (route.ipv6ExtendedCommunities !== undefined && route.ipv6ExtendedCommunities.length > 0) list.push({ type: 'ipv6-extended-communities', value: route.ipv6ExtendedCommunities });
  if (route.aigp !== undefined) {
    const metric = Buffer.alloc(8);
    metric.writeBigUInt64BE(route.aigp);
    list.push({ type: 'aigp', tlvs: [{ type: AIGP_TLV, value: metric }] });
  }
  if (route.largeCommunities !== undefined && route.largeCommunities.length > 0) list.push({ type: 'large-communities', value: route.largeCommunities });
  if (route.otc !== undefined) list.push({ type: 'otc', value: route.otc });
  // Only optional transitive ones are passed on (RFC 4271 5), with Partial set.
  const transitive = AttributeFlag.Optional | AttributeFlag.Transitive;
  for (const attribute of route.unknown ?? []) {
    if ((attribute.flags & transitive) === transitive) list.push({ ...attribute, flags: attribute.flags | AttributeFlag.Partial });
  }
  return list;
}
