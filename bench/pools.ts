/**
 * Allocation scales flat, and pool size costs nothing: there is no peer tool to run here,
 * so vipkit is compared with itself, in one process.
 *   node dist/bench/pools.js
 * 1. Time per service of a whole plan (sorting, choosing, allocating) for 1,000 and
 *    100,000 services from 20 pools (10 IPv4 /19s from 198.18.0.0/15, 10 IPv6 /64s), half
 *    the services IPv4, half IPv6; the ratio must stay at most 1.5. Peak memory reported.
 * 2. What `pools list` computes (read the --pool flag, size it, index it for allocation)
 *    on a /48 against a /24.
 */
import { planAllocations } from '../src/pools/allocator.js';
import { poolSize, type Pool } from '../src/pools/model.js';
import type { ServiceClaim } from '../src/pools/services.js';
import { loadPoolsSource } from '../src/pools/source.js';
import { Allocator } from '../src/pools/allocator.js';

const ROUNDS_SMALL = 20;
const ROUNDS_LARGE = 5;

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

/** Microseconds per service for one full plan (sorting, choosing, allocating). */
function perService(pools: Pool[], claims: ServiceClaim[]): number {
  const started = process.hrtime.bigint();
  const plan = planAllocations(pools, claims);
  const elapsed = Number(process.hrtime.bigint() - started) / 1000;
  if (plan.some((allocation) => allocation.error !== undefined)) throw new Error('the bench pools ran out');
  return elapsed / claims.length;
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
perService(pools, small); // warm up the JIT
// Interleaved, and the best of each kept: on a shared machine the minimum is the cost
// of the code, the rest is other processes.
const smallTimes: number[] = [];
const largeTimes: number[] = [];
for (let round = 0; round < ROUNDS_LARGE; round++) {
  for (let i = 0; i < ROUNDS_SMALL; i++) smallTimes.push(perService(pools, small));
  largeTimes.push(perService(pools, large));
}
const smallBest = Math.min(...smallTimes);
const largeBest = Math.min(...largeTimes);
console.log('allocation, 20 pools (10 IPv4 /19, 10 IPv6 /64), half IPv4 and half IPv6 services:');
console.log(`  1,000 services    ${smallBest.toFixed(2)} µs per service (best of ${smallTimes.length} runs; median ${median(smallTimes).toFixed(2)})`);
console.log(`  100,000 services  ${largeBest.toFixed(2)} µs per service (best of ${largeTimes.length} runs; median ${median(largeTimes).toFixed(2)})`);
console.log(`  ratio 100k / 1k:  ${(largeBest / smallBest).toFixed(2)} (target: at most 1.5)`);
console.log(`  peak memory (max RSS of the bench process, inputs included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

for (const flag of ['p=198.18.0.0/24', 'p=2001:db8::/48']) listCostMicroseconds(flag, 2_000); // warm up both paths alike
const rounds = 2_000;
const v4 = median(Array.from({ length: 5 }, () => listCostMicroseconds('p=198.18.0.0/24', rounds)));
const v6 = median(Array.from({ length: 5 }, () => listCostMicroseconds('p=2001:db8::/48', rounds)));
console.log('pools list work (read the flag, size the pool, index it):');
console.log(`  /24  ${v4.toFixed(1)} µs   /48  ${v6.toFixed(1)} µs   ratio /48 / /24: ${(v6 / v4).toFixed(2)}`);
