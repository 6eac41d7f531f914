/**
 * Allocation scales flat, and pool size costs nothing: there is no peer tool to run here,
 * so vipkit is compared with itself, in one process.
 *   npx tsc -p tsconfig.json && node dist/bench/pools.js
 * 1. Time per service of whole plans (sorting, choosing, allocating) from 20 pools (10 IPv4
 *    /19s from 198.18.0.0/15, 10 IPv6 /64s), half the services IPv4, half IPv6: plans of
 *    1,000 services against plans of 100,000; the ratio must stay at most 1.5. The services
 *    are built before any timing, so input parsing is left out at both scales alike.
 *    A plan keeps its results as numbers and writes them as text when read, so a sample
 *    that stopped at the plan would leave out the text every user of it reads. The figure
 *    the target is about therefore plans and then reads every row as `pools allocate`
 *    does — service, addresses as text, pool — the same work a sample did when the plan
 *    returned text. The plan alone is timed too and printed beside it.
 *    Every sample allocates 100,000 services: 100 plans of 1,000 back to back, or one plan
 *    of 100,000. A single 1,000-service plan usually ends before the young generation fills,
 *    so the best of many such runs is a run without GC rather than what the code costs;
 *    timed in batches, both scales pay for the garbage they make. Samples of every kind
 *    alternate, several rounds; min and median of each, and the ratio of both.
 *    What is left of the ratio is mostly memory: at 100,000 the claims and their keys no
 *    longer fit in the CPU caches and are visited in key order, not in the order they lie
 *    in memory (the same plan on claims given in key order has a ratio some 0.3 lower),
 *    and sorting within a namespace costs a little more per key in larger namespaces.
 *    A ratio also rises when the work per service gets cheaper at both scales, so read
 *    it beside the times. The bench sets no flags.
 *    Peak memory is the process's maximum RSS, inputs of both sizes included.
 * 2. What `pools list` computes (read the --pool flag, size it, index it for allocation)
 *    on a /48 against a /24.
 */
import { Allocator, planAllocations, type AllocationPlan } from '../src/pools/allocator.js';
import { poolSize, type Pool } from '../src/pools/model.js';
import type { ServiceClaim } from '../src/pools/services.js';
import { loadPoolsSource } from '../src/pools/source.js';

const SERVICES_PER_SAMPLE = 100_000;
const ROUNDS = 7;

function benchPools(): Pool[] {
  const flags: string[] = [];
  for (let i = 0; i < 10; i++) flags.push(`v4-${i}=198.${18 + ((i * 32) >> 8)}.${(i * 32) % 256}.0/19`, `v6-${i}=2001:db8:${i}::/64`);
  const { config, problems } = loadPoolsSource([], { pools: flags, peers: [], defaults: {} });
  if (problems.length > 0) throw new Error(problems.map((problem) => problem.message).join('\n'));
  return config.pools;
}

function services(count: number): ServiceClaim[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `ns${i % 50}/svc${i}`,
    namespace: `ns${i % 50}`,
    labels: {},
    families: [i % 2 === 0 ? 4 : 6],
    preferDualStack: false,
    requestedIps: [],
    currentIps: [],
    backendKey: '',
    ports: ['TCP/443'],
    at: { source: 'bench', column: 1 },
  }));
}

/**
 * Microseconds per service for SERVICES_PER_SAMPLE services, planned claims.length at a
 * time; with read, every row is then read as a user of the plan reads it.
 */
function perService(pools: Pool[], claims: ServiceClaim[], read: boolean): number {
  let plan: AllocationPlan | undefined;
  let characters = 0;
  const started = process.hrtime.bigint();
  for (let planned = 0; planned < SERVICES_PER_SAMPLE; planned += claims.length) {
    plan = planAllocations(pools, claims);
    if (read) for (const { service, ips, pool } of plan) characters += service.length + ips[0]!.length + pool!.length;
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1000;
  if (plan!.failed > 0) throw new Error('the bench pools ran out');
  if (read && characters === 0) throw new Error('nothing was read');
  return elapsed / SERVICES_PER_SAMPLE;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function listCostMicroseconds(flag: string, rounds: number): number {
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    const { config } = loadPoolsSource([], { pools: [flag], peers: [], defaults: {} });
    const allocator = new Allocator(config.pools);
    for (const pool of config.pools) {
      poolSize(pool, 4);
      poolSize(pool, 6);
      allocator.usage(pool.name);
    }
  }
  return Number(process.hrtime.bigint() - started) / 1000 / rounds;
}

const pools = benchPools();
const small = services(1_000);
const large = services(100_000);
const kinds = [
  { title: 'plan, then read every result as text (the target)', read: true },
  { title: 'plan only, results kept as numbers', read: false },
].map((kind) => ({ ...kind, small: [] as number[], large: [] as number[] }));
for (const kind of kinds) {
  perService(pools, small, kind.read); // warm up the JIT on both sizes alike
  perService(pools, large, kind.read);
}
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of kinds) {
    kind.small.push(perService(pools, small, kind.read));
    kind.large.push(perService(pools, large, kind.read));
  }
}
const describe = (times: number[]) => `min ${Math.min(...times).toFixed(2)} µs, median ${median(times).toFixed(2)} µs per service`;
console.log('allocation, 20 pools (10 IPv4 /19, 10 IPv6 /64), half IPv4 and half IPv6 services,');
console.log(`${ROUNDS} interleaved samples of ${SERVICES_PER_SAMPLE.toLocaleString('en')} services each:`);
for (const kind of kinds) {
  console.log(`  ${kind.title}:`);
  console.log(`    plans of 1,000     ${describe(kind.small)}`);
  console.log(`    plans of 100,000   ${describe(kind.large)}`);
  const minRatio = Math.min(...kind.large) / Math.min(...kind.small);
  const medianRatio = median(kind.large) / median(kind.small);
  console.log(`    ratio 100k / 1k:   ${minRatio.toFixed(2)} (min), ${medianRatio.toFixed(2)} (median)${kind.read ? '; target: at most 1.5' : ''}`);
}
console.log(`  peak memory (max RSS of the bench process, inputs included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

for (const flag of ['p=198.18.0.0/24', 'p=2001:db8::/48']) listCostMicroseconds(flag, 2_000); // warm up both paths alike
const rounds = 2_000;
const v4 = median(Array.from({ length: 5 }, () => listCostMicroseconds('p=198.18.0.0/24', rounds)));
const v6 = median(Array.from({ length: 5 }, () => listCostMicroseconds('p=2001:db8::/48', rounds)));
console.log('pools list work (read the flag, size the pool, index it):');
console.log(`  /24  ${v4.toFixed(1)} µs   /48  ${v6.toFixed(1)} µs   ratio /48 / /24: ${(v6 / v4).toFixed(2)}`);
