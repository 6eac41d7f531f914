/**
 * Memory an Adj-RIB-Out holds per announced route (after a full collection), at 10,000
 * and 1,000,000 IPv6 host routes in 2001:db8::/32, and the peak RSS of building it.
 * Nothing is sent: this is the cost `announce` and `run` pay per peer and route.
 *
 * Run after the build: node --expose-gc dist/bench/adj-rib-out.js
 */
import { AdjRibOut } from '../src/bgp/adj-rib-out.js';
import { prefixesOf, routeBlocks } from '../src/speaker/route-targets.js';
import type { RouteAttributes } from '../src/wire/bgp/route-attributes.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) {
  console.error('bench/adj-rib-out needs node --expose-gc.');
  process.exit(2);
}
const CONTEXT = { fourOctetAs: true, extendedMessage: false };
const ATTRIBUTES: RouteAttributes = { origin: 'igp', asPath: [{ type: 'sequence', asns: [64800] }], ipv6NextHop: '2001:db8::1' };

function bytesPerRoute(routes: number): number {
  const last = `2001:db8::${(routes >>> 16).toString(16)}:${(routes & 0xffff).toString(16)}`;
  const blocks = routeBlocks([`2001:db8::1-${last}`], {}, routes);
  collect!();
  const before = process.memoryUsage().heapUsed;
  const ribOut = new AdjRibOut();
  const desired = new Map<string, RouteAttributes>();
  for (const prefix of prefixesOf(blocks)) desired.set(prefix, ATTRIBUTES);
  ribOut.resend(desired, CONTEXT);
  desired.clear();
  collect!();
  const held = process.memoryUsage().heapUsed - before;
  if (ribOut.size !== routes) throw new Error(`the Adj-RIB-Out holds ${ribOut.size} routes, not ${routes}`);
  return held / routes;
}

const small = bytesPerRoute(10_000);
const large = bytesPerRoute(1_000_000);
console.log(`held per route: ${small.toFixed(0)} bytes at 10,000 routes, ${large.toFixed(0)} bytes at 1,000,000 (${((large * 1e6) / 2 ** 20).toFixed(0)} MiB per million)`);
console.log(`ratio 1M / 10k per route: ${(large / small).toFixed(2)}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
