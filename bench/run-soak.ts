/**
 * No false failover while the control plane is loaded: two speakers (BFD 50 ms x 3); on
 * node1 the --services file of 2,000 services is rewritten and node1 is sent SIGHUP, over
 * and over, so that its main thread keeps re-reading YAML and re-allocating (and
 * collecting the garbage). BFD and the ARP answers run on the data plane's own thread, so
 * neither node may ever see the other's session go down. Reported: the reloads done, the
 * main thread's event-loop lag from node1's metrics, and every memberDown either node
 * logged (there must be none).
 *
 * Run as root after the build: node dist/bench/run-soak.js [--minutes N]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab } from '../src/lab/lab.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const MINUTES = Number(values.minutes);
const SERVICES = 2000;
const RELOAD_EVERY_MS = 200;
const LAB = {
  hosts: [
    { name: 'node1', addresses: ['198.18.0.11/16'] },
    { name: 'node2', addresses: ['198.18.0.12/16'] },
  ],
};

if (process.getuid?.() !== 0) {
  console.error('bench/run-soak needs root: it builds network namespaces.');
  process.exit(2);
}

/** 2,000 services, their order shuffled by `round`, so that every re-read is real work. */
function services(round: number): string {
  return Array.from({ length: SERVICES }, (_, index) => (index + round) % SERVICES)
    .map((index) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${index}\n  namespace: soak\nspec:\n  type: LoadBalancer\n  ports:\n    - port: 80\n`)
    .join('---\n');
}

const lab = await Lab.create(LAB);
const folder = mkdtempSync(join(tmpdir(), 'vipkit-bench-soak-'));
const speakers = new Map<string, { child: ChildProcess; events: Record<string, unknown>[] }>();
try {
  const file = join(folder, 'services.yaml');
  writeFileSync(file, services(0));
  for (const node of ['node1', 'node2']) {
    const argv = [process.execPath, VIPKIT, 'run', '--json', '--node-name', node, '--socket', join(folder, `${node}.sock`), '--member', 'node1=198.18.0.11', '--member', 'node2=198.18.0.12', '--pool', 'soak=198.18.16.0/20', '--services', file];
    const child = lab.spawn(node, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    const events: Record<string, unknown>[] = [];
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      events.push(...lines.filter((line) => line.trim()).map((line) => JSON.parse(line) as Record<string, unknown>));
    });
    speakers.set(node, { child, events });
  }
  const upDeadline = Date.now() + 20_000;
  while (![...speakers.values()].every(({ events }) => events.some((event) => event['event'] === 'memberUp'))) {
    if (Date.now() > upDeadline) throw new Error('the speakers did not see each other within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const node1 = speakers.get('node1')!;
  const end = Date.now() + MINUTES * 60_000;
  for (let round = 1; Date.now() < end; round++) {
    writeFileSync(file, services(round));
    node1.child.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, RELOAD_EVERY_MS));
  }
  const metrics = await lab.exec('node1', [process.execPath, '-e', "fetch('http://127.0.0.1:7472/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"]);
  const lag = (name: string) => Number(new RegExp(`^vipkit_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(metrics.stdout)?.[1]) * 1000;
  const reloads = node1.events.filter((event) => event['event'] === 'configReloaded').length;
  console.log(`${MINUTES} min of control-plane load on node1: ${reloads} re-reads of ${SERVICES} services (one every ${RELOAD_EVERY_MS} ms asked, by SIGHUP and file change)`);
  console.log(`node1 main-thread event-loop lag: mean ${lag('mean').toFixed(1)} ms, p99 ${lag('p99').toFixed(1)} ms, max ${lag('max').toFixed(1)} ms`);
  for (const [node, { events }] of speakers) {
    const downs = events.filter((event) => event['event'] === 'memberDown');
    console.log(`${node}: ${downs.length} memberDown (false failovers)${downs.map((event) => `\n  ${String(event['ts'])} ${String(event['reason'])}`).join('')}`);
  }
} finally {
  for (const { child } of speakers.values()) child.kill('SIGKILL');
  await lab.destroy();
  rmSync(folder, { recursive: true, force: true });
}
