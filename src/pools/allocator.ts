import { addressValue, familyOf, formatAddress, isBuggyAddress, type AddressRange, type Family } from './address-range.js';
import { AddressTable } from './address-table.js';
import { selectorMatches } from './crds.js';
import { IntervalSet } from './interval-set.js';
import type { Pool } from './model.js';
import type { ServiceClaim } from './services.js';
import { suggestion } from './suggest.js';

/**
 * MetalLB's allocator, rebuilt to scale: the addresses in use live in an interval set per
 * family (memory grows with what is allocated, never with pool size), so finding the
 * lowest free address in a /64 is as cheap as in a /29; who holds each one lives in an
 * address table, one array slot per address and no object of its own (bench/pools.ts
 * measures the cost per service at 1,000 and 100,000 services). The rules are MetalLB's
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

/** The service holding an address, or the services sharing it; they agree on the sharing and backend keys. */
type Holders = ServiceClaim | ServiceClaim[];

interface PoolIndex {
  pool: Pool;
  ranges: Record<Family, AddressRange[]>;
  /** Refusals written once, not per service: a full pool is asked again by every later service. */
  exhausted: string;
  lacking: Record<Family, string>;
}

interface Address {
  family: Family;
  value: bigint;
}

export class Allocator {
  /** The addresses in use: as runs, to find the lowest free one, and by address, to find who holds it. */
  private readonly taken: Record<Family, IntervalSet> = { 4: new IntervalSet(), 6: new IntervalSet() };
  private readonly holders: Record<Family, AddressTable<Holders>> = { 4: new AddressTable(), 6: new AddressTable() };
  /** Addresses held under each allow-shared-ip key, with their pool. */
  private readonly bySharingKey = new Map<string, Record<Family, AddressTable<PoolIndex>>>();
  /**
   * Built on the first release, then kept up: a plan never releases, and a map entry per
   * service would be the dearest thing the allocator keeps at 100,000 services.
   */
  private byService?: Map<string, Address[]>;
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
    const wanted: (Address & { index: PoolIndex })[] = [];
    for (const ip of ips) {
      const family = familyOf(ip);
      if (family === undefined) return failure(claim, `${why} address "${ip}" is not an IP address.`);
      const value = addressValue(ip);
      const index = this.pools.find((candidate) => inRanges(candidate.ranges[family], value));
      if (!index) return failure(claim, `${why} ${ip} is not in any pool.`);
      if (index.pool.avoidBuggyIPs && isBuggyAddress(family, value)) {
        return failure(claim, `${why} ${ip} ends in .0 or .255, which pool ${index.pool.name} avoids (avoid-buggy-ips).`);
      }
      if (claim.pool !== undefined && claim.pool !== index.pool.name) {
        return failure(claim, `${why} ${ip} is in pool ${index.pool.name}, not in pool ${claim.pool} named by the address-pool annotation.`);
      }
      const refusal = this.sharingRefusal(claim, family, value);
      if (refusal) return failure(claim, refusal);
      wanted.push({ family, value, index });
    }
    if (new Set(wanted.map((item) => item.index)).size > 1) return failure(claim, `${why} addresses ${ips.join(', ')} are in different pools; MetalLB takes all of a service's addresses from one pool.`);
    const taken = wanted.map(({ family, value, index }) => this.take(claim, index, family, value));
    return { service: claim.key, ips: taken, pool: wanted[0]?.index.pool.name };
  }

  release(service: string): void {
    this.byService ??= this.indexByService();
    for (const { family, value } of this.byService.get(service) ?? []) {
      const left = holderList(this.holders[family].get(value)).filter((holder) => holder.key !== service);
      if (left.length > 0) {
        this.holders[family].set(value, left);
        continue;
      }
      const sharingKey = holderList(this.holders[family].get(value))[0]?.sharingKey;
      if (sharingKey !== undefined) this.bySharingKey.get(sharingKey)![family].delete(value);
      this.holders[family].delete(value);
      this.taken[family].delete(value);
    }
    this.byService.delete(service);
  }

  /** The addresses in use from a pool, lowest first, each with the services holding it. */
  usage(poolName: string): { ip: string; family: Family; services: string[] }[] {
    const index = this.pools.find((candidate) => candidate.pool.name === poolName);
    if (!index) return [];
    const rows = FAMILIES.flatMap((family) =>
      [...this.holders[family].entries()].filter(([value]) => inRanges(index.ranges[family], value)).map(([value, holders]) => ({ family, value, holders })),
    );
    rows.sort((a, b) => a.family - b.family || compareBig(a.value, b.value));
    return rows.map(({ family, value, holders }) => ({ ip: formatAddress(family, value), family, services: holderKeys(holders) }));
  }

  private candidatePools(claim: ServiceClaim): PoolIndex[] {
    if (this.keptPools.length === 0) return this.openPools;
    return [...this.keptPools.filter((index) => allocationMatches(index.pool, claim)), ...this.openPools];
  }

  /** The lowest usable address of each family the service needs, or why the pool cannot serve it. */
  private allocateFromPool(claim: ServiceClaim, index: PoolIndex): Allocation | string {
    const families = claim.preferDualStack ? preferredFamilies(claim.families, index) : claim.families;
    const picked: bigint[] = [];
    for (const family of families) {
      if (index.ranges[family].length === 0) return index.lacking[family];
      const value = this.lowestUsable(claim, index, family);
      if (value === undefined) return index.exhausted;
      picked.push(value);
    }
    const ips = picked.map((value, at) => this.take(claim, index, families[at]!, value));
    return { service: claim.key, ips, pool: index.pool.name };
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
    for (const [value, pool] of this.bySharingKey.get(claim.sharingKey)?.[family].entries() ?? []) {
      if (pool !== index || this.sharingRefusal(claim, family, value)) continue;
      if (lowest === undefined || value < lowest) lowest = value;
    }
    return lowest;
  }

  /** Why the service may not use an address, as MetalLB's sharing rules say; undefined when it may. */
  private sharingRefusal(claim: ServiceClaim, family: Family, value: bigint): string | undefined {
    const holders = this.holders[family].get(value);
    if (holders === undefined) return undefined;
    const ip = formatAddress(family, value);
    const first = holderList(holders)[0]!;
    const holder = holderKeys(holders)[0]!;
    if (first.sharingKey === undefined) return `${ip} is held by ${holder}, which does not allow sharing (no allow-shared-ip annotation).`;
    if (claim.sharingKey === undefined) return `${ip} is held by ${holder}; to share it, give this service the allow-shared-ip annotation "${first.sharingKey}".`;
    if (claim.sharingKey !== first.sharingKey) {
      return `sharing key "${claim.sharingKey}" differs from the key "${first.sharingKey}" of ${holder}, the service holding ${ip}.`;
    }
    if (claim.backendKey !== first.backendKey) {
      return `${ip} is shared by ${holder}, which selects other pods; services sharing an address with externalTrafficPolicy Local must select the same pods.`;
    }
    for (const other of holderList(holders)) {
      const port = other.ports.find((used) => claim.ports.includes(used));
      if (port !== undefined) return `port ${port} on ${ip} is already used by ${other.key}.`;
    }
    return undefined;
  }

  /** Records the service as holding the address; returns the address as text. */
  private take(claim: ServiceClaim, index: PoolIndex, family: Family, value: bigint): string {
    const holders = this.holders[family].get(value);
    if (holders === undefined) {
      this.holders[family].set(value, claim);
      this.taken[family].add(value);
      if (claim.sharingKey !== undefined) this.sharedUnder(claim.sharingKey)[family].set(value, index);
    } else {
      this.holders[family].set(value, [...holderList(holders), claim]);
    }
    this.byService?.set(claim.key, [...(this.byService.get(claim.key) ?? []), { family, value }]);
    return formatAddress(family, value);
  }

  private sharedUnder(sharingKey: string): Record<Family, AddressTable<PoolIndex>> {
    let shared = this.bySharingKey.get(sharingKey);
    if (!shared) {
      shared = { 4: new AddressTable(), 6: new AddressTable() };
      this.bySharingKey.set(sharingKey, shared);
    }
    return shared;
  }

  private indexByService(): Map<string, Address[]> {
    const index = new Map<string, Address[]>();
    for (const family of FAMILIES) {
      for (const [value, holders] of this.holders[family].entries()) {
        for (const holder of holderList(holders)) index.set(holder.key, [...(index.get(holder.key) ?? []), { family, value }]);
      }
    }
    return index;
  }
}

const FAMILIES: readonly Family[] = [4, 6];

function holderList(holders: Holders | undefined): ServiceClaim[] {
  return holders === undefined ? [] : Array.isArray(holders) ? holders : [holders];
}

/** The services holding an address, by name; the first is the one refusals name. */
function holderKeys(holders: Holders): string[] {
  return holderList(holders)
    .map((holder) => holder.key)
    .sort(compareText);
}

function inRanges(ranges: AddressRange[], value: bigint): boolean {
  return ranges.some((range) => range.first <= value && value <= range.last);
}

/**
 * What every service gets, deterministically: services keeping the addresses they hold
 * come first, then those asking for specific addresses, then the rest — each group in
 * namespace/name order — so the same inputs in any order give the same answer.
 */
export function planAllocations(pools: Pool[], claims: ServiceClaim[], loadBalancerClass?: string): Allocation[] {
  const allocator = new Allocator(pools);
  // Each claim's group is read in input order, where the claims lie together in memory;
  // the groups then walk the key order and touch only their own claims. At 100,000
  // services a claim visited out of place is a cache miss, and those were most of the time.
  const groups = claims.map((claim) => groupOf(claim, loadBalancerClass));
  const order = keyOrder(claims);
  const results = new Array<Allocation>(order.length);
  for (const group of [Group.OtherClass, Group.Keeping, Group.Requesting, Group.Rest]) {
    for (const [at, position] of order.entries()) {
      if (groups[position] !== group) continue;
      const claim = claims[position]!;
      if (group === Group.OtherClass) {
        const whose = claim.loadBalancerClass === undefined ? 'has no loadBalancerClass' : `has loadBalancerClass ${claim.loadBalancerClass}`;
        const handled = loadBalancerClass === undefined ? 'services without a class' : `only loadBalancerClass ${loadBalancerClass}`;
        results[at] = failure(claim, `the service ${whose}, and MetalLB here handles ${handled}.`);
      } else if (group === Group.Keeping) {
        const kept = allocator.assign(claim, claim.currentIps, 'current');
        // A service that cannot keep its addresses asks again in a later group.
        if (kept.error === undefined) results[at] = kept;
        else groups[position] = claim.requestedIps.length > 0 ? Group.Requesting : Group.Rest;
      } else {
        results[at] = group === Group.Requesting ? allocator.assign(claim, claim.requestedIps, 'requested') : allocator.allocate(claim);
      }
    }
  }
  return results;
}

/** MetalLB's order of work; a service's group may move later, never earlier. */
enum Group {
  OtherClass,
  Keeping,
  Requesting,
  Rest,
}

function groupOf(claim: ServiceClaim, loadBalancerClass: string | undefined): Group {
  if (claim.loadBalancerClass !== loadBalancerClass) return Group.OtherClass;
  if (claim.currentIps.length > 0) return Group.Keeping;
  return claim.requestedIps.length > 0 ? Group.Requesting : Group.Rest;
}

/**
 * Positions of the claims in key order, the first claim of each key only. The sort moves
 * positions and reads keys from an array made in input order, never the claims themselves.
 */
function keyOrder(claims: ServiceClaim[]): number[] {
  const keys = claims.map((claim) => claim.key);
  const order = keys.map((_, position) => position).sort((a, b) => compareText(keys[a]!, keys[b]!));
  return order.filter((position, at) => at === 0 || keys[position] !== keys[order[at - 1]!]);
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
