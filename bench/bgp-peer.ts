/**
 * vipkit bgp-peer receiving a full feed, side by side with BIRD receiving the same feed.
 *
 * A BIRD speaker announces --routes IPv4 /32 routes in 198.18.0.0/15 (RFC 2544's
 * benchmarking range) to two passive receivers, one session after the other (the order
 * alternating by round, each session enabled once the speaker's table holds the whole
 * feed): `vipkit bgp-peer --passive --once -q --json` (it decodes every UPDATE and keeps
 * every route in its Adj-RIB-In, printing only the summary) and a second BIRD. tcpdump
 * runs in each receiver's namespace; each receiver's time is first to last UPDATE with
 * routes in its own capture, also without the speaker's stalls (see STALL_S). vipkit also
 * reports the heap its routes hold (node --expose-gc, after a collection) and when it had
 * processed the last UPDATE.
 *
 * Run as root after the build: node dist/bench/bgp-peer.js [--routes N] [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Lab } from '../src/lab/lab.js';
import { Bird } from '../src/lab/bgp-daemons.js';
import { captureDuring } from '../test/helpers/capture.js';
import { startVipkitJson, until } from '../test/helpers/vipkit-process.js';
import { benchmarkAddress, parseRouteCount } from './benchmark-routes.js';

const { values } = parseArgs({ options: { routes: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } });
const ROUTES = parseRouteCount(values.routes);
const ROUNDS = Number(values.rounds);
const FEED_TIMEOUT_MS = 120_000;

const LAB = {
  hosts: [
    { name: 'speaker', addresses: ['192.0.2.1/24'] },
    { name: 'vipkit', addresses: ['192.0.2.11/24'] },
    { name: 'bird', addresses: ['192.0.2.12/24'] },
  ],
};

function speakerConfig(routes: number): string {
  const lines: string[] = [];
  for (let index = 0; index < routes; index++) lines.push(`route ${benchmarkAddress(index)}/32 blackhole;`);
  return `router id 192.0.2.1;
protocol device {}
protocol static feed { ipv4; ${lines.join(' ')} }
template bgp receiver { local 192.0.2.1 as 65002; disabled; ipv4 { import none; export all; }; }
protocol bgp to_vipkit from receiver { neighbor 192.0.2.11 as 64800; }
protocol bgp to_bird from receiver { neighbor 192.0.2.12 as 64801; }
`;
}

const RECEIVER_BIRD = `router id 192.0.2.12;
protocol device {}
protocol bgp from_speaker { local 192.0.2.12 as 64801; neighbor 192.0.2.1 as 65002; passive on; ipv4 { import all; export none; }; }
`;

/** A pause between two UPDATEs this long is the speaker's poll timeout, not a receiver's pace. */
const STALL_S = 1;

/**
 * From the capture: first to last UPDATE from the speaker that carries routes (ms), and
 * the same without the speaker's stalls (gaps of STALL_S or more, counted).
 */
function updateSpan(file: string): { wallMs: number; activeMs: number; stalls: number; lastS: number } {
  const output = execFileSync('tshark', ['-r', file, '-Y', 'ip.src == 192.0.2.1 && bgp.nlri_prefix', '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const times = output.split('\n').filter(Boolean).map(Number);
  let active = 0;
  let stalls = 0;
  for (let index = 1; index < times.length; index++) {
    const gap = times[index]! - times[index - 1]!;
    if (gap >= STALL_S) stalls++;
    else active += gap;
  }
  return { wallMs: (times.at(-1)! - times[0]!) * 1000, activeMs: active * 1000, stalls, lastS: times.at(-1)! };
}

interface Round {
  vipkit: ReturnType<typeof updateSpan>;
  bird: ReturnType<typeof updateSpan>;
  heapPerRoute: number;
  vipkitDoneAfterLastMs: number;
}

async function round(lab: Lab, first: 'vipkit' | 'bird'): Promise<Round> {
  const receiver = await Bird.start(lab, 'bird', RECEIVER_BIRD);
  let summary: Record<string, unknown> | undefined;
  let speaker: Bird | undefined;
  const filter = 'tcp port 179';
  let birdCapture: { file: string; dispose(): void } | undefined;

  const vipkitCapture = await captureDuring(lab, 'vipkit', filter, async () => {
    birdCapture = await captureDuring(lab, 'bird', filter, async () => {
      const vipkit = startVipkitJson(lab, 'vipkit', ['bgp-peer', '--my-asn', '64800', '--passive', '--family', 'ipv4', '--once', '-q', '--json', '--timeout', '60', '192.0.2.1'], ['--expose-gc']);
      // Sessions start only once the speaker's table holds the whole feed, so both receivers get it at full speed.
      speaker = await Bird.start(lab, 'speaker', speakerConfig(ROUTES));
      await until(`the speaker holds ${ROUTES} routes`, async () => (await speaker!.routeCount()) >= ROUTES, FEED_TIMEOUT_MS);
      // One receiver at a time, the order alternating by round: the speaker serves one session at full speed.
      const order = first === 'vipkit' ? ['to_vipkit', 'to_bird'] : ['to_bird', 'to_vipkit'];
      for (const protocol of order) {
        await speaker.birdc('enable', protocol);
        if (protocol === 'to_vipkit') await vipkit.exited;
        else await until(`the receiving BIRD holds ${ROUTES} routes`, async () => (await receiver.routeCount()) >= ROUTES, FEED_TIMEOUT_MS);
      }
      const code = await vipkit.exited;
      summary = vipkit.events.find((event) => event.event === 'summary');
      if (code !== 0 || summary?.['routes'] !== ROUTES) throw new Error(`vipkit exited ${code} with ${JSON.stringify(summary)}: ${vipkit.stderr()}`);
    });
  });
  try {
    const vipkit = updateSpan(vipkitCapture.file);
    const bird = updateSpan(birdCapture!.file);
    const lastProcessed = Date.parse(String(summary!['last_update_ts']));
    return {
      vipkit,
      bird,
      heapPerRoute: Number(summary!['heap_bytes_per_route']),
      vipkitDoneAfterLastMs: lastProcessed - vipkit.lastS * 1000,
    };
  } finally {
    vipkitCapture.dispose();
    birdCapture?.dispose();
    for (const bird of [receiver, speaker]) {
      await bird?.birdc('down').catch(() => undefined);
    }
  }
}

for (const tool of ['tshark', 'tcpdump', 'bird']) execFileSync('which', [tool], { stdio: 'ignore' });
const lab = await Lab.create(LAB);
try {
  // BIRD 2.0 sends a burst per loop iteration and, when its socket still has room, may
  // leave the rest until its 3 s poll timeout: a stall on the wire that is the speaker's,
  // not the receiver's. With a small send buffer the socket fills first and BIRD waits for
  // it to drain instead, so the receivers' reading pace shows on the wire.
  await lab.exec('speaker', ['sysctl', '-qw', 'net.ipv4.tcp_wmem=4096 16384 65536']);
  const rounds: Round[] = [];
  for (let index = 0; index < ROUNDS; index++) rounds.push(await round(lab, index % 2 === 0 ? 'vipkit' : 'bird'));
  const median = (pick: (round: Round) => number) => [...rounds.map(pick)].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
  console.log(`Feed: ${ROUTES} IPv4 /32 routes in 198.18.0.0/15 from one BIRD speaker to vipkit and to a second BIRD, one after the other (order alternating); ${ROUNDS} rounds`);
  console.log("First to last UPDATE with routes, from tcpdump in each receiver's namespace (ms):");
  const line = (name: string, pick: (round: Round) => ReturnType<typeof updateSpan>) =>
    console.log(
      `  ${name.padEnd(27)} median ${median((r) => pick(r).activeMs).toFixed(0).padStart(5)} without stalls, ${median((r) => pick(r).wallMs).toFixed(0).padStart(5)} wall` +
        `  (all, without stalls: ${rounds.map((r) => pick(r).activeMs.toFixed(0)).join(', ')}; speaker stalls: ${rounds.reduce((sum, r) => sum + pick(r).stalls, 0)})`,
    );
  line('vipkit bgp-peer --once -q', (r) => r.vipkit);
  line('BIRD', (r) => r.bird);
  console.log(`  ratio vipkit / BIRD (medians without stalls): ${(median((r) => r.vipkit.activeMs) / median((r) => r.bird.activeMs)).toFixed(2)}`);
  console.log(`vipkit had processed the last UPDATE ${median((r) => r.vipkitDoneAfterLastMs).toFixed(0)} ms after it was captured (median)`);
  console.log(`vipkit heap held per received route: ${median((r) => r.heapPerRoute)} bytes (median; node --expose-gc, after a collection)`);
} finally {
  await lab.destroy();
}
