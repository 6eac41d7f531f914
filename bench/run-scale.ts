/**
 * vipkit run at scale, against itself at another scale (no peer tool runs 1,000 VIPs the
 * same way): three speakers with 1 VIP, then with 1,000, one lab each.
 *
 * - heartbeat: BFD frames each node sends per second, counted by tcpdump on its own link
 *   over 5 s (it must not grow with the VIPs: liveness is per member, never per VIP);
 * - steady state: CPU (utime + stime from /proc over those 15 s) and RSS per speaker;
 * - failover of a third: the node owning the most VIPs is killed; the client sweeps its
 *   VIPs with vipkit arping until every one answers again, and the time from the kill to
 *   the end of that sweep is reported (an upper bound: the last sweep's own length is in it).
 *
 * Run as root after the build: node dist/bench/run-scale.js
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../src/lab/lab.js';
import { placementOrder } from '../src/speaker/election.js';
import { captureDuring, tsharkFields } from '../test/helpers/capture.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const NODES = ['node1', 'node2', 'node3'];
const LAB = {
  hosts: [
    { name: 'client', addresses: ['198.18.0.10/16'] },
    { name: 'node1', addresses: ['198.18.0.11/16'] },
    { name: 'node2', addresses: ['198.18.0.12/16'] },
    { name: 'node3', addresses: ['198.18.0.13/16'] },
  ],
};
const MEASURE_S = 5;
const FAILOVER_TIMEOUT_MS = 30_000;
const TICKS_PER_SECOND = 100;

/** `count` VIPs from 198.18.1.0 on. */
const vips = (count: number) => Array.from({ length: count }, (_, index) => `198.18.${1 + (index >> 8)}.${index & 255}`);

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat(5), the 12th and 13th after the command.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** The node process behind `ip netns exec`: the child of the child. */
function speakerPid(child: ChildProcess): number {
  const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
  return Number(children.split(' ')[0] || child.pid);
}

async function scale(count: number): Promise<void> {
  const lab = await Lab.create(LAB);
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-bench-scale-'));
  const speakers = new Map<string, ChildProcess>();
  try {
    const addresses = vips(count);
    const servicesFile = join(folder, 'services.yaml');
    writeFileSync(servicesFile, addresses.map((ip, index) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${index}\n  namespace: bench\nspec:\n  type: LoadBalancer\n  loadBalancerIP: ${ip}\n  ports:\n    - port: 80\n`).join('---\n'));
    const up = new Set<string>();
    for (const node of NODES) {
      const argv = [process.execPath, VIPKIT, 'run', '--json', '--node-name', node, '--socket', join(folder, `${node}.sock`), '--metrics-addr', '127.0.0.1:7472', ...NODES.flatMap((member, index) => ['--member', `${member}=198.18.0.${11 + index}`]), '--pool', 'bench=198.18.1.0-198.18.8.255', '--services', servicesFile];
      const child = lab.spawn(node, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
      let memberUps = 0;
      child.stdout!.on('data', (chunk: Buffer) => {
        memberUps += chunk.toString().split('"memberUp"').length - 1;
        if (memberUps >= 2) up.add(node);
      });
      speakers.set(node, child);
    }
    const deadline = Date.now() + 20_000;
    while (up.size < NODES.length) {
      if (Date.now() > deadline) throw new Error('the speakers did not see each other within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Past the start-up burst of gratuitous frames (3 x 1.1 s).
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const pids = new Map(NODES.map((node) => [node, speakerPid(speakers.get(node)!)]));
    const cpuBefore = new Map(NODES.map((node) => [node, cpuSeconds(pids.get(node)!)]));
    const startedAt = performance.now();
    // BFD is unicast between the nodes: each one's own frames are counted on its own link.
    const sentPerSecond = new Map<string, number>();
    for (const [index, node] of NODES.entries()) {
      const source = `198.18.0.${11 + index}`;
      const capture = await captureDuring(lab, node, `udp dst port 3784 and src host ${source}`, () => new Promise((resolve) => setTimeout(resolve, MEASURE_S * 1000)));
      sentPerSecond.set(node, tsharkFields(capture.file, ['ip.src']).length / MEASURE_S);
      capture.dispose();
    }
    const measuredS = (performance.now() - startedAt) / 1000;
    for (const node of NODES) {
      const sent = sentPerSecond.get(node)!;
      const cpu = (cpuSeconds(pids.get(node)!) - cpuBefore.get(node)!) / measuredS;
      console.log(`${String(count).padStart(5)} VIPs  ${node}: ${sent.toFixed(1)} BFD frames/s sent, CPU ${(cpu * 100).toFixed(1)} %, RSS ${rssMiB(pids.get(node)!).toFixed(0)} MiB`);
    }

    const owners = new Map(addresses.map((ip) => [ip, placementOrder(NODES, ip)[0]!]));
    const victim = NODES.reduce((a, b) => ([...owners.values()].filter((owner) => owner === b).length > [...owners.values()].filter((owner) => owner === a).length ? b : a));
    const orphaned = addresses.filter((ip) => owners.get(ip) === victim);
    const killedAt = performance.now();
    speakers.get(victim)!.kill('SIGKILL');
    for (;;) {
      // One address is probed, not swept: one probe, half a second for its answer.
      const probing = orphaned.length === 1 ? ['-c', '1', '-w', '0.5'] : ['--rate', '5000', '--retry', '1', '--timeout', '0.1'];
      const sweep = await lab.exec('client', [process.execPath, VIPKIT, 'arping', '--json', ...probing, ...orphaned], { timeoutMs: 30_000 });
      const answered = new Set(sweep.stdout.split('\n').filter((line) => line.includes('"reply"')).map((line) => (JSON.parse(line) as { ip: string }).ip));
      if (orphaned.every((ip) => answered.has(ip))) break;
      if (performance.now() - killedAt > FAILOVER_TIMEOUT_MS) throw new Error(`${orphaned.length - answered.size} VIPs still unanswered after ${FAILOVER_TIMEOUT_MS / 1000} s`);
    }
    console.log(`${String(count).padStart(5)} VIPs  ${victim} (owner of ${orphaned.length}) killed: all answered again ${(performance.now() - killedAt).toFixed(0)} ms later (end of the sweep that found them all)`);
  } finally {
    for (const child of speakers.values()) child.kill('SIGKILL');
    await lab.destroy();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.getuid?.() !== 0) {
  console.error('bench/run-scale needs root: it builds network namespaces.');
  process.exit(2);
}
console.log('vipkit run, three speakers: heartbeat frames, CPU and RSS per speaker over 5 s, then the owner of the most VIPs killed');
for (const count of [1, 1000]) await scale(count);
