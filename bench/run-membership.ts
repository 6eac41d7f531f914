/**
 * Member liveness as the cluster grows, simulated: N = 10, 20, 50 and 100 members in
 * memory on a manual clock (test/helpers/simulated-cluster.ts: the real BfdPeers and
 * Membership, a network that delivers each packet 1 ms after it is sent), once with a full
 * mesh of BFD sessions and once on the ring (k = 3 neighbours on each side, what `vipkit run`
 * does beyond --bfd-full-mesh-max). Per N and scheme:
 *
 * - frames each node sends and receives per second in steady state (BFD + membership),
 *   the most any node does, over 2 s once every session is Up;
 * - a member is killed: the time until every live node has it dead;
 * - whether all live nodes then agree on the live set, hence on every VIP's owner.
 *
 * BFD at the defaults (50 ms x 3), digests every second. No root, no network:
 * node dist/bench/run-membership.js
 */
import { SimulatedCluster } from '../test/helpers/simulated-cluster.js';

const SIZES = [10, 20, 50, 100];
const K = 3;
const SETTLE_MS = 4000;
const MEASURE_MS = 2000;
const AFTER_KILL_MS = 1000;

interface Result {
  sessions: number;
  sent: { bfd: number; membership: number };
  received: number;
  allKnewMs: number;
  agree: boolean;
}

function simulate(size: number, neighbours: number | undefined): Result {
  const cluster = new SimulatedCluster({ size, ...(neighbours !== undefined ? { neighbours } : {}), seed: size });
  cluster.startAll();
  cluster.clock.advance(SETTLE_MS);
  const notUp = cluster.nodes.flatMap((node) => [...cluster.view(node)].filter(([, state]) => state !== 'up').map(([name, view]) => `${node.name} sees ${name} ${view}`));
  if (notUp.length > 0) throw new Error(`not every member is up after ${SETTLE_MS} ms: ${notUp.slice(0, 3).join('; ')}`);
  cluster.resetCounts();
  cluster.clock.advance(MEASURE_MS);
  const perSecond = (count: number) => (count * 1000) / MEASURE_MS;
  const busiest = cluster.nodes.reduce((most, node) => (node.sent.bfd + node.sent.membership > most.sent.bfd + most.sent.membership ? node : most));
  const received = Math.max(...cluster.nodes.map((node) => node.received.bfd + node.received.membership));
  const steady = { sessions: busiest.sessions!.states.size, sent: { bfd: perSecond(busiest.sent.bfd), membership: perSecond(busiest.sent.membership) }, received: perSecond(received) };

  const victim = cluster.nodes[Math.floor(size / 2)]!;
  const killedAt = cluster.clock.now();
  cluster.kill(victim);
  cluster.clock.advance(AFTER_KILL_MS);
  const knew = cluster.observed.filter((seen) => seen.at > killedAt && seen.member === victim.name && !seen.up);
  const live = cluster.nodes.filter((node) => node.alive);
  if (new Set(knew.map((seen) => seen.on)).size !== live.length) throw new Error(`only ${knew.length} of ${live.length} nodes learnt that ${victim.name} died`);
  const liveSets = new Set(live.map((node) => cluster.liveSet(node).join(' ')));
  return {
    ...steady,
    allKnewMs: Math.max(...knew.map((seen) => seen.at)) - killedAt,
    agree: liveSets.size === 1 && !cluster.liveSet(live[0]!).includes(victim.name),
  };
}

console.log(`BFD 50 ms x 3; ring: k = ${K} each side, digest every 1 s; a network of 1 ms; per node, the busiest one`);
console.log(['members', 'scheme', 'BFD sessions', 'frames sent/s (BFD + membership)', 'frames received/s', 'all know a killed node dead', 'all agree'].join(' | '));
for (const size of SIZES) {
  for (const [scheme, neighbours] of [['full mesh', undefined], [`ring k=${K}`, K]] as const) {
    const result = simulate(size, neighbours);
    const sent = result.sent.bfd + result.sent.membership;
    console.log(
      [
        String(size).padStart(7),
        scheme.padEnd(9),
        String(result.sessions).padStart(12),
        `${sent.toFixed(0)} (${result.sent.bfd.toFixed(0)} + ${result.sent.membership.toFixed(0)})`.padStart(32),
        result.received.toFixed(0).padStart(17),
        `${result.allKnewMs.toFixed(0)} ms`.padStart(27),
        result.agree ? 'yes' : 'NO',
      ].join(' | '),
    );
  }
}
