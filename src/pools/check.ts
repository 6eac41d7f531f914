import { addressValue, buggyAddressCount, familyOf, widestPrefixLength, type Family } from './address-range.js';
import { formatLocation, peerName, type Peer, type Pool, type PoolRange, type PoolsConfig, type Problem } from './model.js';
import type { ServiceClaim } from './services.js';
import { closest, suggestion } from './suggest.js';
import { isCommunityValue } from './value-parsers.js';

/**
 * The checks that need the whole model (reading already reported syntax, unknown keys and
 * bad values): overlaps, addresses that belong to routers or nodes, BGP settings that
 * cannot work, and services that name pools which do not exist.
 */
export interface CheckContext {
  /** Node addresses (--node): a pool must not hand them out. */
  nodeAddresses: string[];
  services: ServiceClaim[];
}

export function checkConfig(config: PoolsConfig, context: CheckContext): Problem[] {
  const problems: Problem[] = [];
  checkOverlaps(config.pools, problems);
  for (const pool of config.pools) checkPool(pool, config, problems);
  for (const peer of config.peers) checkPeer(peer, problems);
  checkCommunityAliases(config, problems);
  checkReservedAddresses(config, context.nodeAddresses, problems);
  checkServicePools(config, context.services, problems);
  return problems;
}

export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => a.at.source.localeCompare(b.at.source) || (a.at.line ?? 0) - (b.at.line ?? 0) || a.at.column - b.at.column,
  );
}

function checkOverlaps(pools: Pool[], problems: Problem[]): void {
  const owned = pools.flatMap((pool) => pool.ranges.map((range) => ({ pool, range })));
  owned.sort((a, b) => a.range.range.family - b.range.range.family || compare(a.range.range.first, b.range.range.first));
  let furthest: (typeof owned)[number] | undefined;
  for (const current of owned) {
    if (furthest && furthest.range.range.family === current.range.range.family && furthest.range.range.last >= current.range.range.first) {
      const other = furthest.pool === current.pool ? 'another range of the same pool' : `pool "${furthest.pool.name}"`;
      problems.push({
        severity: 'error',
        at: current.range.at,
        message: `${current.range.text} of pool "${current.pool.name}" overlaps ${furthest.range.text} of ${other} (${formatLocation(furthest.range.at)}); MetalLB refuses overlapping pools, so make them disjoint.`,
      });
    }
    if (!furthest || furthest.range.range.family !== current.range.range.family || current.range.range.last > furthest.range.range.last) furthest = current;
  }
}

function checkPool(pool: Pool, config: PoolsConfig, problems: Problem[]): void {
  if (!pool.avoidBuggyIPs) {
    for (const range of pool.ranges) {
      if (buggyAddressCount(range.range) > 0n) {
        problems.push({
          severity: 'warning',
          at: range.at,
          message: `${range.text} in pool "${pool.name}" holds addresses ending in .0 or .255, which some clients mishandle; MetalLB accepts it, but avoid-buggy-ips (avoidBuggyIPs) would skip them.`,
        });
      }
    }
  }
  if (pool.protocols.includes('bgp') && config.peers.length === 0) {
    problems.push({ severity: 'warning', at: pool.at, message: `pool "${pool.name}" is announced over BGP but no peer is configured, so its addresses stay unreachable; MetalLB accepts it, but add a peer.` });
  }
  for (const advertisement of pool.bgpAdvertisements) {
    // config.go validateBGPAdvPerPool: no CIDR of the pool, a range's included, may be wider than the aggregate.
    for (const [length, family] of [[advertisement.aggregationLength, 4], [advertisement.aggregationLengthV6, 6]] as const) {
      if (length === undefined) continue;
      const wider = pool.ranges.find((range) => range.range.family === family && widestPrefixLength(range.range) > length);
      if (wider) {
        const widest = widestPrefixLength(wider.range);
        problems.push({
          severity: 'error',
          at: advertisement.at,
          message: `aggregation length /${length} is shorter than /${widest}, the widest prefix in ${wider.text} of pool "${pool.name}", so the aggregate would announce addresses outside the pool; use /${widest} or longer.`,
        });
      }
    }
    for (const community of advertisement.communities) {
      if (config.communityAliases.has(community) || isCommunityValue(community)) continue;
      const aliases = [...config.communityAliases.keys()];
      // validator.go resetTransientErrorsFields: MetalLB's webhook lets in a BGPAdvertisement's community without ':' (the
      // name of a Community that may come later; config.go getCommunityValue calls it a transient error), never a v0.12 ConfigMap's.
      if (advertisement.format === 'resources' && !community.includes(':')) {
        const close = closest(community, aliases);
        problems.push({
          severity: 'warning',
          at: advertisement.at,
          message: `community "${community}" is not a value and no Community in these files defines it; MetalLB accepts that and waits for one, so make sure a Community resource defines it${close ? ` (or did you mean "${close}"?)` : '.'}`,
        });
        continue;
      }
      const looksNumeric = /^(large:)?[\d:]+$/.test(community);
      const hint = aliases.length > 0 && !looksNumeric ? suggestion(community, aliases) : '; write it like 65002:100 (16-bit halves) or large:65002:7:8.';
      problems.push({ severity: 'error', at: advertisement.at, message: `community "${community}" is neither a value like 65002:100 nor a defined alias${hint}` });
    }
    const ibgp = config.peers.some((peer) => peer.asn !== undefined && peer.asn === peer.myAsn);
    if (advertisement.localPref !== undefined && config.peers.length > 0 && !ibgp) {
      problems.push({
        severity: 'warning',
        at: advertisement.at,
        message: `localpref ${advertisement.localPref} in pool "${pool.name}" has no effect: LOCAL_PREF is sent only to iBGP peers (RFC 4271 5.1.5) and every peer here is eBGP; MetalLB accepts it, but remove it.`,
      });
    }
  }
}

function checkCommunityAliases(config: PoolsConfig, problems: Problem[]): void {
  for (const [name, alias] of config.communityAliases) {
    if (!isCommunityValue(alias.value)) {
      problems.push({ severity: 'error', at: alias.at, message: `community "${name}" has the value "${alias.value}", which is not like 65002:100 or large:65002:7:8.` });
    }
  }
}

function checkPeer(peer: Peer, problems: Problem[]): void {
  if (peer.asn === undefined && peer.dynamicAsn === undefined) {
    problems.push({ severity: 'error', at: peer.at, message: `peer ${peerName(peer)} has no peer ASN; add peer-asn (peerASN or dynamicASN in a BGPPeer, asn= in --peer).` });
  }
  if (peer.myAsn === undefined) {
    problems.push({ severity: 'error', at: peer.at, message: `peer ${peerName(peer)} has no local ASN; add my-asn (myASN in a BGPPeer, my-asn= in --peer).` });
  }
  // config.go parsePeer (v0.12), peerFromCR (v0.13 on)
  if (peer.ebgpMultiHop && peer.asn !== undefined && peer.asn === peer.myAsn) {
    problems.push({ severity: 'error', at: peer.at, message: `peer ${peerName(peer)} is iBGP (AS ${peer.asn} on both ends), and MetalLB refuses ebgp-multihop on an iBGP peer; remove it.` });
  }
}

function checkReservedAddresses(config: PoolsConfig, nodeAddresses: string[], problems: Problem[]): void {
  const reserved: { address: string; what: string }[] = [
    ...config.peers.map((peer) => ({ address: peer.address, what: `BGP peer ${peerName(peer)}` })),
    ...config.peers.flatMap((peer) => (peer.sourceAddress ? [{ address: peer.sourceAddress, what: `the source address of the session to ${peer.address}` }] : [])),
    ...nodeAddresses.map((address) => ({ address, what: `node address ${address}` })),
  ];
  for (const { address, what } of reserved) {
    const family = familyOf(address);
    if (family === undefined) continue;
    const value = addressValue(address);
    for (const pool of config.pools) {
      const range = pool.ranges.find((candidate) => holds(candidate, family, value));
      if (range) {
        problems.push({
          severity: 'warning',
          at: range.at,
          message: `${range.text} in pool "${pool.name}" holds ${what}; MetalLB accepts it, but a Service given that address would take it over, so leave it out of the pool.`,
        });
      }
    }
  }
}

function checkServicePools(config: PoolsConfig, services: ServiceClaim[], problems: Problem[]): void {
  const names = config.pools.map((pool) => pool.name);
  for (const service of services) {
    if (service.pool !== undefined && !names.includes(service.pool)) {
      problems.push({
        severity: 'error',
        at: service.poolAt ?? service.at,
        message: `service ${service.key} asks for pool "${service.pool}", which does not exist${suggestion(service.pool, names)}`,
      });
    }
  }
}

function holds(range: PoolRange, family: Family, value: bigint): boolean {
  return range.range.family === family && range.range.first <= value && value <= range.range.last;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
