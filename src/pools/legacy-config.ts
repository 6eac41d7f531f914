import type { BgpAdvertisement, Peer, Pool, PoolsConfig, Problem, Protocol, SourceFormat } from './model.js';
import { checkBgpType, type BgpType } from './bgp-type.js';
import { emptyConfig, formatLocation } from './model.js';
import { MAX_ASN, readAddress, readProtocol } from './value-parsers.js';
import { addressField, checkBfdReferences, labelSelectorsField, LEGACY_SELECTORS, metallbRange, peerTimers, readBfdProfile, reportDuplicates, type BfdSpelling } from './yaml-fields.js';
import { entry, expectMap, FieldReader, type YamlMap, type YamlNode } from './yaml-source.js';

/**
 * MetalLB's legacy configuration (up to v0.12): the document held in the ConfigMap's
 * `data.config`, or under Helm's `configInline:`. MetalLB refused unknown and repeated
 * keys (yaml.UnmarshalStrict); here each is a problem at its place, with a suggestion.
 */

export const LEGACY_KEYS = ['peers', 'bgp-communities', 'address-pools', 'bfd-profiles'] as const;
const POOL_KEYS = ['protocol', 'addresses', 'auto-assign', 'avoid-buggy-ips', 'bgp-advertisements'];
const PEER_KEYS = [
  'peer-address',
  'peer-asn',
  'my-asn',
  'peer-port',
  'hold-time',
  'keepalive-time',
  'router-id',
  'source-address',
  'password',
  'node-selectors',
  'bfd-profile',
  'ebgp-multihop',
];

const BFD_KEYS: BfdSpelling = {
  receiveInterval: 'receive-interval',
  transmitInterval: 'transmit-interval',
  detectMultiplier: 'detect-multiplier',
  echoInterval: 'echo-interval',
  echoMode: 'echo-mode',
  passiveMode: 'passive-mode',
  minimumTtl: 'minimum-ttl',
};

/** v0.12 parseHoldTime: the hold time of a peer that gives none. */
const LEGACY_HOLD_TIME = 90;

/** bgpType: the MetalLB mode whose rules apply (v0.12 validate.go, every pair of peers alike); none, no mode's. */
export function readLegacyConfig(map: YamlMap, problems: Problem[], bgpType?: BgpType): PoolsConfig {
  const config = emptyConfig();
  const fields = new FieldReader(map, 'the MetalLB configuration', problems, LEGACY_KEYS);
  for (const [name, value] of Object.entries(fields.stringMap('bgp-communities'))) {
    config.communityAliases.set(name, { value, at: fields.mapping('bgp-communities')!.entries.find((item) => item.key === name)!.keyAt });
  }
  for (const node of fields.list('peers')) {
    const peer = readPeer(node, problems);
    if (peer) config.peers.push(peer);
  }
  for (const node of fields.list('address-pools')) {
    const pool = readPool(node, problems);
    if (pool) config.pools.push(pool);
  }
  for (const node of fields.list('bfd-profiles')) {
    const map = expectMap(node, 'a BFD profile', problems);
    if (!map) continue;
    const profile = new FieldReader(map, 'a BFD profile', problems, ['name', ...Object.values(BFD_KEYS)]);
    const name = profile.string('name');
    if (name === undefined) problems.push({ severity: 'error', at: map.at, message: 'a BFD profile has no name; add name: <profile-name>.' });
    else config.bfdProfiles.push(readBfdProfile(profile, name, BFD_KEYS));
  }
  checkBfdReferences(config.peers, config.bfdProfiles, 'error', problems);
  checkStandardCommunities(config, problems);
  if (bgpType !== undefined) checkBgpType(config, bgpType, () => true, problems);
  return config;
}

/** v0.12 config.go ParseCommunity reads standard communities only; large ones came with the CRDs (v0.13). */
function checkStandardCommunities(config: PoolsConfig, problems: Problem[]): void {
  const large = (value: string) => value.startsWith('large:');
  const refusal = (value: string) => `community ${value} is a large community, which MetalLB's legacy config (v0.12) cannot read; use a standard one like 65002:100, or the CRDs.`;
  for (const { value, at } of config.communityAliases.values()) {
    if (large(value)) problems.push({ severity: 'error', at, message: refusal(value) });
  }
  for (const advertisement of config.pools.flatMap((pool) => pool.bgpAdvertisements)) {
    for (const value of advertisement.communities.filter(large)) problems.push({ severity: 'error', at: advertisement.at, message: refusal(value) });
  }
}

/** How a legacy pool's keys are spelt: kebab-case in the ConfigMap, camelCase in v0.13's AddressPool resource. */
export interface LegacyPoolSpelling {
  autoAssign: string;
  /** The AddressPool resource has no avoid-buggy-ips. */
  avoidBuggyIPs?: string;
  bgpAdvertisements: string;
  aggregationLength: string;
  aggregationLengthV6: string;
  localPref: string;
}

const KEBAB: LegacyPoolSpelling = {
  autoAssign: 'auto-assign',
  avoidBuggyIPs: 'avoid-buggy-ips',
  bgpAdvertisements: 'bgp-advertisements',
  aggregationLength: 'aggregation-length',
  aggregationLengthV6: 'aggregation-length-v6',
  localPref: 'localpref',
};

function readPool(node: YamlNode, problems: Problem[]): Pool | undefined {
  const map = expectMap(node, 'an address pool', problems);
  if (!map) return undefined;
  const nameNode = entry(map, 'name');
  const what = nameNode?.kind === 'scalar' && nameNode.value !== null ? `address pool "${nameNode.value}"` : 'an address pool';
  const fields = new FieldReader(map, what, problems, ['name', ...POOL_KEYS]);
  const name = fields.string('name');
  if (name === undefined) problems.push({ severity: 'error', at: map.at, message: 'an address pool has no name; add name: <pool-name>.' });
  return readLegacyPool(fields, name ?? '', what, KEBAB, 'legacy', problems);
}

/** A pool with its protocol written on it (v0.12 internal/config/config.go parseAddressPool; v0.13 addressPoolFromLegacyCR, format 'resources'). */
export function readLegacyPool(fields: FieldReader, name: string, what: string, spelling: LegacyPoolSpelling, format: SourceFormat, problems: Problem[]): Pool {
  const map = fields.map;
  const protocolText = fields.string('protocol');
  let protocol: Protocol | undefined;
  if (protocolText === undefined) {
    problems.push({ severity: 'error', at: map.at, message: `${what} has no protocol; add protocol: layer2 or protocol: bgp.` });
  } else {
    protocol = readProtocol(protocolText, fields.at('protocol'), problems);
  }
  const addresses = fields.stringList('addresses');
  if (addresses.length === 0) problems.push({ severity: 'error', at: map.at, message: `${what} has no addresses; list its CIDRs or ranges under addresses:.` });
  const advertisementNodes = fields.list(spelling.bgpAdvertisements);
  if (advertisementNodes.length > 0 && protocol === 'layer2') {
    problems.push({ severity: 'error', at: fields.at(spelling.bgpAdvertisements), message: `${what} is layer2, so its ${spelling.bgpAdvertisements} are never used; remove them or set protocol: bgp.` });
  }
  const advertisements = advertisementNodes.flatMap((item) => readAdvertisement(item, what, spelling, format, problems) ?? []);
  // v0.12 config.go validateDuplicateAdvertisements: two equal advertisements are refused.
  advertisements.forEach((advertisement, at) => {
    const key = advertisementKey(advertisement);
    const earlier = advertisements.slice(0, at).find((other) => advertisementKey(other) === key);
    if (earlier) problems.push({ severity: 'error', at: advertisement.at, message: `this advertisement of ${what} repeats the one at ${formatLocation(earlier.at)}; MetalLB refuses equal advertisements, so remove one.` });
  });
  return {
    name,
    protocols: protocol ? [protocol] : [],
    ranges: addresses.flatMap(({ value, at }) => metallbRange(value, at, problems) ?? []),
    autoAssign: fields.boolean(spelling.autoAssign) ?? true,
    avoidBuggyIPs: (spelling.avoidBuggyIPs !== undefined && fields.boolean(spelling.avoidBuggyIPs)) || false,
    // MetalLB gives a bgp pool without advertisements one with the defaults.
    bgpAdvertisements: protocol === 'bgp' && advertisements.length === 0 ? [{ format, communities: [], at: map.at }] : advertisements,
    at: map.at,
  };
}

function readAdvertisement(node: YamlNode, pool: string, spelling: LegacyPoolSpelling, format: SourceFormat, problems: Problem[]): BgpAdvertisement | undefined {
  const what = `a ${spelling.bgpAdvertisements.replace(/s$/, '')} of ${pool}`;
  // An empty item (`- ` alone) is an advertisement with every default, as Go's YAML reads it.
  if (node.kind === 'scalar' && node.value === null) return { format, communities: [], at: node.at };
  const map = expectMap(node, what, problems);
  if (!map) return undefined;
  const fields = new FieldReader(map, what, problems, [spelling.aggregationLength, spelling.aggregationLengthV6, spelling.localPref, 'communities']);
  const communities = fields.stringList('communities');
  // v0.12 config.go validateDuplicateCommunities
  reportDuplicates(communities, `community in ${what}`, 'error', problems);
  return {
    format,
    aggregationLength: fields.integer(spelling.aggregationLength, 0, 32),
    aggregationLengthV6: fields.integer(spelling.aggregationLengthV6, 0, 128),
    localPref: fields.integer(spelling.localPref, 0, MAX_ASN),
    communities: communities.map(({ value }) => value),
    at: map.at,
  };
}

function advertisementKey({ aggregationLength, aggregationLengthV6, localPref, communities }: BgpAdvertisement): string {
  return JSON.stringify([aggregationLength, aggregationLengthV6, localPref, communities]);
}

function readPeer(node: YamlNode, problems: Problem[]): Peer | undefined {
  const map = expectMap(node, 'a peer', problems);
  if (!map) return undefined;
  const fields = new FieldReader(map, 'a peer', problems, PEER_KEYS);
  const addressText = fields.string('peer-address');
  if (addressText === undefined) {
    problems.push({ severity: 'error', at: map.at, message: 'a peer has no peer-address; add the router\'s address as peer-address:.' });
    return undefined;
  }
  const address = readAddress(addressText, 'peer-address', fields.at('peer-address'), problems);
  if (address === undefined) return undefined;
  return {
    address,
    asn: fields.integer('peer-asn', 1, MAX_ASN),
    myAsn: fields.integer('my-asn', 1, MAX_ASN),
    // v0.12 parsePeer: a peer-port of 0 is the default, 179.
    port: fields.integer('peer-port', 0, 65535) || undefined,
    ...peerTimers(fields, 'hold-time', 'keepalive-time', LEGACY_HOLD_TIME, problems),
    routerId: addressField(fields, 'router-id', problems),
    sourceAddress: addressField(fields, 'source-address', problems),
    password: fields.string('password'),
    bfdProfile: fields.string('bfd-profile'),
    ebgpMultiHop: fields.boolean('ebgp-multihop'),
    nodeSelectors: labelSelectorsField(fields, 'node-selectors', LEGACY_SELECTORS, problems),
    at: map.at,
  };
}
