/**
 * Layer 2 failover, vipkit run beside keepalived (VRRPv3) on the same lab, one run: node1
 * and node2 share a VIP; the client broadcasts an ARP request for it every 10 ms (vipkit
 * arping: iputils arping takes whole seconds only) and tcpdump in the client timestamps
 * every reply. One second in, the
 * owner is taken away, and the longest gap between two replies is the failover the client
 * saw (capture timestamps, so neither tool's own report counts).
 *
 * - link down: the owner's interface goes down (both tools);
 * - SIGKILL: the owner's process dies (vipkit only: a killed keepalived leaves the address
 *   on its interface, whose kernel keeps answering);
 * - SIGTERM: a planned stop (both tools).
 *
 * keepalived runs at its default advert_int (1 s) and at 0.05 s, which sends as many
 * frames per second as vipkit's default BFD interval (20 per second per peer).
 *
 * Run as root after the build: node dist/bench/run-failover.js [--runs N]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab } from '../src/lab/lab.js';
import { placementOrder } from '../src/speaker/election.js';
import { captureDuring, tsharkFields } from '../test/helpers/capture.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);

const LAB = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
    { name: 'node2', addresses: ['192.0.2.12/24'] },
  ],
};
const VIP = '192.0.2.100';
const NODES = ['node1', 'node2'];
/** Long enough for keepalived's default (3 advertisements of 1 s, and its skew). */
const PROBE_SECONDS = 6;
const DISRUPT_AFTER_MS = 1000;
const READY_TIMEOUT_MS = 15_000;

type Disruption = 'link down' | 'SIGKILL' | 'SIGTERM';

/** Two speakers sharing the VIP, and which one owns it. */
interface Pair {
  owner: string;
  processes: Map<string, ChildProcess>;
  cleanup(): void;
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function vipkitPair(lab: Lab): Promise<Pair> {
  const processes = new Map<string, ChildProcess>();
  const up = new Set<string>();
  // The namespaces share one file system: each speaker its own status socket.
  const sockets = mkdtempSync(join(tmpdir(), 'vipkit-bench-run-'));
  for (const node of NODES) {
    const argv = [process.execPath, VIPKIT, 'run', '--json', '--node-name', node, '--socket', join(sockets, `${node}.sock`), '--member', 'node1=192.0.2.11', '--member', 'node2=192.0.2.12', '--pool', `bench=${VIP}`, '--service', `bench/vip=${VIP}`];
    const child = lab.spawn(node, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"memberUp"')) up.add(node);
    });
    processes.set(node, child);
  }
  await until('both vipkit speakers see each other', () => up.size === NODES.length);
  return {
    owner: placementOrder(NODES, VIP)[0]!,
    processes,
    cleanup: () => {
      processes.forEach((child) => child.kill('SIGKILL'));
      rmSync(sockets, { recursive: true, force: true });
    },
  };
}

function keepalivedConfig(priority: number, advertInterval: number): string {
  return [
    'global_defs { vrrp_version 3 }',
    'vrrp_instance bench {',
    '  state BACKUP',
    '  interface eth0',
    '  virtual_router_id 51',
    `  priority ${priority}`,
    `  advert_int ${advertInterval}`,
    `  virtual_ipaddress { ${VIP}/24 }`,
    '}',
  ].join('\n');
}

async function keepalivedPair(lab: Lab, advertInterval: number): Promise<Pair> {
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-bench-keepalived-'));
  const processes = new Map<string, ChildProcess>();
  NODES.forEach((node, index) => {
    const config = join(folder, `${node}.conf`);
    writeFileSync(config, keepalivedConfig(150 - 50 * index, advertInterval));
    const argv = ['keepalived', '-n', '-l', '-f', config, '--vrrp', '-p', join(folder, `${node}.pid`), '-r', join(folder, `${node}-vrrp.pid`)];
    processes.set(node, lab.spawn(node, argv, { stdio: 'ignore' }));
  });
  await until('keepalived puts the VIP on node1', async () => (await lab.exec('node1', ['ip', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(`${VIP}/24`));
  return {
    owner: 'node1',
    processes,
    cleanup: () => {
      processes.forEach((child) => child.kill('SIGKILL'));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/**
 * The longest time without a reply for the VIP in the client's capture (up to the last
 * request, when replies never came back), and the requests left unanswered.
 */
function longestGap(file: string): { gapMs: number; unanswered: number } {
  let last: number | undefined;
  let lastRequest = 0;
  let gapMs = 0;
  let pending = 0;
  let unanswered = 0;
  for (const frame of tsharkFields(file, ['frame.time_epoch', 'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'])) {
    const at = Number(frame['frame.time_epoch']) * 1000;
    if (frame['arp.opcode'] === '1' && frame['arp.dst.proto_ipv4'] === VIP && frame['arp.src.proto_ipv4'] !== VIP) {
      // A request still pending when the next goes out was not answered in time.
      unanswered += pending;
      pending = 1;
      lastRequest = at;
    } else if (frame['arp.opcode'] === '2' && frame['arp.src.proto_ipv4'] === VIP) {
      pending = 0;
      if (last !== undefined) gapMs = Math.max(gapMs, at - last);
      last = at;
    }
  }
  if (last !== undefined) gapMs = Math.max(gapMs, lastRequest - last);
  return { gapMs, unanswered: unanswered + pending };
}

async function trial(start: (lab: Lab) => Promise<Pair>, disruption: Disruption): Promise<{ gapMs: number; unanswered: number }> {
  const lab = await Lab.create(LAB);
  let pair: Pair | undefined;
  try {
    pair = await start(lab);
    const { owner, processes } = pair;
    const capture = await captureDuring(lab, 'client', `arp and host ${VIP}`, async () => {
      const probing = lab.exec('client', [process.execPath, VIPKIT, 'arping', '-q', '-i', '0.01', '-w', String(PROBE_SECONDS), '-I', 'eth0', VIP], { timeoutMs: (PROBE_SECONDS + 10) * 1000 });
      await new Promise((resolve) => setTimeout(resolve, DISRUPT_AFTER_MS));
      if (disruption === 'link down') await lab.exec(owner, ['ip', 'link', 'set', 'eth0', 'down']);
      else processes.get(owner)!.kill(disruption);
      await probing;
    });
    const result = longestGap(capture.file);
    capture.dispose();
    return result;
  } finally {
    pair?.cleanup();
    await lab.destroy();
  }
}

if (process.getuid?.() !== 0) {
  console.error('bench/run-failover needs root: it builds network namespaces.');
  process.exit(2);
}

const contenders: { name: string; start: (lab: Lab) => Promise<Pair>; disruptions: Disruption[] }[] = [
  { name: 'vipkit run (BFD 50 ms x 3)', start: vipkitPair, disruptions: ['link down', 'SIGKILL', 'SIGTERM'] },
  { name: 'keepalived advert_int 1', start: (lab) => keepalivedPair(lab, 1), disruptions: ['link down', 'SIGTERM'] },
  { name: 'keepalived advert_int 0.05', start: (lab) => keepalivedPair(lab, 0.05), disruptions: ['link down', 'SIGTERM'] },
];

console.log(`Failover seen by a client probing ${VIP} every 10 ms: the longest gap between ARP replies (tcpdump in the client), ${RUNS} runs each, one lab per run`);
console.log(`${'tool'.padEnd(28)} ${'owner taken away by'.padEnd(20)} ${'gap median'.padStart(11)} ${'gap max'.padStart(9)}   unanswered requests (per run)`);
for (const disruption of ['link down', 'SIGKILL', 'SIGTERM'] as Disruption[]) {
  for (const contender of contenders.filter((candidate) => candidate.disruptions.includes(disruption))) {
    const results: { gapMs: number; unanswered: number }[] = [];
    // The tools alternate run by run in one process, so they meet the same machine.
    for (let run = 0; run < RUNS; run++) results.push(await trial(contender.start, disruption));
    const gaps = results.map((result) => result.gapMs).sort((a, b) => a - b);
    console.log(
      `${contender.name.padEnd(28)} ${disruption.padEnd(20)} ${`${gaps[gaps.length >> 1]!.toFixed(0)} ms`.padStart(11)} ${`${gaps.at(-1)!.toFixed(0)} ms`.padStart(9)}   ${results.map((result) => result.unanswered).join(', ')}`,
    );
  }
}
