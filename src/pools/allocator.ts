import { addressRefusal, addressValue, familyOf, formatAddress, isBuggyAddress, type AddressRange, type Family } from './address-range.js';
import { AddressTable } from './address-table.js';
import { selectorMatches } from './crds.js';
import { IntervalSet } from './interval-set.js';
import type { LabelSelector, Pool, ServiceAllocation } from './model.js';
import type { ServiceClaim } from './services.js';
import { suggestion } from './suggest.js';

/**
 * MetalLB's allocator, rebuilt to scale: the addresses in use live in an interval set per
 * family (memory grows with what is allocated, never with pool size), so finding the
 * lowest free address in a /64 is as cheap as in a /29; who holds each one lives in an
 * address table, one array slot per address and no object of its own (bench/pools.ts
 * measures the cost per service at 1,000 and 100,000 services). The rules are MetalLB's
 * (internal/allocator/allocator.go, controller/service.go): a pool's ranges are walked
 * in the order written, each from its lowest address; avoid-buggy-ips skips .0 and .255;
 * an address is shared only between services with the same allow-shared-ip key, no
 * common port, and — under externalTrafficPolicy Local — the same pods; a pool's
 * serviceAllocation decides which services may use it at all.
 */

/** The result for one service: its addresses and pool, or why it got none. */
export interface Allocation {
  service: string;
  ips: string[];
  pool?: string;
  error?: string;
  /** Set when MetalLB could take the address from another pool as well: which one, and why. */
  note?: string;
}

/** What a service gets before it is written as text: its pool and one address per family. */
interface Placement {
  /** Undefined only when no address was asked for. */
  index?: PoolIndex;
  families: readonly Family[];
  values: bigint[];
  /** A pool of the same rank that could have served the service too, which MetalLB may pick instead. */
  alternative?: PoolIndex;
}

/** The service holding an address, or the services sharing it; they agree on the sharing and backend keys. */
type Holders = ServiceClaim | ServiceClaim[];

interface PoolIndex {
  pool: Pool;
  /** Place in the allocator's pools, by name: how a plan records the pool. */
  rank: number;
  /** In the order written: MetalLB takes the first usable address of the first range that has one. */
  ranges: Record<Family, AddressRange[]>;
  /** The pool's serviceAllocation as MetalLB resolves it; undefined for a pool open to every service. */
  allocation?: ResolvedAllocation;
  /** Refusals written once, not per service: a full pool is asked again by every later service. */
  exhausted: string;
  lacking: Record<Family, string>;
  /**
   * Families the pool has no free address of: known once and kept until a release, since
   * otherwise each later service walks every full pool again before one with room.
   */
  full: Record<Family, boolean>;
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
      .map((pool, rank) => ({
        pool,
        rank,
        ranges: {
          4: rangesOf(pool, 4),
          6: rangesOf(pool, 6),
        },
        allocation: resolvedAllocation(pool.serviceAllocation),
        exhausted: `pool ${pool.name} is exhausted.`,
        lacking: { 4: `pool ${pool.name} has no IPv4 addresses, which this service needs.`, 6: `pool ${pool.name} has no IPv6 addresses, which this service needs.` },
        full: { 4: false, 6: false },
      }));
    const autoAssign = this.pools.filter((index) => index.pool.autoAssign);
    this.openPools = autoAssign.filter((index) => !index.allocation);
    // allocator.go sortPools: priority 1 first; 0 (or none) means no priority and comes last. Ties stay by name.
    this.keptPools = autoAssign.filter((index) => index.allocation).sort((a, b) => priorityRank(a) - priorityRank(b));
  }

  /**
   * An address for the service by MetalLB's order: the pool its annotation names; else
   * the pools kept for it by serviceAllocation (by priority, then name); else every other
   * auto-assign pool by name. (MetalLB walks pools of equal rank in no fixed order; by
   * name is one of its answers, the same every time, and the result notes another.)
   */
  allocate(claim: ServiceClaim): Allocation {
    return described(claim, this.choose(claim));
  }

  /**
   * Every claim's result, deterministically: services keeping the addresses they hold
   * come first, then those asking for specific addresses, then the rest — each group in
   * namespace/name order — so the same inputs in any order give the same answer.
   */
  plan(claims: ServiceClaim[], loadBalancerClass?: string): AllocationPlan {
    // Each claim's group is read in input order, where the claims lie together in memory;
    // the groups then walk the key order and touch only their own claims. At 100,000
    // services a claim visited out of place is a cache miss, and those were most of the time.
    const groups = Uint8Array.from(claims, (claim) => groupOf(claim, loadBalancerClass));
    const plainFamilies = Uint8Array.from(claims, plainFamily);
    const keys = claims.map((claim) => claim.key);
    const positions = keyOrder(claims, keys);
    const columns = emptyColumns(keys, positions, this.pools);
    for (const group of [Group.OtherClass, Group.Keeping, Group.Requesting, Group.Rest]) {
      for (let at = 0; at < positions.length; at++) {
        const position = positions[at]!;
        if (groups[position] !== group) continue;
        const claim = claims[position]!;
        if (group === Group.OtherClass) {
          const whose = claim.loadBalancerClass === undefined ? 'has no loadBalancerClass' : `has loadBalancerClass ${claim.loadBalancerClass}`;
          const handled = loadBalancerClass === undefined ? 'services without a class' : `only loadBalancerClass ${loadBalancerClass}`;
          record(columns, at, `the service ${whose}, and MetalLB here handles ${handled}.`);
        } else if (group === Group.Keeping) {
          const kept = this.keep(claim);
          // A service that cannot keep its addresses asks again in a later group.
          if (kept !== undefined) record(columns, at, kept);
          else groups[position] = claim.requestedIps.length > 0 ? Group.Requesting : Group.Rest;
        } else if (claim.refusal !== undefined) {
          record(columns, at, claim.refusal);
        } else {
          const plain = plainFamilies[position]! as Family | 0;
          record(columns, at, group === Group.Requesting ? this.request(claim) : this.choose(claim, plain === 0 ? undefined : plain));
        }
      }
    }
    return new AllocationPlan(columns);
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
      for (const index of this.pools) index.full[family] = false;
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

  /**
   * The addresses the service holds, as controller/service.go convergeBalancer keeps them:
   * of the service's families, allowed by the config, from the pool its annotation names
   * and equal to those it asks for; a PreferDualStack service holding one also gets the
   * other family from the same pool when it is free. Undefined when they are given up.
   */
  private keep(claim: ServiceClaim): Placement | undefined {
    const held = claim.currentIps.map(familyOf);
    if (held.includes(undefined)) return undefined;
    if (!sameFamilies(held as Family[], claim.families) && !(claim.preferDualStack && claim.families.length === 2)) return undefined;
    // A request that cannot be read (service.go getDesiredLbIPs fails) leaves the addresses where they are.
    const requested = claim.refusal === undefined ? claim.requestedIps.map((ip) => (familyOf(ip) === undefined ? undefined : addressValue(ip))) : [];
    if (requested.length > 0 && !requested.includes(undefined)) {
      const current = claim.currentIps.map((ip) => addressValue(ip));
      if (requested.length !== current.length || requested.some((value) => !current.includes(value!))) return undefined;
    }
    const kept = this.place(claim, claim.currentIps, 'current');
    if (typeof kept === 'string') return undefined;
    const [family] = kept.families;
    if (claim.preferDualStack && kept.families.length === 1 && kept.index !== undefined) {
      const other: Family = family === 4 ? 6 : 4;
      const value = kept.index.ranges[other].length > 0 ? this.firstUsable(claim, kept.index, other) : undefined;
      if (value !== undefined) {
        this.take(claim, kept.index, other, value, claim.sharingKey);
        return { index: kept.index, families: [family!, other], values: [kept.values[0]!, value] };
      }
    }
    return kept;
  }

  /** service.go allocateIPs: the addresses asked for must be of the service's families. */
  private request(claim: ServiceClaim): Placement | string {
    const families = claim.requestedIps.map(familyOf);
    if (!families.includes(undefined) && !sameFamilies(families as Family[], claim.families)) {
      return `requested ${claim.requestedIps.join(', ')} ${claim.requestedIps.length === 1 ? 'is' : 'are'} not of the service's IP families (${claim.families.map((family) => `IPv${family}`).join(', ')}).`;
    }
    return this.place(claim, claim.requestedIps, 'requested');
  }

  /** plain: the one family of a claim that names no pool and shares no address, so that it is not read again. */
  private choose(claim: ServiceClaim, plain?: Family): Placement | string {
    if (plain === undefined && claim.pool !== undefined) {
      const index = this.pools.find((candidate) => candidate.pool.name === claim.pool);
      if (!index) {
        const names = this.pools.map((candidate) => candidate.pool.name);
        return `pool "${claim.pool}" named by the address-pool annotation does not exist${suggestion(claim.pool, names)}`;
      }
      if (!compatible(index, claim)) return `the address-pool annotation names ${keptForOthers(index)}.`;
      return this.fromNamedPool(claim, index);
    }
    // allocator.go Allocate: the pools kept for the service first, then those open to all.
    const groups = [this.keptPools.filter((index) => pinned(index, claim)), this.openPools];
    const candidates = groups.flat();
    if (candidates.length === 0) {
      return this.keptPools.length > 0
        ? 'no auto-assign pool may serve it: the serviceAllocation of each keeps it for other services.'
        : 'no pool is auto-assign; name one with the metallb.io/address-pool annotation.';
    }
    for (const group of groups) {
      const placed = this.bestPool(claim, group, plain);
      if (placed !== undefined) return placed;
    }
    // No pool can serve it: ask each again for its reason, which changes nothing.
    const families = plain !== undefined ? ONE_FAMILY[plain] : familiesOf(claim);
    const reasons = candidates.map((index) => this.usableValues(claim, index, families, plain !== undefined) as string);
    return reasons.length === 1 ? reasons[0]! : `no auto-assign pool can serve it: ${reasons.map((reason) => reason.replace(/\.$/, '')).join('; ')}.`;
  }

  /**
   * allocator.go findBestPoolForService: the first pool with an address of each family the
   * service needs; a PreferDualStack service with two families takes, failing that, the
   * first pool with its primary family, then the first with the other.
   */
  private bestPool(claim: ServiceClaim, group: PoolIndex[], plain?: Family): Placement | undefined {
    const tries = plain !== undefined ? [ONE_FAMILY[plain]] : familyChoices(claim);
    const full = (index: PoolIndex) => plain !== undefined && index.full[plain];
    const serves = (index: PoolIndex, families: readonly Family[]) => !full(index) && typeof this.usableValues(claim, index, families, plain !== undefined) !== 'string';
    for (const families of tries) {
      for (let at = 0; at < group.length; at++) {
        const index = group[at]!;
        if (full(index)) continue;
        const placed = this.allocateFromPool(claim, index, families, plain !== undefined);
        if (typeof placed === 'string') continue;
        // MetalLB's order among pools of equal rank is not fixed: allocator.go Allocate ranges over the map pools.ByName;
        // pinnedPoolsForService takes config.go poolsByNamespace's lists, built by ranging over it, and sortPools' sort.Slice is not stable.
        for (let next = at + 1; next < group.length && priorityRank(group[next]!) === priorityRank(index); next++) {
          if (serves(group[next]!, families)) {
            placed.alternative = group[next];
            break;
          }
        }
        return placed;
      }
    }
    return undefined;
  }

  /** allocation.go selectIPsForFamilyAndPolicy: from a named pool, PreferDualStack falls back to IPv4, then IPv6. */
  private fromNamedPool(claim: ServiceClaim, index: PoolIndex): Placement | string {
    const tries = claim.preferDualStack && claim.families.length === 2 ? [DUAL, ONE_FAMILY[4], ONE_FAMILY[6]] : [familiesOf(claim)];
    let first: string | undefined;
    for (const families of tries) {
      const placed = this.allocateFromPool(claim, index, families, false);
      if (typeof placed !== 'string') return placed;
      first ??= placed;
    }
    return first!;
  }

  private place(claim: ServiceClaim, ips: string[], why: 'requested' | 'current'): Placement | string {
    const wanted: (Address & { index: PoolIndex })[] = [];
    for (const ip of ips) {
      const family = familyOf(ip);
      if (family === undefined) return `${why} address "${ip}" ${addressRefusal(ip)}.`;
      const value = addressValue(ip);
      const index = this.pools.find((candidate) => inRanges(candidate.ranges[family], value));
      if (!index) return `${why} ${ip} is not in any pool.`;
      if (index.pool.avoidBuggyIPs && isBuggyAddress(family, value)) {
        return `${why} ${ip} ends in .0 or .255, which pool ${index.pool.name} avoids (avoid-buggy-ips).`;
      }
      if (claim.pool !== undefined && claim.pool !== index.pool.name) {
        return `${why} ${ip} is in pool ${index.pool.name}, not in pool ${claim.pool} named by the address-pool annotation.`;
      }
      if (!compatible(index, claim)) return `${why} ${ip} is in ${keptForOthers(index)}.`;
      if (wanted.some((earlier) => earlier.family === family)) return `${why} ${ips.join(', ')} are of one family; a service has at most one address per family.`;
      const refusal = this.sharingRefusal(claim, family, value);
      if (refusal) return refusal;
      wanted.push({ family, value, index });
    }
    if (new Set(wanted.map((item) => item.index)).size > 1) return `${why} addresses ${ips.join(', ')} are in different pools; MetalLB takes all of a service's addresses from one pool.`;
    for (const { family, value, index } of wanted) this.take(claim, index, family, value, claim.sharingKey);
    return { index: wanted[0]?.index, families: wanted.map((item) => item.family), values: wanted.map((item) => item.value) };
  }

  /** The first usable address of each family, taken, or why the pool cannot serve it; plain: the claim shares no address. */
  private allocateFromPool(claim: ServiceClaim, index: PoolIndex, families: readonly Family[], plain: boolean): Placement | string {
    const picked = this.usableValues(claim, index, families, plain);
    if (typeof picked === 'string') return picked;
    const sharingKey = plain ? undefined : claim.sharingKey;
    picked.forEach((value, at) => this.take(claim, index, families[at]!, value, sharingKey));
    return { index, families, values: picked };
  }

  /** The first usable address of each family, not yet taken, or why the pool cannot serve the claim. */
  private usableValues(claim: ServiceClaim, index: PoolIndex, families: readonly Family[], plain: boolean): bigint[] | string {
    const picked: bigint[] = [];
    for (const family of families) {
      if (index.ranges[family].length === 0) return index.lacking[family];
      const value = plain ? this.lowestFree(index, family) : this.firstUsable(claim, index, family);
      if (value === undefined) return index.exhausted;
      picked.push(value);
    }
    return picked;
  }

  /** getIPFromCIDR, range by range in the order written: the first address free, or shareable with the claim. */
  private firstUsable(claim: ServiceClaim, index: PoolIndex, family: Family): bigint | undefined {
    const shareable = this.shareable(claim, index, family);
    if (shareable.length === 0) return this.lowestFree(index, family);
    for (const range of index.ranges[family]) {
      const free = this.lowestFreeIn(index, family, range);
      const shared = shareable.find((value) => range.first <= value && value <= range.last);
      if (free !== undefined && (shared === undefined || free < shared)) return free;
      if (shared !== undefined) return shared;
    }
    return undefined;
  }

  private lowestFree(index: PoolIndex, family: Family): bigint | undefined {
    if (index.full[family]) return undefined;
    for (const range of index.ranges[family]) {
      const value = this.lowestFreeIn(index, family, range);
      if (value !== undefined) return value;
    }
    index.full[family] = true;
    return undefined;
  }

  private lowestFreeIn(index: PoolIndex, family: Family, range: AddressRange): bigint | undefined {
    const taken = this.taken[family];
    let candidate = range.first;
    while (candidate <= range.last) {
      candidate = taken.nextAbsent(candidate);
      if (candidate > range.last) break;
      if (!(index.pool.avoidBuggyIPs && isBuggyAddress(family, candidate))) return candidate;
      candidate++;
    }
    return undefined;
  }

  /** The addresses of the pool held under the claim's sharing key that it may share, lowest first. */
  private shareable(claim: ServiceClaim, index: PoolIndex, family: Family): bigint[] {
    if (claim.sharingKey === undefined) return [];
    const values: bigint[] = [];
    for (const [value, pool] of this.bySharingKey.get(claim.sharingKey)?.[family].entries() ?? []) {
      if (pool === index && !this.sharingRefusal(claim, family, value)) values.push(value);
    }
    return values.sort(compareBig);
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

  /** Records the service, whose allow-shared-ip key is given, as holding the address. */
  private take(claim: ServiceClaim, index: PoolIndex, family: Family, value: bigint, sharingKey: string | undefined): void {
    const holders = this.holders[family].get(value);
    if (holders === undefined) {
      this.holders[family].set(value, claim);
      this.taken[family].add(value);
      if (sharingKey !== undefined) this.sharedUnder(sharingKey)[family].set(value, index);
    } else {
      this.holders[family].set(value, [...holderList(holders), claim]);
    }
    this.byService?.set(claim.key, [...(this.byService.get(claim.key) ?? []), { family, value }]);
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
const ONE_FAMILY: Record<Family, readonly Family[]> = { 4: [4], 6: [6] };
const DUAL: readonly Family[] = [4, 6];

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

/** What every service gets from a fresh allocator over the pools; see Allocator.plan. */
export function planAllocations(pools: Pool[], claims: ServiceClaim[], loadBalancerClass?: string): AllocationPlan {
  return new Allocator(pools).plan(claims, loadBalancerClass);
}

/** A plan's results as columns, one row per service in key order. */
interface PlanColumns {
  /** The claims' keys, in input order. */
  keys: readonly string[];
  /** The position of each row's claim. */
  positions: Int32Array;
  poolNames: readonly string[];
  /** The rank of each row's pool; -1 for none. */
  pools: Int32Array;
  /** The family of each row's first address (0 for none) and its value in two 64-bit halves. */
  families: Uint8Array;
  high: BigUint64Array;
  low: BigUint64Array;
  /** The further addresses of the few rows with more than one (dual-stack, several requested). */
  more: Map<number, Address[]>;
  errors: Map<number, string>;
  /** The rank of another pool MetalLB may take each row's address from; -1 for none. */
  alternatives: Int32Array;
  /** How many rows have one. */
  undetermined: number;
}

/**
 * Every service's result, one row per service in namespace/name order. Rows are kept as
 * numbers in typed arrays and written as text only when read: a plan of 100,000
 * services kept as objects, arrays and strings outlives young-generation collections,
 * and copying it was much of the cost per service that grew with the plan (bench/pools.ts).
 */
export class AllocationPlan implements Iterable<Allocation> {
  constructor(private readonly columns: PlanColumns) {}

  get length(): number {
    return this.columns.positions.length;
  }

  /** How many services got no address. */
  get failed(): number {
    return this.columns.errors.size;
  }

  /** How many services MetalLB may give an address of another pool. */
  get undetermined(): number {
    return this.columns.undetermined;
  }

  service(row: number): string {
    return this.columns.keys[this.columns.positions[row]!]!;
  }

  error(row: number): string | undefined {
    return this.columns.errors.get(row);
  }

  pool(row: number): string | undefined {
    const rank = this.columns.pools[row]!;
    return rank < 0 ? undefined : this.columns.poolNames[rank];
  }

  ips(row: number): string[] {
    const { families, high, low, more } = this.columns;
    const family = families[row]! as Family | 0;
    if (family === 0) return [];
    const first = formatAddress(family, (high[row]! << 64n) | low[row]!);
    const rest = more.get(row);
    return rest === undefined ? [first] : [first, ...rest.map((address) => formatAddress(address.family, address.value))];
  }

  note(row: number): string | undefined {
    const rank = this.columns.alternatives[row]!;
    return rank < 0 ? undefined : equalRankNote(this.columns.poolNames[rank]!);
  }

  at(row: number): Allocation {
    const error = this.error(row);
    if (error !== undefined) return { service: this.service(row), ips: [], error };
    const note = this.note(row);
    return { service: this.service(row), ips: this.ips(row), pool: this.pool(row), ...(note === undefined ? {} : { note }) };
  }

  *[Symbol.iterator](): IterableIterator<Allocation> {
    for (let row = 0; row < this.length; row++) yield this.at(row);
  }
}

function emptyColumns(keys: readonly string[], positions: Int32Array, pools: readonly PoolIndex[]): PlanColumns {
  const rows = positions.length;
  return {
    keys,
    positions,
    poolNames: pools.map((index) => index.pool.name),
    pools: new Int32Array(rows).fill(-1),
    families: new Uint8Array(rows),
    high: new BigUint64Array(rows),
    low: new BigUint64Array(rows),
    more: new Map(),
    errors: new Map(),
    alternatives: new Int32Array(rows).fill(-1),
    undetermined: 0,
  };
}

/** Writes a result into its row; BigUint64Array keeps the low 64 bits of what it is given, so an address splits without a mask. */
function record(columns: PlanColumns, row: number, placed: Placement | string): void {
  if (typeof placed === 'string') {
    columns.errors.set(row, placed);
    return;
  }
  columns.pools[row] = placed.index?.rank ?? -1;
  if (placed.alternative !== undefined) {
    columns.alternatives[row] = placed.alternative.rank;
    columns.undetermined++;
  }
  const [family, ...families] = placed.families;
  if (family === undefined) return;
  const value = placed.values[0]!;
  columns.families[row] = family;
  if (family === 6) columns.high[row] = value >> 64n;
  columns.low[row] = value;
  if (families.length > 0) columns.more.set(row, families.map((more, at) => ({ family: more, value: placed.values[at + 1]! })));
}

/** MetalLB's order of work; a service's group may move later, never earlier. */
enum Group {
  OtherClass,
  Keeping,
  Requesting,
  Rest,
}

/**
 * The family of a claim that needs one, names no pool and shares no address, else 0. Read
 * in input order, it spares allocation the claim itself, visited in key order.
 */
function plainFamily(claim: ServiceClaim): Family | 0 {
  return claim.pool === undefined && claim.sharingKey === undefined && claim.families.length === 1 ? claim.families[0]! : 0;
}

function groupOf(claim: ServiceClaim, loadBalancerClass: string | undefined): Group {
  if (claim.loadBalancerClass !== loadBalancerClass) return Group.OtherClass;
  if (claim.currentIps.length > 0) return Group.Keeping;
  return claim.requestedIps.length > 0 ? Group.Requesting : Group.Rest;
}

/**
 * Positions of the claims in key order, the first claim of each key only. The positions
 * are counted into namespace buckets in input order and each bucket is sorted alone: a
 * namespace holds a share of the services, and sorting 100,000 keys at once cost twice
 * as much per service as sorting 1,000. The sort moves positions and reads keys from an
 * array made in input order, never the claims themselves.
 */
function keyOrder(claims: ServiceClaim[], keys: string[]): Int32Array {
  const byKey = (a: number, b: number) => compareText(keys[a]!, keys[b]!) || a - b;
  const buckets = new Map<string, number>();
  const bucketOf = new Int32Array(claims.length);
  for (const [position, claim] of claims.entries()) {
    // A key that does not start with its namespace cannot be ordered by bucket.
    if (!isKeyOf(claim.namespace, claim.key)) return firstOfEachKey(keys, Int32Array.from(keys, (_, at) => at).sort(byKey));
    let bucket = buckets.get(claim.namespace);
    if (bucket === undefined) buckets.set(claim.namespace, (bucket = buckets.size));
    bucketOf[position] = bucket;
  }
  const counts = new Int32Array(buckets.size);
  for (const bucket of bucketOf) counts[bucket]!++;
  // Namespaces hold no "/", so "namespace/" orders the keys as a whole: "a-b/x" comes before "a/x".
  const namespaces = [...buckets.keys()].sort((a, b) => compareText(`${a}/`, `${b}/`));
  const starts = new Int32Array(buckets.size);
  let start = 0;
  for (const namespace of namespaces) {
    const bucket = buckets.get(namespace)!;
    starts[bucket] = start;
    start += counts[bucket]!;
  }
  const order = new Int32Array(claims.length);
  const next = starts.slice();
  for (const [position, bucket] of bucketOf.entries()) order[next[bucket]!++] = position;
  for (const [bucket, first] of starts.entries()) order.subarray(first, first + counts[bucket]!).sort(byKey);
  return firstOfEachKey(keys, order);
}

function isKeyOf(namespace: string, key: string): boolean {
  return key.charCodeAt(namespace.length) === SLASH && key.startsWith(namespace);
}

const SLASH = 0x2f;

/** The positions, in key order, with each key's later claims left out; reuses order's memory. */
function firstOfEachKey(keys: string[], order: Int32Array): Int32Array {
  let kept = 0;
  for (const position of order) {
    if (kept === 0 || keys[position] !== keys[order[kept - 1]!]) order[kept++] = position;
  }
  return order.subarray(0, kept);
}

/** A serviceAllocation as internal/config/config.go addressPoolServiceAllocationsFromCR resolves it. */
interface ResolvedAllocation {
  /** Written, and matched by namespaceSelectors among the Namespaces read. */
  namespaces: Set<string>;
  serviceSelectors: LabelSelector[];
  /** 0: none. */
  priority: number;
}

const EVERY_SERVICE: LabelSelector = { matchLabels: {}, matchExpressions: [] };

function resolvedAllocation(allocation: ServiceAllocation | undefined): ResolvedAllocation | undefined {
  if (!allocation) return undefined;
  const namespaces = new Set([...allocation.namespaces, ...(allocation.selectedNamespaces ?? [])]);
  // Neither namespaces nor selectors (a priority alone): the pool is kept for every service.
  const everyService = allocation.namespaces.length === 0 && allocation.namespaceSelectors.length === 0 && allocation.serviceSelectors.length === 0;
  return { namespaces, serviceSelectors: everyService ? [EVERY_SERVICE] : allocation.serviceSelectors, priority: allocation.priority ?? 0 };
}

/** allocator.go isPoolCompatibleWithService: whether the service may have an address of the pool at all, however it asks. */
function compatible(index: PoolIndex, claim: ServiceClaim): boolean {
  const allocation = index.allocation;
  if (!allocation) return true;
  if (allocation.namespaces.size > 0 && !allocation.namespaces.has(claim.namespace)) return false;
  return allocation.serviceSelectors.length === 0 || allocation.serviceSelectors.some((selector) => selectorMatches(selector, claim.labels));
}

/** allocator.go pinnedPoolsForService: a kept pool is tried for a service of one of its namespaces, or one its service selectors match. */
function pinned(index: PoolIndex, claim: ServiceClaim): boolean {
  const allocation = index.allocation!;
  return (allocation.namespaces.has(claim.namespace) || allocation.serviceSelectors.length > 0) && compatible(index, claim);
}

function keptForOthers(index: PoolIndex): string {
  return `pool ${index.pool.name}, whose serviceAllocation (namespaces or selectors) keeps it for other services`;
}

/** A pool's ranges of one family, in the order written. */
function rangesOf(pool: Pool, family: Family): AddressRange[] {
  return pool.ranges.map((range) => range.range).filter((range) => range.family === family);
}

function described(claim: ServiceClaim, placed: Placement | string): Allocation {
  if (typeof placed === 'string') return { service: claim.key, ips: [], error: placed };
  const allocation: Allocation = { service: claim.key, ips: placed.values.map((value, at) => formatAddress(placed.families[at]!, value)), pool: placed.index?.pool.name };
  if (placed.alternative) allocation.note = equalRankNote(placed.alternative.pool.name);
  return allocation;
}

function equalRankNote(pool: string): string {
  return `MetalLB may take pool ${pool} instead: it tries pools of equal rank in no fixed order.`;
}

/** A pool's place in its group: a kept pool's priority (0, none, last), the same for every open pool. */
function priorityRank(index: PoolIndex): number {
  return index.allocation?.priority || Infinity;
}

/** The families of a service's addresses, IPv4 first as MetalLB writes them (allocation.go selectIPsForFamilyAndPolicy). */
function familiesOf(claim: ServiceClaim): readonly Family[] {
  return claim.families.length === 2 ? DUAL : claim.families;
}

/** What a pool may give the service, best first: both families; for PreferDualStack then the primary family, then the other. */
function familyChoices(claim: ServiceClaim): (readonly Family[])[] {
  if (claim.families.length < 2 || !claim.preferDualStack) return [familiesOf(claim)];
  return [DUAL, ONE_FAMILY[claim.families[0]!], ONE_FAMILY[claim.families[1]!]];
}

function sameFamilies(a: readonly Family[], b: readonly Family[]): boolean {
  return a.length === b.length && a.every((family) => b.includes(family));
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
