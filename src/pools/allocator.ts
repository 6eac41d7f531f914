import { addressValue, familyOf, formatAddress, isBuggyAddress, type AddressRange, type Family } from './address-range.js';
import { selectorMatches } from './crds.js';
import { IntervalSet } from './interval-set.js';
import type { Pool } from './model.js';
import type { ServiceClaim } from './services.js';
import { suggestion } from './suggest.js';

/**
 * MetalLB's allocator, rebuilt to scale: the addresses in use live in an interval set per
 * family (memory grows with what is allocated, never with pool size), so finding the
 * lowest free address in a /64 is as cheap as in a /29. The rules are MetalLB's
 * (internal/allocator): lowest free address first within a pool; avoid-buggy-ips skips
 * .0 and .255; an address is shared only between services with the same
 * allow-shared-ip key, no common port, and — under externalTrafficPolicy Local — the same
 * pods.
 */

/** The result for one service: its addresses and pool, or why it got none. */
export interface Allocation {
  service: string;
  ips: string[];
  pool?: string;
  error?: string;
}

/** Who uses one address; kept small, since there is one per address in use. */
interface AddressUse {
  family: Family;
  value: bigint;
  pool: PoolIndex;
  sharingKey?: string;
  backendKey: string;
  /** Each port ("TCP/80") and the service using it. */
  ports: { port: string; service: string }[];
  services: string[];
}

interface PoolIndex {
  pool: Pool;
  ranges: Record<Family, AddressRange[]>;
  inUse: Set<AddressUse>;
  /** Refusals written once, not per service: a full pool is asked again by every later service. */
  exhausted: string;
  lacking: Record<Family, string>;
}

export class Allocator {
  private readonly taken: Record<Family, IntervalSet> = { 4: new IntervalSet(), 6: new IntervalSet() };
  private readonly uses: Record<Family, Map<bigint, AddressUse>> = { 4: new Map(), 6: new Map() };
  private readonly byService = new Map<string, AddressUse[]>();
  private readonly bySharingKey = new Map<string, Set<AddressUse>>();
  private readonly pools: PoolIndex[];
  /** Auto-assign pools open to every service, by name; computed once, asked per service. */
  private readonly openPools: PoolIndex[];
  private readonly keptPools: PoolIndex[];

  constructor(pools: Pool[]) {
    this.pools = [...pools]
      .sort((a, b) => compareText(a.name, b.name))
      .map((pool) => ({
        pool,
        ranges: {
          4: rangesOf(pool, 4),
          6: rangesOf(pool, 6),
        },
        inUse: new Set<AddressUse>(),
        exhausted: `pool ${pool.name} is exhausted.`,
        lacking: { 4: `pool ${pool.name} has no IPv4 addresses, which this service needs.`, 6: `pool ${pool.name} has no IPv6 addresses, which this service needs.` },
      }));
    const autoAssign = this.pools.filter((index) => index.pool.autoAssign);
    this.openPools = autoAssign.filter((index) => !index.pool.serviceAllocation);
    this.keptPools = autoAssign
      .filter((index) => index.pool.serviceAllocation)
      .sort((a, b) => (a.pool.serviceAllocation!.priority ?? Infinity) - (b.pool.serviceAllocation!.priority ?? Infinity));
  }

  /**
   * An address for the service by MetalLB's order: the pool its annotation names; else
   * the pools kept for it by serviceAllocation (by priority, then name); else every other
   * auto-assign pool by name.
   */
  allocate(claim: ServiceClaim): Allocation {
    if (claim.pool !== undefined) {
      const index = this.pools.find((candidate) => candidate.pool.name === claim.pool);
      if (!index) {
        const names = this.pools.map((candidate) => candidate.pool.name);
        return failure(claim, `pool "${claim.pool}" named by the address-pool annotation does not exist${suggestion(claim.pool, names)}`);
      }
      const attempt = this.allocateFromPool(claim, index);
      return typeof attempt === 'string' ? failure(claim, attempt) : attempt;
    }
    const candidates = this.candidatePools(claim);
    if (candidates.length === 0) return failure(claim, 'no pool is auto-assign; name one with the metallb.io/address-pool annotation.');
    const reasons: string[] = [];
    for (const index of candidates) {
      const attempt = this.allocateFromPool(claim, index);
      if (typeof attempt !== 'string') return attempt;
      reasons.push(attempt);
    }
    return failure(claim, reasons.length === 1 ? reasons[0]! : `no auto-assign pool can serve it: ${reasons.map((reason) => reason.replace(/\.$/, '')).join('; ')}.`);
  }

  /** Specific addresses: those a service asks for, or already holds (status.loadBalancer.ingress). */
  assign(claim: ServiceClaim, ips: string[], why: 'requested' | 'current'): Allocation {
    const wanted: { family: Family; value: bigint; index: PoolIndex }[] = [];
    for (const ip of ips) {
      const family = familyOf(ip);
      if (family === undefined) return failure(claim, `${why} address "${ip}" is not an IP address.`);
      const value = addressValue(ip);
      const index = this.pools.find((candidate) => candidate.ranges[family].some((range) => range.first <= value && value <= range.last));
      if (!index) return failure(claim, `${why} ${ip} is not in any pool.`);
      if (index.pool.avoidBuggyIPs && isBuggyAddress(family, value)) {
        return failure(claim, `${why} ${ip} ends in .0 or .255, which pool ${index.pool.name} avoids (avoid-buggy-ips).`);
      }
      if (claim.pool !== undefined && claim.pool !== index.pool.name) {
        return failure(claim, `${why} ${ip} is in pool ${index.pool.name}, not in pool ${claim.pool} named by the address-pool annotation.`);
      }
      const refusal = this.sharingRefusal(claim, this.uses[family].get(value));
      if (refusal) return failure(claim, refusal);
      wanted.push({ family, value, index });
    }
    if (new Set(wanted.map((item) => item.index)).size > 1) return failure(claim, `${why} addresses ${ips.join(', ')} are in different pools; MetalLB takes all of a service's addresses from one pool.`);
    for (const { family, value, index } of wanted) this.take(claim, index, family, value);
    return { service: claim.key, ips: wanted.map(({ family, value }) => formatAddress(family, value)), pool: wanted[0]?.index.pool.name };
  }

  release(service: string): void {
    for (const use of this.byService.get(service) ?? []) {
      use.services = use.services.filter((holder) => holder !== service);
      use.ports = use.ports.filter((port) => port.service !== service);
      if (use.services.length > 0) continue;
      this.uses[use.family].delete(use.value);
      this.taken[use.family].delete(use.value);
      use.pool.inUse.delete(use);
      if (use.sharingKey !== undefined) this.bySharingKey.get(use.sharingKey)!.delete(use);
    }
    this.byService.delete(service);
  }

  /** The addresses in use from a pool, lowest first, each with the services holding it. */
  usage(poolName: string): { ip: string; family: Family; services: string[] }[] {
    const index = this.pools.find((candidate) => candidate.pool.name === poolName);
    const uses = [...(index?.inUse ?? [])];
    uses.sort((a, b) => a.family - b.family || compareBig(a.value, b.value));
    return uses.map((use) => ({ ip: formatAddress(use.family, use.value), family: use.family, services: [...use.services].sort(compareText) }));
  }

  private candidatePools(claim: ServiceClaim): PoolIndex[] {
    if (this.keptPools.length === 0) return this.openPools;
    return [...this.keptPools.filter((index) => allocationMatches(index.pool, claim)), ...this.openPools];
  }

  /** The lowest usable address of each family the service needs, or why the pool cannot serve it. */
  private allocateFromPool(claim: ServiceClaim, index: PoolIndex): Allocation | string {
    const families = claim.preferDualStack ? preferredFamilies(claim.families, index) : claim.families;
    const picked: { family: Family; value: bigint }[] = [];
    for (const family of families) {
      if (index.ranges[family].length === 0) return index.lacking[family];
      const value = this.lowestUsable(claim, index, family);
      if (value === undefined) return index.exhausted;
      picked.push({ family, value });
    }
    for (const { family, value } of picked) this.take(claim, index, family, value);
    return { service: claim.key, ips: picked.map(({ family, value }) => formatAddress(family, value)), pool: index.pool.name };
  }

  /** MetalLB walks the pool in order and takes the first address it may use: free, or shareable. */
  private lowestUsable(claim: ServiceClaim, index: PoolIndex, family: Family): bigint | undefined {
    const free = this.lowestFree(index, family);
    const shareable = this.lowestShareable(claim, index, family);
    if (free === undefined) return shareable;
    return shareable !== undefined && shareable < free ? shareable : free;
  }

  private lowestFree(index: PoolIndex, family: Family): bigint | undefined {
    const taken = this.taken[family];
    for (const range of index.ranges[family]) {
      let candidate = range.first;
      while (candidate <= range.last) {
        candidate = taken.nextAbsent(candidate);
        if (candidate > range.last) break;
        if (!(index.pool.avoidBuggyIPs && isBuggyAddress(family, candidate))) return candidate;
        candidate++;
      }
    }
    return undefined;
  }

  private lowestShareable(claim: ServiceClaim, index: PoolIndex, family: Family): bigint | undefined {
    if (claim.sharingKey === undefined) return undefined;
    let lowest: bigint | undefined;
    for (const use of this.bySharingKey.get(claim.sharingKey) ?? []) {
      if (use.pool !== index || use.family !== family || this.sharingRefusal(claim, use)) continue;
      if (lowest === undefined || use.value < lowest) lowest = use.value;
    }
    return lowest;
  }

  /** Why the service may not use an address someone holds, as MetalLB's sharing rules say; undefined when it may. */
  private sharingRefusal(claim: ServiceClaim, use: AddressUse | undefined): string | undefined {
    if (!use) return undefined;
    const ip = formatAddress(use.family, use.value);
    const holder = [...use.services].sort(compareText)[0]!;
    if (use.sharingKey === undefined) return `${ip} is held by ${holder}, which does not allow sharing (no allow-shared-ip annotation).`;
    if (claim.sharingKey === undefined) return `${ip} is held by ${holder}; to share it, give this service the allow-shared-ip annotation "${use.sharingKey}".`;
    if (claim.sharingKey !== use.sharingKey) {
      return `sharing key "${claim.sharingKey}" differs from the key "${use.sharingKey}" of ${holder}, the service holding ${ip}.`;
    }
    if (claim.backendKey !== use.backendKey) {
      return `${ip} is shared by ${holder}, which selects other pods; services sharing an address with externalTrafficPolicy Local must select the same pods.`;
    }
    const clash = use.ports.find(({ port }) => claim.ports.includes(port));
    if (clash) return `port ${clash.port} on ${ip} is already used by ${clash.service}.`;
    return undefined;
  }

  private take(claim: ServiceClaim, index: PoolIndex, family: Family, value: bigint): void {
    let use = this.uses[family].get(value);
    if (!use) {
      use = { family, value, pool: index, sharingKey: claim.sharingKey, backendKey: claim.backendKey, ports: [], services: [] };
      this.uses[family].set(value, use);
      this.taken[family].add(value);
      index.inUse.add(use);
      if (claim.sharingKey !== undefined) {
        if (!this.bySharingKey.has(claim.sharingKey)) this.bySharingKey.set(claim.sharingKey, new Set());
        this.bySharingKey.get(claim.sharingKey)!.add(use);
      }
    }
    use.services.push(claim.key);
    for (const port of claim.ports) use.ports.push({ port, service: claim.key });
    const held = this.byService.get(claim.key);
    if (held) held.push(use);
    else this.byService.set(claim.key, [use]);
  }
}

/**
 * What every service gets, deterministically: services keeping the addresses they hold
 * come first, then those asking for specific addresses, then the rest — each group in
 * namespace/name order — so the same inputs in any order give the same answer.
 */
export function planAllocations(pools: Pool[], claims: ServiceClaim[], loadBalancerClass?: string): Allocation[] {
  const allocator = new Allocator(pools);
  const results = new Map<string, Allocation>();
  const pending = [...claims].sort((a, b) => compareText(a.key, b.key));
  const seen = new Set<string>();
  const ours: ServiceClaim[] = [];
  for (const claim of pending) {
    if (seen.has(claim.key)) continue;
    seen.add(claim.key);
    if (claim.loadBalancerClass !== loadBalancerClass) {
      const whose = claim.loadBalancerClass === undefined ? 'has no loadBalancerClass' : `has loadBalancerClass ${claim.loadBalancerClass}`;
      const handled = loadBalancerClass === undefined ? 'services without a class' : `only loadBalancerClass ${loadBalancerClass}`;
      results.set(claim.key, failure(claim, `the service ${whose}, and MetalLB here handles ${handled}.`));
    } else {
      ours.push(claim);
    }
  }
  const requesting: ServiceClaim[] = [];
  const rest: ServiceClaim[] = [];
  for (const claim of ours) {
    const kept = claim.currentIps.length > 0 ? allocator.assign(claim, claim.currentIps, 'current') : undefined;
    if (kept && kept.error === undefined) results.set(claim.key, kept);
    else (claim.requestedIps.length > 0 ? requesting : rest).push(claim);
  }
  for (const claim of requesting) results.set(claim.key, allocator.assign(claim, claim.requestedIps, 'requested'));
  for (const claim of rest) results.set(claim.key, allocator.allocate(claim));
  return [...results.values()].sort((a, b) => compareText(a.service, b.service));
}

function allocationMatches(pool: Pool, claim: ServiceClaim): boolean {
  const allocation = pool.serviceAllocation!;
  // Namespace selectors need the namespaces' labels, which a services file does not carry.
  if (allocation.namespaces.length === 0 && allocation.namespaceSelectors.length > 0) return false;
  const namespaceOk = allocation.namespaces.length === 0 || allocation.namespaces.includes(claim.namespace);
  const serviceOk = allocation.serviceSelectors.length === 0 || allocation.serviceSelectors.some((selector) => selectorMatches(selector, claim.labels));
  return namespaceOk && serviceOk;
}

/** A pool's ranges of one family, sorted and merged, so the lowest address comes first. */
function rangesOf(pool: Pool, family: Family): AddressRange[] {
  const sorted = pool.ranges
    .map((range) => range.range)
    .filter((range) => range.family === family)
    .sort((a, b) => compareBig(a.first, b.first));
  const merged: AddressRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.first <= last.last + 1n) last.last = range.last > last.last ? range.last : last.last;
    else merged.push({ family, first: range.first, last: range.last });
  }
  return merged;
}

function failure(claim: ServiceClaim, error: string): Allocation {
  return { service: claim.key, ips: [], error };
}

/** PreferDualStack: the families the pool has, or else the primary one (so that the refusal names it). */
function preferredFamilies(families: Family[], index: PoolIndex): Family[] {
  const held = families.filter((family) => index.ranges[family].length > 0);
  return held.length > 0 ? held : families;
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
