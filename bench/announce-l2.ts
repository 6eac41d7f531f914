/**
 * Layer 2 answering, vipkit beside the Linux kernel on one lab, one run:
 *
 * 1. Latency: the client probes the kernel's own address on node1 and a VIP that vipkit
 *    announces from node1, alternately; tcpdump in the client namespace times each
 *    request-to-reply on the wire. The same for bench/bare-cap-responder.ts, the floor of
 *    any Node.js responder on cap.
 * 2. Load: the client sweeps 16,126 VIPs that vipkit announces, at 5,000 requests/s;
 *    requests and replies are counted in the capture.
 *
 * Run as root after the build: node dist/bench/announce-l2.js [--probes N] [--rate PPS]
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab } from '../src/lab/lab.js';
import { captureDuring, tsharkFields } from '../test/helpers/capture.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const BARE_CAP_RESPONDER = fileURLToPath(new URL('./bare-cap-responder.js', import.meta.url));
const { values } = parseArgs({ options: { probes: { type: 'string', default: '200' }, rate: { type: 'string', default: '5000' } } });

const LAB = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24', '198.18.0.10/18'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '198.18.0.11/18'] },
  ],
};
const KERNEL_ADDRESS = '192.0.2.11';
const VIP = '192.0.2.100';
const LOAD_RANGE = '198.18.1.0-198.18.63.254';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Per target: request-to-reply times on the wire, and how many requests went unanswered. */
function wireTimes(file: string): Map<string, { rtts: number[]; requests: number; replies: number }> {
  const byTarget = new Map<string, { rtts: number[]; requests: number; replies: number; pending?: number }>();
  const entry = (ip: string) => byTarget.get(ip) ?? byTarget.set(ip, { rtts: [], requests: 0, replies: 0 }).get(ip)!;
  for (const frame of tsharkFields(file, ['frame.time_epoch', 'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'])) {
    const at = Number(frame['frame.time_epoch']);
    const gratuitous = frame['arp.src.proto_ipv4'] === frame['arp.dst.proto_ipv4'];
    if (frame['arp.opcode'] === '1' && !gratuitous) {
      const target = entry(frame['arp.dst.proto_ipv4']!);
      target.requests++;
      target.pending = at;
    } else if (frame['arp.opcode'] === '2') {
      const target = entry(frame['arp.src.proto_ipv4']!);
      target.replies++;
      if (target.pending !== undefined) target.rtts.push((at - target.pending) * 1000);
      target.pending = undefined;
    }
  }
  return byTarget;
}

/** Starts a responder in node1 and resolves once its output shows `ready`. */
function startResponder(lab: Lab, argv: string[], ready: string): Promise<ChildProcess> {
  const child = lab.spawn('node1', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes(ready)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${argv.slice(1).join(' ')} exited with ${code}`)));
  });
}

const announceArgv = (args: string[]) => [process.execPath, VIPKIT, 'announce', '--l2', '-I', 'eth0', '--json', ...args];

async function stopResponder(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

if (process.getuid?.() !== 0) {
  console.error('bench/announce-l2 needs root: it builds network namespaces.');
  process.exit(2);
}
/** Median wire request-to-reply for the kernel's own address and for the responder's VIP, alternating. */
async function latency(lab: Lab, probes: number, responderArgv: string[], ready: string): Promise<{ kernel: number; responder: number }> {
  const responder = await startResponder(lab, responderArgv, ready);
  const capture = await captureDuring(lab, 'client', 'arp', async () => {
    for (let round = 0; round < probes; round++) {
      for (const target of [KERNEL_ADDRESS, VIP]) await lab.exec('client', ['arping', '-c', '1', '-w', '1', '-I', 'eth0', target]);
    }
  });
  await stopResponder(responder);
  const times = wireTimes(capture.file);
  capture.dispose();
  return { kernel: median(times.get(KERNEL_ADDRESS)!.rtts), responder: median(times.get(VIP)!.rtts) };
}

const lab = await Lab.create(LAB);
try {
  const probes = Number(values.probes);
  console.log(`Latency: ${probes} requests each, alternating, from iputils arping in the client; request-to-reply on the wire (tcpdump)`);
  const responders: [string, string[], string][] = [
    ['vipkit announce --l2', announceArgv([VIP]), '"announced"'],
    ['vipkit announce --l2 --busy-poll', announceArgv(['--busy-poll', VIP]), '"announced"'],
    ['bare cap responder (floor)', [process.execPath, BARE_CAP_RESPONDER, VIP], 'ready'],
  ];
  for (const [label, argv, ready] of responders) {
    const { kernel, responder } = await latency(lab, probes, argv, ready);
    console.log(`${label.padEnd(34)} median ${responder.toFixed(3)} ms   kernel (its own address) ${kernel.toFixed(3)} ms   ratio ${(responder / kernel).toFixed(2)}`);
  }

  // One quick gratuitous round for 16k addresses, finished before the sweep starts.
  const announce = await startResponder(lab, announceArgv(['--garp-count', '1', '--garp-rate', '50000', LOAD_RANGE]), '"announced"');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const load = await captureDuring(lab, 'client', 'arp and net 198.18.0.0/18', async () => {
    await lab.exec('client', [process.execPath, VIPKIT, 'arping', '-q', '--rate', values.rate, '--retry', '1', '--timeout', '0.5', LOAD_RANGE], { timeoutMs: 120_000 });
  });
  await stopResponder(announce);
  let requests = 0;
  let replies = 0;
  let unanswered = 0;
  for (const target of wireTimes(load.file).values()) {
    requests += target.requests;
    replies += target.replies;
    if (target.replies === 0) unanswered++;
  }
  load.dispose();
  console.log(`\nLoad: a sweep of ${LOAD_RANGE} at ${values.rate} requests/s, one request per address, counted in the client's capture`);
  console.log(`requests ${requests}, replies ${replies}, addresses left unanswered ${unanswered}`);
} finally {
  await lab.destroy();
}
