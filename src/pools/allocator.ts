import { addressRefusal, addressValue, familyOf, formatAddress, isBuggyAddress, type AddressRange, type Family } from './address-range.js';
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

/** What a service gets before it is written as text: its pool and one address per family. */
interface Placement {
  /** Undefined only when no address was asked for. */
  index?: PoolIndex;
  families: readonly Family[];
  values: bigint[];
}

/** The service holding an address, or the services sharing it; they agree on the sharing and backend keys. */
type Holders = ServiceClaim | ServiceClaim[];

interface PoolIndex {
  pool: Pool;
  /** Place in the allocator's pools, by name: how a plan records the pool. */
  rank: number;
  ranges: Record<Family, AddressRange[]>;
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
        exhausted: `pool ${pool.name} is exhausted.`,
        lacking: { 4: `pool ${pool.name} has no IPv4 addresses, which this service needs.`, 6: `pool ${pool.name} has no IPv6 addresses, which this service needs.` },
        full: { 4: false, 6: false },
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
          const kept = this.place(claim, claim.currentIps, 'current');
          // A service that cannot keep its addresses asks again in a later group.
          if (typeof kept !== 'string') record(columns, at, kept);
          else groups[position] = claim.requestedIps.length > 0 ? Group.Requesting : Group.Rest;
        } else {
          const plain = plainFamilies[position]! as Family | 0;
          record(columns, at, group === Group.Requesting ? this.place(claim, claim.requestedIps, 'requested') : this.choose(claim, plain === 0 ? undefined : plain));
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

  /** plain: the one family of a claim that names no pool and shares no address, so that it is not read again. */
  private choose(claim: ServiceClaim, plain?: Family): Placement | string {
    if (plain === undefined && claim.pool !== undefined) {
      const index = this.pools.find((candidate) => candidate.pool.name === claim.pool);
      if (!index) {
        const names = this.pools.map((candidate) => candidate.pool.name);
        return `pool "${claim.pool}" named by the address-pool annotation does not exist${suggestion(claim.pool, names)}`;
      }
      return this.allocateFromPool(claim, index);
    }
    const candidates = this.candidatePools(claim);
    if (candidates.length === 0) return 'no pool is auto-assign; name one with the metallb.io/address-pool annotation.';
    for (const index of candidates) {
      if (plain !== undefined && index.full[plain]) continue;
      const attempt = this.allocateFromPool(claim, index, plain);
      if (typeof attempt !== 'string') return attempt;
    }
    // No pool can serve it: ask each again for its reason, which changes nothing.
    const reasons = candidates.map((index) => this.allocateFromPool(claim, index, plain) as string);
    return reasons.length === 1 ? reasons[0]! : `no auto-assign pool can serve it: ${reasons.map((reason) => reason.replace(/\.$/, '')).join('; ')}.`;
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
      const refusal = this.sharingRefusal(claim, family, value);
      if (refusal) return refusal;
      wanted.push({ family, value, index });
    }
    if (new Set(wanted.map((item) => item.index)).size > 1) return `${why} addresses ${ips.join(', ')} are in different pools; MetalLB takes all of a service's addresses from one pool.`;
    for (const { family, value, index } of wanted) this.take(claim, index, family, value, claim.sharingKey);
    return { index: wanted[0]?.index, families: wanted.map((item) => item.family), values: wanted.map((item) => item.value) };
  }

  private candidatePools(claim: ServiceClaim): PoolIndex[] {
    if (this.keptPools.length === 0) return this.openPools;
    return [...this.keptPools.filter((index) => allocationMatches(index.pool, claim)), ...this.openPools];
  }

  /** The lowest usable address of each family the service needs, or why the pool cannot serve it. */
  private allocateFromPool(claim: ServiceClaim, index: PoolIndex, plain?: Family): Placement | string {
    const families = plain !== undefined ? ONE_FAMILY[plain] : claim.preferDualStack ? preferredFamilies(claim.families, index) : claim.families;
    const picked: bigint[] = [];
    for (const family of families) {
      if (index.ranges[family].length === 0) return index.lacking[family];
      const value = plain !== undefined ? this.lowestFree(index, family) : this.lowestUsable(claim, index, family);
      if (value === undefined) return index.exhausted;
      picked.push(value);
    }
    const sharingKey = plain !== undefined ? undefined : claim.sharingKey;
    picked.forEach((value, at) => this.take(claim, index, families[at]!, value, sharingKey));
    return { index, families, values: picked };
  }

  /** MetalLB walks the pool in order and takes the first address it may use: free, or shareable. */
  private lowestUsable(claim: ServiceClaim, index: PoolIndex, family: Family): bigint | undefined {
    const free = this.lowestFree(index, family);
    const shareable = this.lowestShareable(claim, index, family);
    if (free === undefined) return shareable;
    return shareable !== undefined && shareable < free ? shareable : free;
  }

  private lowestFree(index: PoolIndex, family: Family): bigint | undefined {
    if (index.full[family]) return undefined;
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
    index.full[family] = true;
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

  at(row: number): Allocation {
    const error = this.error(row);
    return error === undefined ? { service: this.service(row), ips: this.ips(row), pool: this.pool(row) } : { service: this.service(row), ips: [], error };
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
  };
}

/** Writes a result into its row; BigUint64Array keeps the low 64 bits of what it is given, so an address splits without a mask. */
function record(columns: PlanColumns, row: number, placed: Placement | string): void {
  if (typeof placed === 'string') {
    columns.errors.set(row, placed);
    return;
  }
  columns.pools[row] = placed.index?.rank ?? -1;
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

function described(claim: ServiceClaim, placed: Placement | string): Allocation {
  if (typeof placed === 'string') return { service: claim.key, ips: [], error: placed };
  return { service: claim.key, ips: placed.values.map((value, at) => formatAddress(placed.families[at]!, value)), pool: placed.index?.pool.name };
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
