/**
 * arping benchmarks, vipkit and the peer tools side by side in one lab, one run:
 *
 * 1. RTT honesty: vipkit arping and iputils arping probe the same host; tcpdump in the
 *    client namespace records when each request left and each reply arrived. Each tool's
 *    median reported RTT is compared with the median request-to-reply time on the wire.
 * 2. Sweep: vipkit arping and arp-scan (both at their defaults) sweep a /24 holding 4
 *    responders, alternately, timed as whole processes by this script.
 *
 * Run as root after the build: node dist/bench/arping.js [--probes N] [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab } from '../src/lab/lab.js';
import { captureDuring, tsharkFields } from '../test/helpers/capture.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const { values } = parseArgs({ options: { probes: { type: 'string', default: '20' }, rounds: { type: 'string', default: '7' } } });
const PROBES = Number(values.probes);
const ROUNDS = Number(values.rounds);

const LAB = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24'] },
    ...[1, 2, 3, 4].map((n) => ({ name: `node${n}`, addresses: [`192.0.2.${10 + n}/24`] })),
  ],
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Request-to-reply times on the wire, from the capture's own timestamps. */
function wireRtts(file: string, target: string): number[] {
  const frames = tsharkFields(file, ['frame.time_epoch', 'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4']);
  const rtts: number[] = [];
  let requestAt: number | undefined;
  for (const frame of frames) {
    const at = Number(frame['frame.time_epoch']);
    if (frame['arp.opcode'] === '1' && frame['arp.dst.proto_ipv4'] === target) requestAt = at;
    if (frame['arp.opcode'] === '2' && frame['arp.src.proto_ipv4'] === target && requestAt !== undefined) {
      rtts.push((at - requestAt) * 1000);
      requestAt = undefined;
    }
  }
  return rtts;
}

async function rttHonesty(lab: Lab): Promise<void> {
  const target = '192.0.2.11';
  const tools = {
    vipkit: {
      argv: [process.execPath, VIPKIT, 'arping', '--json', '-c', String(PROBES), target],
      reported: (stdout: string) =>
        stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { event: string; rtt_ms?: number }).filter((event) => event.event === 'reply').map((event) => event.rtt_ms!),
    },
    'iputils arping': {
      argv: ['arping', '-c', String(PROBES), '-I', lab.interfaceName, target],
      reported: (stdout: string) => [...stdout.matchAll(/ (\d+\.\d+)ms/g)].map((match) => Number(match[1])),
    },
  };
  // Both at the 1 s default interval (iputils takes whole seconds only): idle time between
  // probes is part of what a real run costs in wake-up latency.
  console.log(`RTT honesty: ${PROBES} probes each to ${target}, 1 s apart; wire times from tcpdump in the client namespace`);
  console.log('tool             reported median   wire median   reported - wire');
  for (const [name, tool] of Object.entries(tools)) {
    let stdout = '';
    const capture = await captureDuring(lab, 'client', 'arp', async () => {
      ({ stdout } = await lab.exec('client', tool.argv, { timeoutMs: 120_000 }));
    });
    try {
      const reported = median(tool.reported(stdout));
      const wire = median(wireRtts(capture.file, target));
      console.log(`${name.padEnd(16)} ${reported.toFixed(3).padStart(12)} ms ${wire.toFixed(3).padStart(10)} ms ${(reported - wire).toFixed(3).padStart(14)} ms`);
    } finally {
      capture.dispose();
    }
  }
}

async function sweepSpeed(lab: Lab): Promise<void> {
  const tools = {
    vipkit: { argv: [process.execPath, VIPKIT, 'arping', '--json', '192.0.2.0/24'], found: (out: string) => Object.keys((JSON.parse(out.trim().split('\n').at(-1)!) as { targets: object }).targets).length },
    'arp-scan': { argv: ['arp-scan', '-I', lab.interfaceName, '192.0.2.0/24'], found: (out: string) => out.split('\n').filter((line) => /^192\.0\.2\.\d+\t/.test(line)).length },
  };
  const times: Record<string, number[]> = { vipkit: [], 'arp-scan': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, tool] of Object.entries(tools)) {
      const started = process.hrtime.bigint();
      const { stdout, code } = await lab.exec('client', tool.argv, { timeoutMs: 60_000 });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const found = tool.found(stdout);
      if (code !== 0 || found !== 4) throw new Error(`${name} found ${found} responders (exit ${code}), expected 4`);
      times[name]!.push(seconds);
    }
  }
  const vipkit = median(times['vipkit']!);
  const arpScan = median(times['arp-scan']!);
  console.log(`\nSweep of 192.0.2.0/24 with 4 responders, ${ROUNDS} alternating rounds, whole-process wall time, defaults`);
  console.log(`vipkit arping   median ${vipkit.toFixed(3)} s  (min ${Math.min(...times['vipkit']!).toFixed(3)}, max ${Math.max(...times['vipkit']!).toFixed(3)})`);
  console.log(`arp-scan        median ${arpScan.toFixed(3)} s  (min ${Math.min(...times['arp-scan']!).toFixed(3)}, max ${Math.max(...times['arp-scan']!).toFixed(3)})`);
  console.log(`ratio vipkit / arp-scan: ${(vipkit / arpScan).toFixed(2)}`);
}

if (process.getuid?.() !== 0) {
  console.error('bench/arping needs root: it builds network namespaces.');
  process.exit(2);
}
execFileSync('tshark', ['--version'], { stdio: 'ignore' });
const lab = await Lab.create(LAB);
try {
  await rttHonesty(lab);
  await sweepSpeed(lab);
} finally {
  await lab.destroy();
}
