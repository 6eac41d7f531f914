/**
 * vipkit watch benchmarks, one run:
 *
 * 1. Live rate: tcpreplay in one namespace sends ARP replies at --pps (default 50,000/s)
 *    for --seconds (default 10) to a client namespace where `vipkit watch` listens. What
 *    tcpreplay reports as sent is compared with the ARP frames watch counted: libpcap's
 *    drop counters are not reachable through cap, so the count is the proof.
 * 2. File read: one capture file of --file-frames ARP frames, read by `vipkit watch -r`
 *    and by `tshark -r file -Y arp`, each timed as a whole process, alternately.
 *
 * Run as root after the build: node dist/bench/watch.js [--pps N] [--seconds N] [--file-frames N] [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { Lab } from '../src/lab/lab.js';
import { PcapWriter } from '../src/observe/pcap-file.js';
import { ArpOperation } from '../src/wire/arp.js';
import { encodeArpFrame } from '../src/wire/frame.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const { values } = parseArgs({
  options: {
    pps: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '10' },
    'file-frames': { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
  },
});
const PPS = Number(values.pps);
const SECONDS = Number(values.seconds);
const FILE_FRAMES = Number(values['file-frames']);
const ROUNDS = Number(values.rounds);
/** Distinct speakers in the generated traffic: the engine tracks each address. */
const SPEAKERS = 1000;
const CLIENT_MAC = '02:00:5e:10:02:10';

const LAB = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24'], mac: CLIENT_MAC },
    { name: 'generator', addresses: ['192.0.2.20/24'] },
  ],
};

/** ARP replies from SPEAKERS addresses in 198.18.0.0/15 (RFC 2544's benchmarking range), each at its own MAC. */
function writeArpCapture(path: string, frames: number): void {
  const writer = new PcapWriter(path);
  const start = 1_800_000_000_000_000_000n;
  for (let index = 0; index < frames; index++) {
    const speaker = index % SPEAKERS;
    const mac = `02:00:5e:20:${(speaker >> 8).toString(16).padStart(2, '0')}:${(speaker & 0xff).toString(16).padStart(2, '0')}`;
    const frame = encodeArpFrame({
      source: mac,
      destination: CLIENT_MAC,
      arp: { operation: ArpOperation.Reply, senderMac: mac, senderIp: `198.18.${speaker >> 8}.${speaker & 0xff}`, targetMac: CLIENT_MAC, targetIp: '192.0.2.10' },
    });
    writer.write(frame, start + BigInt(index) * 20_000n);
  }
  writer.close();
}

async function liveRate(lab: Lab, directory: string): Promise<void> {
  const file = join(directory, 'speakers.pcap');
  writeArpCapture(file, SPEAKERS);
  const loops = Math.round((PPS * SECONDS) / SPEAKERS);
  // Events go to a file, as a monitor's log would: a pipe whose reader lags blocks stdout
  // (synchronous for pipes in Node.js), and the 1000 owner events of the first 20 ms with it.
  const events = join(directory, 'events.json');
  const watchCommand = `${process.execPath} ${VIPKIT} watch --json -I eth0 --for ${SECONDS + 4} > ${events} && tail -n 1 ${events}`;
  const watching = lab.exec('client', ['sh', '-c', watchCommand], { timeoutMs: (SECONDS + 30) * 1000 });
  // Let watch open its capture before the first frame leaves.
  await delay(1500);
  const replay = await lab.exec('generator', ['tcpreplay', '-i', 'eth0', '--pps', String(PPS), '--loop', String(loops), file], { timeoutMs: (SECONDS + 20) * 1000 });
  const watched = await watching;
  if (replay.code !== 0 || watched.code !== 0) throw new Error(`tcpreplay exit ${replay.code}: ${replay.stderr}; watch exit ${watched.code}: ${watched.stderr}`);
  const sent = Number(/Actual: (\d+) packets/.exec(replay.stdout)?.[1]);
  const rate = /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(replay.stdout)?.[1];
  const elapsed = /packets \(\d+ bytes\) sent in ([\d.]+) seconds/.exec(replay.stdout)?.[1];
  const summary = JSON.parse(watched.stdout.trim().split('\n').at(-1)!) as { arp: number; frames: number; addresses: unknown[] };
  console.log(`Live: tcpreplay sent ${sent} ARP frames in ${elapsed} s (${rate} frames/s, ${SPEAKERS} speakers)`);
  console.log(`      vipkit watch saw ${summary.arp} ARP frames (${summary.frames} frames), ${summary.addresses.length} addresses; missed ${sent - summary.arp}`);
}

function timed(argv: string[]): number {
  const started = process.hrtime.bigint();
  execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1024 ** 3 });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function fileRead(directory: string): void {
  const file = join(directory, 'arp.pcap');
  writeArpCapture(file, FILE_FRAMES);
  const tools = {
    'vipkit watch -r': [process.execPath, VIPKIT, 'watch', '--json', '-r', file],
    'tshark -r -Y arp': ['tshark', '-r', file, '-Y', 'arp'],
  };
  const times: Record<string, number[]> = { 'vipkit watch -r': [], 'tshark -r -Y arp': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, argv] of Object.entries(tools)) times[name]!.push(timed(argv));
  }
  const best = (name: string) => Math.min(...times[name]!);
  console.log(`\nFile read: ${FILE_FRAMES} ARP frames, ${ROUNDS} alternating rounds, whole-process wall time (best of ${ROUNDS})`);
  for (const name of Object.keys(tools)) {
    console.log(`${name.padEnd(18)} ${best(name).toFixed(2)} s  (${Math.round(FILE_FRAMES / best(name))} frames/s; all: ${times[name]!.map((time) => time.toFixed(2)).join(', ')})`);
  }
  console.log(`ratio vipkit / tshark: ${(best('vipkit watch -r') / best('tshark -r -Y arp')).toFixed(2)}`);
}

if (process.getuid?.() !== 0) {
  console.error('bench/watch needs root: it builds network namespaces.');
  process.exit(2);
}
for (const tool of ['tshark', 'tcpreplay']) execFileSync(tool, ['--version'], { stdio: 'ignore' });
const directory = mkdtempSync(join(tmpdir(), 'vipkit-bench-watch-'));
const lab = await Lab.create(LAB);
try {
  await liveRate(lab, directory);
} finally {
  await lab.destroy();
}
try {
  fileRead(directory);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
