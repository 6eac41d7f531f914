/**
 * Allocation scales flat, and pool size costs nothing: there is no peer tool to run here,
 * so vipkit is compared with itself, in one process.
 *   npx tsc -p tsconfig.json && node dist/bench/pools.js
 * 1. Time per service of whole plans (sorting, choosing, allocating) from 20 pools (10 IPv4
 *    /19s from 198.18.0.0/15, 10 IPv6 /64s), half the services IPv4, half IPv6: plans of
 *    1,000 services against plans of 100,000; the ratio must stay at most 1.5. The services
 *    are built before any timing, so input parsing is left out at both scales alike.
 *    Every sample allocates 100,000 services: 100 plans of 1,000 back to back, or one plan
 *    of 100,000. A single 1,000-service plan usually ends before the young generation fills,
 *    so the best of many such runs is a run without GC rather than what the code costs;
 *    timed in batches, both scales pay for the garbage they make. Samples of the two sizes
 *    alternate, several rounds; min and median of each, and the ratio of both.
 *    Much of what is left of the ratio is the garbage collector: a 100,000-service plan's
 *    results outlive scavenges and are copied and promoted, a 1,000-service plan's die
 *    young. (A larger young generation, node --max-semi-space-size=64, did not move it
 *    here.) A ratio also rises when the work per service gets cheaper at both scales, so
 *    read it beside the times. The bench sets no flags.
 *    Peak memory is the process's maximum RSS, inputs of both sizes included.
 * 2. What `pools list` computes (read the --pool flag, size it, index it for allocation)
 *    on a /48 against a /24.
 */
import { Allocator, planAllocations, type Allocation } from '../src/pools/allocator.js';
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

/** Microseconds per service for SERVICES_PER_SAMPLE services, planned claims.length at a time. */
function perService(pools: Pool[], claims: ServiceClaim[]): number {
  let plan: Allocation[] = [];
  const started = process.hrtime.bigint();
  for (let planned = 0; planned < SERVICES_PER_SAMPLE; planned += claims.length) plan = planAllocations(pools, claims);
  const elapsed = Number(process.hrtime.bigint() - started) / 1000;
  if (plan.some((allocation) => allocation.error !== undefined)) throw new Error('the bench pools ran out');
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
perService(pools, small); // warm up the JIT on both sizes alike
perService(pools, large);
const smallTimes: number[] = [];
const largeTimes: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  smallTimes.push(perService(pools, small));
  largeTimes.push(perService(pools, large));
}
const describe = (times: number[]) => `min ${Math.min(...times).toFixed(2)} µs, median ${median(times).toFixed(2)} µs per service`;
console.log('allocation, 20 pools (10 IPv4 /19, 10 IPv6 /64), half IPv4 and half IPv6 services,');
console.log(`${ROUNDS} interleaved samples of ${SERVICES_PER_SAMPLE.toLocaleString('en')} services each:`);
console.log(`  plans of 1,000     ${describe(smallTimes)}`);
console.log(`  plans of 100,000   ${describe(largeTimes)}`);
const minRatio = Math.min(...largeTimes) / Math.min(...smallTimes);
const medianRatio = median(largeTimes) / median(smallTimes);
console.log(`  ratio 100k / 1k:   ${minRatio.toFixed(2)} (min), ${medianRatio.toFixed(2)} (median); target: at most 1.5`);
console.log(`  peak memory (max RSS of the bench process, inputs included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

for (const flag of ['p=198.18.0.0/24', 'p=2001:db8::/48']) listCostMicroseconds(flag, 2_000); // warm up both paths alike
const rounds = 2_000;
const v4 = median(Array.from({ length: 5 }, () => listCostMicroseconds('p=198.18.0.0/24', rounds)));
const v6 = median(Array.from({ length: 5 }, () => listCostMicroseconds('p=2001:db8::/48', rounds)));
console.log('pools list work (read the flag, size the pool, index it):');
console.log(`  /24  ${v4.toFixed(1)} µs   /48  ${v6.toFixed(1)} µs   ratio /48 / /24: ${(v6 / v4).toFixed(2)}`);
