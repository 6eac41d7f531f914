/**
 * BGP announcing, vipkit beside ExaBGP on one lab, one run: a speaker announces 100,000
 * IPv4 host routes (in 198.18.0.0/15) to BIRD; the runs alternate between the tools, each
 * against a freshly started BIRD.
 *
 * - start to all held: from spawning the tool until `birdc show route count` reports every
 *   route (polled every 20 ms);
 * - transfer: the first to the last UPDATE carrying routes, from tcpdump in BIRD's namespace;
 * - peak memory: the tool's VmHWM (/proc/<pid>/status) once BIRD holds everything.
 *
 * Run as root after the build: node dist/bench/announce-bgp.js [--runs N] [--routes N]
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bird, birdAcceptingSpeakers } from '../src/lab/bgp-daemons.js';
import { Lab } from '../src/lab/lab.js';
import { captureDuring, tsharkFields } from '../test/helpers/capture.js';
import { benchmarkAddress, parseRouteCount } from './benchmark-routes.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, routes: { type: 'string', default: '100000' } } });
const ROUTES = parseRouteCount(values.routes);

const LAB = {
  hosts: [
    { name: 'router', addresses: ['192.0.2.1/24'] },
    { name: 'speaker', addresses: ['192.0.2.11/24'] },
  ],
};
const BIRD_CONFIG = birdAcceptingSpeakers({ routerId: '192.0.2.1', localAs: 65002, accept: '192.0.2.0/24', families: ['ipv4'] });
const LAST_ADDRESS = benchmarkAddress(ROUTES - 1);

interface Run {
  startToAllMs: number;
  transferMs: number;
  peakKiB: number;
}

function exabgpConfig(): string {
  const routes: string[] = [];
  for (let index = 0; index < ROUTES; index++) routes.push(`    route ${benchmarkAddress(index)}/32 next-hop self;`);
  return `neighbor 192.0.2.1 {
  router-id 192.0.2.11;
  local-address 192.0.2.11;
  local-as 64800;
  peer-as 65002;
  family { ipv4 unicast; }
  static {
${routes.join('\n')}
  }
}
`;
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[numbers.length >> 1]!;

function peakKiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

async function measure(lab: Lab, argv: string[], env: Record<string, string>): Promise<Run> {
  const bird = await Bird.start(lab, 'router', BIRD_CONFIG);
  let startToAllMs = 0;
  let peak = 0;
  let child: ReturnType<Lab['spawn']> | undefined;
  const capture = await captureDuring(lab, 'router', 'tcp port 179', async () => {
    const started = process.hrtime.bigint();
    child = lab.spawn('speaker', argv, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
    const deadline = Date.now() + 120_000;
    while ((await bird.routeCount()) < ROUTES) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${argv.join(' ')}: BIRD never held all ${ROUTES} routes`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    startToAllMs = Number(process.hrtime.bigint() - started) / 1e6;
    peak = peakKiB(child.pid!);
  });
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child!.kill('SIGTERM');
  await exited;
  const updates = tsharkFields(capture.file, ['frame.time_epoch'], 'ip.src == 192.0.2.11 && bgp.type == 2 && bgp.nlri_prefix');
  capture.dispose();
  const times = updates.map((frame) => Number(frame['frame.time_epoch']));
  for (const pid of (await lab.exec('router', ['ip', 'netns', 'pids', lab.namespace('router')])).stdout.trim().split('\n').filter(Boolean)) {
    await lab.exec('router', ['kill', '-9', pid]);
  }
  return { startToAllMs, transferMs: (Math.max(...times) - Math.min(...times)) * 1000, peakKiB: peak };
}

if (process.getuid?.() !== 0) {
  console.error('bench/announce-bgp needs root: it builds network namespaces.');
  process.exit(2);
}

const folder = mkdtempSync(join(tmpdir(), 'vipkit-bench-bgp-'));
writeFileSync(join(folder, 'exabgp.conf'), exabgpConfig());
const tools: { name: string; argv: string[]; env: Record<string, string> }[] = [
  { name: 'vipkit announce', argv: [process.execPath, VIPKIT, 'announce', '--json', '--peer', '192.0.2.1,asn=65002', '--my-asn', '64800', `198.18.0.0-${LAST_ADDRESS}`], env: {} },
  { name: 'exabgp (static)', argv: ['exabgp', join(folder, 'exabgp.conf')], env: { 'exabgp.daemon.user': 'root', 'exabgp.log.destination': 'stderr', 'exabgp.log.level': 'CRIT' } },
];
const lab = await Lab.create(LAB);
try {
  const results = new Map<string, Run[]>(tools.map((tool) => [tool.name, []]));
  for (let run = 0; run < Number(values.runs); run++) {
    for (const tool of tools) results.get(tool.name)!.push(await measure(lab, tool.argv, tool.env));
  }
  console.log(`${ROUTES} IPv4 host routes (198.18.0.0-${LAST_ADDRESS}) to BIRD 2, ${values.runs} alternating runs each; medians`);
  console.log('tool               start to all held   transfer (first to last UPDATE)   peak RSS');
  const summary = new Map<string, { start: number; transfer: number; peak: number }>();
  for (const [name, runs] of results) {
    const row = { start: median(runs.map((run) => run.startToAllMs)), transfer: median(runs.map((run) => run.transferMs)), peak: Math.max(...runs.map((run) => run.peakKiB)) };
    summary.set(name, row);
    console.log(`${name.padEnd(18)} ${`${row.start.toFixed(0)} ms`.padStart(17)}   ${`${row.transfer.toFixed(0)} ms`.padStart(31)}   ${(row.peak / 1024).toFixed(0)} MiB`);
    console.log(`${''.padEnd(18)} runs: ${runs.map((run) => `${run.startToAllMs.toFixed(0)}/${run.transferMs.toFixed(0)} ms`).join(', ')}`);
  }
  const vipkit = summary.get(tools[0]!.name)!;
  const exabgp = summary.get(tools[1]!.name)!;
  console.log(`ratios vipkit/exabgp: start to all held ${(vipkit.start / exabgp.start).toFixed(2)}, transfer ${(vipkit.transfer / exabgp.transfer).toFixed(2)}, peak RSS ${(vipkit.peak / exabgp.peak).toFixed(2)}`);
} finally {
  await lab.destroy();
  rmSync(folder, { recursive: true, force: true });
}
