import { buggyAddressCount, formatCidr, rangeSize, type AddressRange, type Family } from './address-range.js';

/**
 * The one internal model every pools source lands in: MetalLB's legacy config (ConfigMap,
 * bare document, Helm configInline), its CRDs, and vipkit's `--pool`/`--peer` flags.
 * Every item remembers where it was written, so a problem can point at it.
 */

/** A place in a file (`line`, `column` from 1) or in a flag's value (`column` only). */
export interface Location {
  source: string;
  line?: number;
  column: number;
}

export function formatLocation(at: Location): string {
  return at.line === undefined ? `${at.source}, column ${at.column}` : `${at.source}:${at.line}:${at.column}`;
}

export type Severity = 'error' | 'warning';

/** One problem: one sentence that says what is wrong and how to fix it. */
export interface Problem {
  severity: Severity;
  at: Location;
  message: string;
}

export type Protocol = 'layer2' | 'bgp';
export const PROTOCOLS: readonly Protocol[] = ['layer2', 'bgp'];

export interface PoolRange {
  /** As written, e.g. "10.0.0.64/27". */
  text: string;
  range: AddressRange;
  at: Location;
}

/**
 * A range as every format reads it: as written, except that a lone address (which only
 * --pool takes) becomes a /32 or /128, and a CIDR with host bits (which only MetalLB
 * takes) its network.
 */
export function portableRangeText({ text, range }: PoolRange): string {
  if (range.prefixLength !== undefined) return formatCidr(range);
  return text.includes('-') ? text : `${text.trim()}/${range.family === 4 ? 32 : 128}`;
}

/**
 * The format an item was written in, where MetalLB's verdict depends on it: its legacy
 * config (read by v0.12), its resources (v0.13 on, through webhooks that let in what may
 * become valid later), or vipkit's flags.
 */
export type SourceFormat = 'legacy' | 'resources' | 'flags';

export interface BgpAdvertisement {
  format: SourceFormat;
  /** Undefined means MetalLB's default: 32 (IPv4), 128 (IPv6), no LOCAL_PREF. */
  aggregationLength?: number;
  aggregationLengthV6?: number;
  localPref?: number;
  /** Community values ("65002:100", "large:65002:7:8") or names of aliases. */
  communities: string[];
  /** A BGPAdvertisement's: its name, the BGPPeers it is sent to (none: all), the nodes announcing and the services it covers (none: all). */
  name?: string;
  peers?: string[];
  nodeSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
  at: Location;
}

/** An L2Advertisement's scope: the nodes that may answer, their interfaces, the services (each absent: all). */
export interface L2Advertisement {
  nodeSelectors?: LabelSelector[];
  interfaces?: string[];
  serviceSelectors?: LabelSelector[];
  at: Location;
}

/** MetalLB IPAddressPool.spec.serviceAllocation: which services a pool is kept for. */
export interface ServiceAllocation {
  /** Lower is tried first; pools without a priority come after those with one. */
  priority?: number;
  namespaces: string[];
  namespaceSelectors: LabelSelector[];
  /** The Namespaces read beside the config whose labels namespaceSelectors match; MetalLB adds them to namespaces. */
  selectedNamespaces?: string[];
  serviceSelectors: LabelSelector[];
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: { key: string; operator: string; values: string[] }[];
}

export interface Pool {
  name: string;
  /** layer2, bgp, both (CRDs may advertise a pool both ways), or none (not advertised). */
  protocols: Protocol[];
  ranges: PoolRange[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  /** BGP pools have at least one; an empty list in a legacy file means one with defaults. */
  bgpAdvertisements: BgpAdvertisement[];
  /** The L2Advertisements of a pool when one of them narrows where or for whom it is announced; absent: announced by every node, on every interface, for every service. */
  l2Advertisements?: L2Advertisement[];
  serviceAllocation?: ServiceAllocation;
  at: Location;
}

export interface Peer {
  address: string;
  asn?: number;
  myAsn?: number;
  port?: number;
  /** Seconds. */
  holdTime?: number;
  keepaliveTime?: number;
  routerId?: string;
  sourceAddress?: string;
  password?: string;
  bfdProfile?: string;
  /** BFD towards this peer (`--peer ...,bfd=true`), at run's --bfd-interval and --bfd-multiplier. */
  bfd?: boolean;
  ebgpMultiHop?: boolean;
  nodeSelectors: LabelSelector[];
  at: Location;
  /** Instead of asn, the peer's AS is whatever its OPEN says, inside ours (internal) or not (external): BGPPeer dynamicASN. */
  dynamicAsn?: 'internal' | 'external';
  /** The VRF the session runs in (BGPPeer vrf, FRR mode). */
  vrf?: string;
  /** A BGPPeer's name, which BGPAdvertisements' peers list. */
  name?: string;
  /** Unnumbered BGP (v0.16): the interface the router is reached on; address is then ''. */
  interface?: string;
  /** The AS shown to this peer in place of myAsn (v0.16 localASN, FRR's local-as). */
  localAsn?: number;
  /** The name of the Secret holding the password (kubernetes.io/basic-auth, key "password"). */
  passwordSecret?: string;
  /** BGPPeer settings vipkit only carries over: connectTime (seconds), enableGracefulRestart, disableMP, dualStackAddressFamily. */
  connectTime?: number;
  enableGracefulRestart?: boolean;
  disableMP?: boolean;
  dualStackAddressFamily?: boolean;
}

/** The first setting of a peer that only a BGPPeer resource holds (not the legacy config, not --peer), by its BGPPeer key. */
export function bgpPeerOnlySetting(peer: Peer): string | undefined {
  const settings: [string, unknown][] = [
    ['dynamicASN', peer.dynamicAsn],
    ['vrf', peer.vrf],
    ['interface', peer.interface],
    ['localASN', peer.localAsn],
    ['passwordSecret', peer.passwordSecret],
    ['connectTime', peer.connectTime],
    ['enableGracefulRestart', peer.enableGracefulRestart],
    ['disableMP', peer.disableMP],
    ['dualStackAddressFamily', peer.dualStackAddressFamily],
  ];
  return settings.find(([, value]) => value !== undefined)?.[0];
}

/** The first way a BGP advertisement narrows who gets its routes that only a BGPAdvertisement resource holds. */
export function bgpAdvertisementOnlySetting(advertisement: BgpAdvertisement): string | undefined {
  return advertisement.peers ? 'peers' : advertisement.nodeSelectors ? 'nodeSelectors' : advertisement.serviceSelectors ? 'serviceSelectors' : undefined;
}

/** How problems name a peer: its address, or the interface of an unnumbered one. */
export function peerName(peer: Peer): string {
  return peer.address === '' ? `on interface ${peer.interface}` : peer.address;
}

/** A BFD profile (legacy bfd-profiles, BFDProfile): intervals in milliseconds. */
export interface BfdProfile {
  name: string;
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  echoInterval?: number;
  echoMode?: boolean;
  passiveMode?: boolean;
  minimumTtl?: number;
  at: Location;
}

/** A member of the cluster (`vipkit run --member`): a node that runs the speaker, the address its peers reach it at, and its labels. */
export interface Member {
  name: string;
  address: string;
  labels: Record<string, string>;
  at: Location;
}

export interface PoolsConfig {
  pools: Pool[];
  peers: Peer[];
  /** Community aliases: name -> value (legacy bgp-communities, Community CRDs). */
  communityAliases: Map<string, { value: string; at: Location }>;
  bfdProfiles: BfdProfile[];
}

export function emptyConfig(): PoolsConfig {
  return { pools: [], peers: [], communityAliases: new Map(), bfdProfiles: [] };
}

/** Exact with BigInt (a /64 holds 2^64 addresses, counted, never enumerated); avoid-buggy-ips leaves out .0 and .255. */
export function poolSize(pool: Pool, family: Family): bigint {
  return pool.ranges
    .filter((range) => range.range.family === family)
    .reduce((sum, range) => sum + rangeSize(range.range) - (pool.avoidBuggyIPs ? buggyAddressCount(range.range) : 0n), 0n);
}
