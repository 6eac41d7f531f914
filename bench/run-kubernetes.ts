/**
 * vipkit run --kubeconfig against a real kube-apiserver (1.20, with etcd, in the lab's `api`
 * namespace), on one lab: speakers on node1 and node2 (the only Nodes labelled for
 * --speaker-selector; the other Nodes are objects only), a `client` that asks for the VIPs.
 * The pool is 198.19.0.0/18 (avoidBuggyIPs false); node1, node2 and the client also hold an
 * address in it on the lab link, so that the VIPs are on-link. Every Service has a
 * loadBalancerIP and an EndpointSlice (discovery.k8s.io/v1beta1) with one ready endpoint:
 * without one it would not be announced. MetalLB cannot be installed here, so the ratio is
 * against vipkit itself at a tenth of the scale.
 *
 * 1. apply to answer: one Service at a time (--latency of them, 1.2 s or more apart), a
 *    `kubectl apply` from the client of a List holding the Service and its EndpointSlice.
 *    Before the apply, vipkit arping on the client broadcasts a request for the VIP every
 *    20 ms (iputils arping takes whole seconds only); tcpdump on the client captures ARP. From the apply's start (bench clock) to the
 *    first reply to the client, and to the owner's first gratuitous ARP, by capture
 *    timestamp (tshark); to the owner's serviceAnnounced log line; and kubectl's own run.
 * 2. at scale: --nodes Nodes, then --small and --services Services in all (the ones of 1
 *    included), created by `kubectl apply -f` of Lists of --batch Services with their
 *    slices, --parallel kubectl processes at a time (timed apart). Then: until both
 *    speakers announce every VIP (their logs); the leader's writes of status.loadBalancer.
 *    ingress are counted (kubectl get) for 30 s, after which the bench writes the rest as
 *    the leader would (each write makes every speaker re-read the cluster, so the leader
 *    alone takes minutes); steady state once both are quiet (or 120 s): VmRSS and
 *    VmHWM (/proc/<pid>/status), CPU seconds since start and CPU per second over --steady
 *    seconds (utime + stime, /proc/<pid>/stat); a sweep of every VIP from the client (vipkit
 *    arping) checked against the placement. Restart: node1 gets SIGTERM, is started again,
 *    and the time from its start to its last serviceAnnounced of its share (every VIP the
 *    placement gives it) is its convergence; also when node2 has given that share back.
 * 3. apply to route (BGP mode): --latency more Services in a second pool, 203.0.113.0/24,
 *    which a BGPAdvertisement sends to BIRD in `router` (one BGPPeer, both speakers), applied
 *    as in 1, twice: right after 1 (--latency Services in the API server), and after 2 (at
 *    the largest scale); tcpdump on the router captures BGP. From the apply's start
 *    to the first UPDATE carrying the prefix (either speaker) and to the second speaker's, by
 *    capture timestamp (tshark); birdc confirms both paths before the next.
 *
 * Run as root after the build: node dist/bench/run-kubernetes.js [--latency N] [--services N]
 * [--small N] [--nodes N] [--batch N] [--parallel N] [--steady S] [--heap-mib N] (the speakers'
 * --max-old-space-size; without it, node's default, as users run it)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeApiServer, KUBERNETES_VERSION, kubeApiServerUnavailableReason } from '../src/lab/kube-apiserver.js';
import { Bird, birdAcceptingSpeakers } from '../src/lab/bgp-daemons.js';
import { Lab } from '../src/lab/lab.js';
import { placementOrder } from '../src/speaker/election.js';
import { parseBirdRoutes } from '../test/helpers/bird-routes.js';
import { captureDuring, tsharkFields } from '../test/helpers/capture.js';
import { endpointSlice, KubernetesClientProcess, kubernetesList, metallbCrd } from '../test/helpers/kubernetes-lab.js';
import { startVipkitJson, type JsonEvent, type VipkitProcess } from '../test/helpers/vipkit-process.js';
import { maximum, median, sleep, until as poll } from './polling.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const COMMAND = `node dist/bench/run-kubernetes.js ${process.argv.slice(2).join(' ')}`.trim();
const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '50' },
    services: { type: 'string', default: '5000' },
    small: { type: 'string', default: '500' },
    nodes: { type: 'string', default: '50' },
    batch: { type: 'string', default: '250' },
    parallel: { type: 'string', default: '4' },
    steady: { type: 'string', default: '10' },
    'heap-mib': { type: 'string' },
  },
});
const LATENCY = Number(values.latency);
const SERVICES = Number(values.services);
const SMALL = Number(values.small);
const NODES = Number(values.nodes);
const BATCH = Number(values.batch);
const PARALLEL = Number(values.parallel);
const STEADY_S = Number(values.steady);
/** --max-old-space-size for the speakers; absent: node's default, as a user runs it. */
const HEAP_MIB = values['heap-mib'] === undefined ? undefined : Number(values['heap-mib']);

const SPEAKERS = ['node1', 'node2'];
const SPEAKER_LABEL = 'vipkit.io/speaker';
const API_ADDRESS = '192.0.2.5';
const ROUTER_ADDRESS = '192.0.2.1';
const SPEAKER_AS = 64800;
const ROUTER_AS = 65002;
/** The BGP pool: Services of step 3 take 203.0.113.1 upwards. */
const ROUTED_POOL = '203.0.113.0/24';
/** The client's address in the pool's subnet: the source of its ARP requests. */
const CLIENT_ADDRESS = '198.19.63.10';
const POOL = '198.19.0.0/18';
/** Bulk Services take 198.19.0.0 upwards (at most 32 x 256), the latency ones 198.19.32.x. */
const BULK_MAX = 32 * 256;
const LAB = {
  hosts: [
    { name: 'api', addresses: [`${API_ADDRESS}/24`] },
    { name: 'router', addresses: [`${ROUTER_ADDRESS}/24`] },
    { name: 'client', addresses: ['192.0.2.10/24', `${CLIENT_ADDRESS}/18`] },
    { name: 'node1', addresses: ['192.0.2.11/24', '198.19.63.11/18'] },
    { name: 'node2', addresses: ['192.0.2.12/24', '198.19.63.12/18'] },
  ],
};

const POLL_MS = 20;
const PROBE_INTERVAL_S = '0.02';
const PROBE_DEADLINE_S = 10;
const PROBER_START_MS = 600;
const LATENCY_SPACING_MS = 1200;
const START_TIMEOUT_MS = 60_000;
const KUBECTL_TIMEOUT_MS = 600_000;
const CONVERGE_TIMEOUT_MS = 300_000;
const QUIET_TIMEOUT_MS = 120_000;
/** Both speakers below this CPU share over QUIET_WINDOW_MS count as quiet. */
const QUIET_CPU = 0.05;
const QUIET_WINDOW_MS = 2000;
const STOP_TIMEOUT_MS = 15_000;
const TICKS_PER_SECOND = 100;
/** How long the leader's own status writes are watched before the bench writes the rest. */
const LEADER_WINDOW_MS = 30_000;
const WRITERS = 16;

/** Wall-clock milliseconds with a fraction, comparable with capture timestamps and log times. */
const epochMs = () => performance.timeOrigin + performance.now();

const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = POLL_MS) => poll(what, check, timeoutMs, intervalMs);

const bulkIp = (index: number) => `198.19.${index >> 8}.${index & 255}`;
const latencyIp = (index: number) => `198.19.32.${index}`;
const routedIp = (index: number) => `203.0.113.${index + 1}`;
const owner = (ip: string) => placementOrder(SPEAKERS, ip)[0]!;

function service(name: string, ip: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', loadBalancerIP: ip, selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

// --- the speakers ------------------------------------------------------------------------

/** What one speaker process announces now, from its serviceAnnounced and serviceWithdrawn lines. */
class Announcements {
  private cursor = 0;
  /** IP -> the time of the serviceAnnounced line that made it announced. */
  readonly now = new Map<string, number>();

  constructor(readonly process: VipkitProcess) {}

  sync(): this {
    const events = this.process.events;
    for (; this.cursor < events.length; this.cursor++) {
      const event = events[this.cursor]!;
      if (event.event === 'serviceAnnounced') this.now.set(String(event['ip']), Date.parse(String(event['ts'])));
      else if (event.event === 'serviceWithdrawn') this.now.delete(String(event['ip']));
    }
    return this;
  }

  /** The first line named `name`, or undefined. */
  first(name: string): JsonEvent | undefined {
    return this.process.events.find((event) => event.event === name);
  }

  get alive(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }
}

function startSpeaker(lab: Lab, api: KubeApiServer, node: string, folder: string): Announcements {
  const argv = ['run', '--json', '--kubeconfig', api.kubeconfig, '--node-name', node, '--speaker-selector', `${SPEAKER_LABEL}=true`, '--socket', join(folder, `${node}.sock`)];
  return new Announcements(startVipkitJson(lab, node, argv, HEAP_MIB === undefined ? [] : [`--max-old-space-size=${HEAP_MIB}`]));
}

/** The node process: `ip netns exec` execs it in place; were it to fork, its child. */
function nodePid(child: ChildProcess): number {
  if (readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'node') return child.pid!;
  const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
  return Number(children.split(' ')[0] || child.pid);
}

interface Usage {
  rssKiB: number;
  hwmKiB: number;
  cpuS: number;
}

function usage(pid: number): Usage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  // utime and stime are fields 14 and 15 of stat(5), the 12th and 13th after the command.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM'), cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

function exitWithin(process: VipkitProcess, timeoutMs: number): Promise<number | undefined> {
  return Promise.race([process.exited, sleep(timeoutMs).then(() => undefined)]);
}

/** Every 10 s on stderr while a long wait lasts: what each speaker announces, its memory and CPU, and what it logged meanwhile. */
function progress(speakers: Map<string, Announcements>, what: string, peakRssKiB: Map<string, number>): () => void {
  const startedAt = epochMs();
  const seen = new Map<string, number>();
  const timer = setInterval(() => {
    const parts = [...speakers].map(([node, speaker]) => {
      const events = speaker.sync().process.events;
      const counts = new Map<string, number>();
      for (const event of events.slice(seen.get(node) ?? 0)) counts.set(event.event, (counts.get(event.event) ?? 0) + 1);
      seen.set(node, events.length);
      let now: Usage | undefined;
      try {
        now = usage(nodePid(speaker.process.child));
        peakRssKiB.set(node, Math.max(peakRssKiB.get(node) ?? 0, now.rssKiB));
      } catch {
        // Exiting (a restart): /proc has no memory figures for it any more.
      }
      const logged = [...counts].map(([name, count]) => `${name} ${count}`).join(', ') || 'nothing';
      return `${node} announces ${speaker.now.size}${now ? `, RSS ${mib(now.rssKiB)}, CPU ${now.cpuS.toFixed(1)} s` : ', exited'}, logged ${logged}`;
    });
    console.error(`  ${what}, ${((epochMs() - startedAt) / 1000).toFixed(0)} s: ${parts.join('; ')}`);
  }, 10_000);
  return () => clearInterval(timer);
}

// --- the cluster -------------------------------------------------------------------------

async function kubectlOk(api: KubeApiServer, args: string[]): Promise<string> {
  const result = await api.kubectl('client', args, { timeoutMs: KUBECTL_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** MetalLB's kinds (minimal CRDs); the L2 pool and its L2Advertisement; the BGP pool, its BGPAdvertisement and the router as a BGPPeer; the Nodes: node1 and node2 labelled as speakers. */
async function setUpCluster(api: KubeApiServer): Promise<void> {
  const kinds = [['IPAddressPool', 'ipaddresspools', 'v1beta1'], ['L2Advertisement', 'l2advertisements', 'v1beta1'], ['BGPAdvertisement', 'bgpadvertisements', 'v1beta1'], ['BGPPeer', 'bgppeers', 'v1beta2']] as const;
  await api.apply('client', kubernetesList(kinds.map(([kind, plural, version]) => metallbCrd(kind, plural, version))));
  await kubectlOk(api, ['wait', '--for=condition=established', '--timeout=30s', ...kinds.map(([, plural]) => `crd/${plural}.metallb.io`)]);
  await kubectlOk(api, ['create', 'namespace', 'metallb-system']);
  const nodes = Array.from({ length: NODES }, (_, index) => {
    const name = `node${index + 1}`;
    const labels = { 'kubernetes.io/hostname': name, ...(SPEAKERS.includes(name) ? { [SPEAKER_LABEL]: 'true' } : {}) };
    return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${11 + index}` }] } };
  });
  await api.apply(
    'client',
    kubernetesList([
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bench', namespace: 'metallb-system' }, spec: { addresses: [POOL], avoidBuggyIPs: false } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'bench', namespace: 'metallb-system' }, spec: { ipAddressPools: ['bench'] } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'routed', namespace: 'metallb-system' }, spec: { addresses: [ROUTED_POOL], avoidBuggyIPs: false } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'routed', namespace: 'metallb-system' }, spec: { ipAddressPools: ['routed'] } },
      { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'router', namespace: 'metallb-system' }, spec: { myASN: SPEAKER_AS, peerASN: ROUTER_AS, peerAddress: ROUTER_ADDRESS } },
      ...nodes,
    ]),
  );
}

/** Services (with their slices) s-<from>..s-<to - 1>, in Lists of BATCH, PARALLEL kubectl processes at a time; the wall time. */
async function createBulk(api: KubeApiServer, from: number, to: number): Promise<number> {
  const batches: number[][] = [];
  for (let first = from; first < to; first += BATCH) batches.push(Array.from({ length: Math.min(BATCH, to - first) }, (_, offset) => first + offset));
  const startedAt = epochMs();
  const worker = async () => {
    for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
      const objects = batch.flatMap((index) => [service(`s-${index}`, bulkIp(index)), endpointSlice(`s-${index}`, `node${1 + (index % NODES)}`)]);
      await api.apply('client', kubernetesList(objects));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return epochMs() - startedAt;
}

/** The Services whose status holds no ingress address yet. */
async function withoutIngress(api: KubeApiServer): Promise<string[]> {
  const text = await kubectlOk(api, ['get', 'services', '-o', 'jsonpath={range .items[*]}{.spec.type} {.metadata.name} {.status.loadBalancer.ingress[0].ip}{"\\n"}{end}']);
  return text
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter((fields) => fields[0] === 'LoadBalancer' && fields.length < 3)
    .map((fields) => fields[1]!);
}

/** What the leader would write (the allocator gives each Service its loadBalancerIP), written by the bench, WRITERS at a time. */
async function writeIngress(client: KubernetesClientProcess, names: string[], ipOf: (name: string) => string): Promise<void> {
  const queue = [...names];
  const writer = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) await client.call('set-ingress', { namespace: 'default', name, ips: [ipOf(name)] });
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

// --- 1. apply to answer ------------------------------------------------------------------

interface Applied {
  ip: string;
  appliedAt: number;
  kubectlMs: number;
  announcedAt: number;
  probeAnswered: boolean;
}

interface LatencyFigures {
  answerMs: number[];
  claimMs: number[];
  logMs: number[];
  kubectlMs: number[];
  byOwner: number;
  unanswered: string[];
}

async function applyToAnswer(lab: Lab, api: KubeApiServer, speakers: Map<string, Announcements>): Promise<LatencyFigures> {
  const applied: Applied[] = [];
  const capture = await captureDuring(lab, 'client', 'arp', async () => {
    for (let index = 0; index < LATENCY; index++) {
      const ip = latencyIp(index);
      const name = `lat-${index}`;
      const startedAt = epochMs();
      // iputils arping takes whole seconds between probes only; vipkit arping takes fractions.
      const prober = lab.spawn('client', [process.execPath, VIPKIT, 'arping', '-f', '-q', '-i', PROBE_INTERVAL_S, '-w', String(PROBE_DEADLINE_S), ip], { stdio: 'ignore' });
      const probed = new Promise<number>((resolve) => prober.once('exit', (code) => resolve(code ?? -1)));
      // The prober is asking before the Service exists (node starts in about 0.3 s).
      await sleep(PROBER_START_MS);
      const appliedAt = epochMs();
      await api.apply('client', kubernetesList([service(name, ip), endpointSlice(name, 'node1')]));
      const kubectlMs = epochMs() - appliedAt;
      const probeCode = await Promise.race([probed, sleep((PROBE_DEADLINE_S + 5) * 1000).then(() => -1)]);
      if (prober.exitCode === null) prober.kill('SIGKILL');
      const speaker = speakers.get(owner(ip))!;
      await until(`${owner(ip)} logs serviceAnnounced for ${ip}`, () => speaker.sync().now.has(ip), 10_000);
      applied.push({ ip, appliedAt, kubectlMs, announcedAt: speaker.now.get(ip)!, probeAnswered: probeCode === 0 });
      await sleep(Math.max(0, startedAt + LATENCY_SPACING_MS - epochMs()));
    }
  });
  try {
    const frames = tsharkFields(capture.file, ['frame.time_epoch', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'], 'arp');
    const figures: LatencyFigures = { answerMs: [], claimMs: [], logMs: [], kubectlMs: [], byOwner: 0, unanswered: [] };
    for (const sample of applied) {
      const after = frames.filter((frame) => Number(frame['frame.time_epoch']) * 1000 >= sample.appliedAt && frame['arp.src.proto_ipv4'] === sample.ip);
      const reply = after.find((frame) => frame['arp.opcode'] === '2' && frame['arp.dst.proto_ipv4'] === CLIENT_ADDRESS);
      const claim = after.find((frame) => frame['arp.dst.proto_ipv4'] === sample.ip);
      if (reply === undefined) figures.unanswered.push(sample.ip);
      else {
        figures.answerMs.push(Number(reply['frame.time_epoch']) * 1000 - sample.appliedAt);
        if (reply['arp.src.hw_mac'] === lab.mac(owner(sample.ip))) figures.byOwner++;
      }
      if (claim !== undefined) figures.claimMs.push(Number(claim['frame.time_epoch']) * 1000 - sample.appliedAt);
      figures.logMs.push(sample.announcedAt - sample.appliedAt);
      figures.kubectlMs.push(sample.kubectlMs);
    }
    return figures;
  } finally {
    capture.dispose();
  }
}

// --- 2. at scale -------------------------------------------------------------------------

interface SpeakerFigures {
  rssKiB: number;
  hwmKiB: number;
  cpuS: number;
  cpuPerS: number;
}

interface ScaleFigures {
  services: number;
  createdObjects: number;
  createMs: number;
  announcedAfterCreateMs: number;
  leaderWrites: number;
  leaderWindowMs: number;
  leaderMissingAtAnnounced: number;
  benchWrites: number;
  benchWriteMs: number;
  ingressAfterCreateMs: number;
  quietAfterCreateMs: number;
  quietCpu: number;
  steady: Map<string, SpeakerFigures>;
  /** Per speaker, from the creation's start to the end of steady state. */
  unrest: Map<string, { memberDown: number; conflicts: number; reloads: number; announced: number }>;
  sweepAnswered: number;
  sweepByOwner: number;
  share: number;
  stopMs: number;
  listedMs: number;
  memberUpMs: number;
  convergeMs: number;
  termToConvergedMs: number;
  convergeCpuS: number;
  convergeHwmKiB: number;
  givenBackMs: number;
}

/** Every VIP announced by its owner alone, as the speakers' logs say. */
function allAnnounced(speakers: Map<string, Announcements>, ips: string[]): boolean {
  for (const speaker of speakers.values()) speaker.sync();
  return ips.every((ip) => speakers.get(owner(ip))!.now.has(ip));
}

/** Until the busier speaker spends less than QUIET_CPU over QUIET_WINDOW_MS, or QUIET_TIMEOUT_MS; its last share of CPU. */
async function quiet(pids: number[]): Promise<number> {
  const deadline = Date.now() + QUIET_TIMEOUT_MS;
  for (;;) {
    const before = pids.map((pid) => usage(pid).cpuS);
    await sleep(QUIET_WINDOW_MS);
    const busiest = Math.max(...pids.map((pid, index) => (usage(pid).cpuS - before[index]!) / (QUIET_WINDOW_MS / 1000)));
    if (busiest < QUIET_CPU || Date.now() > deadline) return busiest;
  }
}

async function sweep(lab: Lab, ips: string[]): Promise<{ answered: number; byOwner: number }> {
  const bulk = ips.filter((ip) => !ip.startsWith('198.19.32.'));
  const ranges = [...(bulk.length > 0 ? [`${bulk[0]}-${bulk.at(-1)}`] : []), ...(LATENCY > 0 ? [`${latencyIp(0)}-${latencyIp(LATENCY - 1)}`] : [])];
  const result = await lab.exec('client', [process.execPath, VIPKIT, 'arping', '--json', '--rate', '5000', '--retry', '3', '--timeout', '1', ...ranges], { timeoutMs: 120_000 });
  const macs = new Map<string, Set<string>>();
  for (const line of result.stdout.split('\n')) {
    if (!line.includes('"reply"')) continue;
    const reply = JSON.parse(line) as { ip: string; mac: string };
    macs.set(reply.ip, (macs.get(reply.ip) ?? new Set()).add(reply.mac));
  }
  const byOwner = ips.filter((ip) => macs.get(ip)?.size === 1 && macs.get(ip)!.has(lab.mac(owner(ip)))).length;
  return { answered: ips.filter((ip) => macs.has(ip)).length, byOwner };
}

/** The figures of one scale, as far as it got; `failure` says why it stopped early. */
interface ScaleRun {
  figures: Partial<ScaleFigures> & { services: number; peakRssKiB: Map<string, number> };
  failure?: string;
}

async function atScale(lab: Lab, api: KubeApiServer, client: KubernetesClientProcess, speakers: Map<string, Announcements>, folder: string, total: number, bulkSoFar: number): Promise<ScaleRun> {
  const bulk = total - LATENCY;
  const ips = [...Array.from({ length: bulk }, (_, index) => bulkIp(index)), ...Array.from({ length: LATENCY }, (_, index) => latencyIp(index))];
  const run: ScaleRun = { figures: { services: total, peakRssKiB: new Map() } };
  const stopProgress = progress(speakers, `${total} Services`, run.figures.peakRssKiB);
  try {
    await measureAtScale(lab, api, client, speakers, folder, total, bulkSoFar, ips, run.figures);
  } catch (error) {
    const dead = [...speakers].filter(([, speaker]) => !speaker.alive);
    run.failure = [
      (error as Error).message,
      ...dead.map(([node, speaker]) => {
        const said = speaker.process.stderr().trim().split('\n');
        // V8 says why it aborts (e.g. the heap limit) above its stack trace.
        const fatal = said.find((line) => line.includes('FATAL ERROR')) ?? said.slice(-2).join(' | ');
        return `${node}'s speaker exited (${speaker.process.child.exitCode ?? speaker.process.child.signalCode}): ${fatal.trim()}`;
      }),
    ].join('; ');
  } finally {
    stopProgress();
  }
  return run;
}

async function measureAtScale(lab: Lab, api: KubeApiServer, client: KubernetesClientProcess, speakers: Map<string, Announcements>, folder: string, total: number, bulkSoFar: number, ips: string[], figures: Partial<ScaleFigures>): Promise<void> {
  const bulk = total - LATENCY;
  const createStart = epochMs();
  figures.createdObjects = 2 * (bulk - bulkSoFar);
  figures.createMs = await createBulk(api, bulkSoFar, bulk);
  const createdAt = epochMs();
  console.error(`${total} Services: created ${bulk - bulkSoFar} more with their slices in ${(figures.createMs / 1000).toFixed(1)} s`);
  // While creating and settling, did the speakers lose each other (BFD), or see the other answer too?
  const countUnrest = () => {
    const during = (node: string, name: string) => speakers.get(node)!.process.events.filter((event) => event.event === name && Date.parse(String(event['ts'])) >= createStart).length;
    figures.unrest = new Map(SPEAKERS.map((node) => [node, { memberDown: during(node, 'memberDown'), conflicts: during(node, 'conflict'), reloads: during(node, 'configReloaded'), announced: speakers.get(node)!.sync().now.size }]));
  };
  try {
    await until(`both speakers announce all ${total} VIPs`, () => allAnnounced(speakers, ips) || [...speakers.values()].some((speaker) => !speaker.alive), CONVERGE_TIMEOUT_MS, 100);
  } finally {
    countUnrest();
  }
  if ([...speakers.values()].some((speaker) => !speaker.alive)) throw new Error('a speaker exited before every VIP was announced');
  const announcedAt = Math.max(...ips.map((ip) => speakers.get(owner(ip))!.now.get(ip)!));
  figures.announcedAfterCreateMs = announcedAt - createdAt;
  // The leader writes each Service's status; each write is a change every speaker re-reads
  // the whole cluster for. Watched for a while, then the bench writes the rest itself.
  figures.leaderMissingAtAnnounced = (await withoutIngress(api)).length;
  const windowStart = epochMs();
  await sleep(Math.max(0, announcedAt + LEADER_WINDOW_MS - epochMs()));
  const missing = await withoutIngress(api);
  figures.leaderWindowMs = epochMs() - windowStart;
  figures.leaderWrites = figures.leaderMissingAtAnnounced - missing.length;
  figures.benchWrites = missing.length;
  const ipByName = new Map([...Array.from({ length: bulk }, (_, index): [string, string] => [`s-${index}`, bulkIp(index)]), ...Array.from({ length: LATENCY }, (_, index): [string, string] => [`lat-${index}`, latencyIp(index)])]);
  const writeStart = epochMs();
  await writeIngress(client, missing, (name) => ipByName.get(name)!);
  figures.benchWriteMs = epochMs() - writeStart;
  await until(`all ${total} ingress addresses written`, async () => (await withoutIngress(api)).length === 0, 60_000, 1000);
  figures.ingressAfterCreateMs = epochMs() - createdAt;
  const pids = new Map([...speakers].map(([node, speaker]) => [node, nodePid(speaker.process.child)]));
  figures.quietCpu = await quiet([...pids.values()]);
  figures.quietAfterCreateMs = figures.quietCpu < QUIET_CPU ? epochMs() - createdAt : NaN;
  console.error(`${total} Services: announced, ingress written (${figures.leaderWrites} by the leader in ${(figures.leaderWindowMs / 1000).toFixed(0)} s, ${missing.length} by the bench), ${figures.quietCpu < QUIET_CPU ? 'quiet' : 'not quiet'}; steady state for ${STEADY_S} s`);

  const before = new Map([...pids].map(([node, pid]) => [node, usage(pid)]));
  const steadyStart = epochMs();
  await sleep(STEADY_S * 1000);
  const steadyS = (epochMs() - steadyStart) / 1000;
  figures.steady = new Map(
    [...pids].map(([node, pid]) => {
      const now = usage(pid);
      return [node, { rssKiB: now.rssKiB, hwmKiB: now.hwmKiB, cpuS: now.cpuS, cpuPerS: (now.cpuS - before.get(node)!.cpuS) / steadyS }];
    }),
  );
  countUnrest();
  const swept = await sweep(lab, ips);
  figures.sweepAnswered = swept.answered;
  figures.sweepByOwner = swept.byOwner;

  // Restart: SIGTERM node1, start it again, until it announces its whole share.
  const victim = SPEAKERS[0]!;
  const other = speakers.get(SPEAKERS[1]!)!;
  const share = ips.filter((ip) => owner(ip) === victim);
  figures.share = share.length;
  const termAt = epochMs();
  const stopping = speakers.get(victim)!.process;
  stopping.child.kill('SIGTERM');
  if ((await exitWithin(stopping, STOP_TIMEOUT_MS)) === undefined) throw new Error(`${victim}'s speaker did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM`);
  figures.stopMs = epochMs() - termAt;
  const startedAt = epochMs();
  const fresh = startSpeaker(lab, api, victim, folder);
  speakers.set(victim, fresh);
  await until(`the restarted ${victim} announces its ${share.length} VIPs`, () => share.every((ip) => fresh.sync().now.has(ip)) || !fresh.alive, CONVERGE_TIMEOUT_MS);
  if (!fresh.alive) throw new Error(`the restarted ${victim} exited`);
  const logged = (name: string) => {
    const event = fresh.first(name);
    return event === undefined ? NaN : Date.parse(String(event['ts'])) - startedAt;
  };
  figures.listedMs = logged('createARPResponder');
  figures.memberUpMs = logged('memberUp');
  const convergedAt = Math.max(...share.map((ip) => fresh.now.get(ip)!));
  figures.convergeMs = convergedAt - startedAt;
  figures.termToConvergedMs = convergedAt - termAt;
  const atConvergence = usage(nodePid(fresh.process.child));
  figures.convergeCpuS = atConvergence.cpuS;
  figures.convergeHwmKiB = atConvergence.hwmKiB;
  await until(`${SPEAKERS[1]} gives ${victim}'s share back`, () => share.every((ip) => !other.sync().now.has(ip)), 60_000);
  const lastWithdrawal = other.process.events.filter((event) => event.event === 'serviceWithdrawn' && Date.parse(String(event['ts'])) >= startedAt).map((event) => Date.parse(String(event['ts'])));
  figures.givenBackMs = lastWithdrawal.length > 0 ? maximum(lastWithdrawal) - startedAt : NaN;
}

// --- 3. apply to route ----------------------------------------------------------------------

interface RouteFigures {
  /** Services in the API server when the step began. */
  services: number;
  firstUpdateMs: number[];
  secondUpdateMs: number[];
  logMs: number[];
  kubectlMs: number[];
  routed: number;
  missing: string[];
}

/** How many paths BIRD holds for `prefix`: one per speaker that announces it. */
async function birdPaths(bird: Bird, prefix: string): Promise<number> {
  // Not `show route for`: birdc fails while the prefix is unknown. BIRD holds step 3's routes only.
  return parseBirdRoutes(await bird.birdc('show', 'route', 'all')).filter((route) => route.prefix === prefix).length;
}

/** Step 3 with the --latency Services from `first` on (203.0.113.first+1 ...), `services` being in the API server already. */
async function applyToRoute(lab: Lab, api: KubeApiServer, bird: Bird, speakers: Map<string, Announcements>, services: number, first: number): Promise<RouteFigures> {
  const applied: { ip: string; appliedAt: number; kubectlMs: number; routed: boolean }[] = [];
  const capture = await captureDuring(lab, 'router', 'tcp port 179', async () => {
    for (let index = first; index < first + LATENCY; index++) {
      const ip = routedIp(index);
      const name = `bgp-${index}`;
      const appliedAt = epochMs();
      await api.apply('client', kubernetesList([service(name, ip), endpointSlice(name, 'node1')]));
      const kubectlMs = epochMs() - appliedAt;
      let routed = true;
      await until(`BIRD has ${ip} from both speakers`, async () => (await birdPaths(bird, `${ip}/32`)) === SPEAKERS.length, 10_000).catch((error: Error) => {
        routed = false;
        console.error(`  ${error.message}`);
      });
      applied.push({ ip, appliedAt, kubectlMs, routed });
      await sleep(Math.max(0, appliedAt + LATENCY_SPACING_MS - epochMs()));
    }
  });
  try {
    const updates = tsharkFields(capture.file, ['frame.time_epoch', 'ip.src', 'bgp.nlri_prefix'], `bgp.type == 2 && ip.dst == ${ROUTER_ADDRESS}`);
    const figures: RouteFigures = { services, firstUpdateMs: [], secondUpdateMs: [], logMs: [], kubectlMs: [], routed: 0, missing: [] };
    for (const sample of applied) {
      // A speaker's first UPDATE naming the prefix after the apply; tshark lists an UPDATE's prefixes with commas.
      const bySpeaker = new Map<string, number>();
      for (const update of updates) {
        const at = Number(update['frame.time_epoch']) * 1000;
        if (at >= sample.appliedAt && update['bgp.nlri_prefix']!.split(',').includes(sample.ip) && !bySpeaker.has(update['ip.src']!)) bySpeaker.set(update['ip.src']!, at - sample.appliedAt);
      }
      const times = [...bySpeaker.values()].sort((a, b) => a - b);
      if (times.length > 0) figures.firstUpdateMs.push(times[0]!);
      if (times.length > 1) figures.secondUpdateMs.push(times[1]!);
      if (sample.routed) figures.routed++;
      else figures.missing.push(sample.ip);
      const announced = [...speakers.values()].map((speaker) => speaker.sync().now.get(sample.ip)).filter((at): at is number => at !== undefined);
      if (announced.length > 0) figures.logMs.push(Math.min(...announced) - sample.appliedAt);
      figures.kubectlMs.push(sample.kubectlMs);
    }
    return figures;
  } finally {
    capture.dispose();
  }
}

// --- the report --------------------------------------------------------------------------

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 100 ? 1 : 0)} ms` : 'n/a');
const seconds = (value: number) => (Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : 'n/a');
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : 'n/a');
const LABEL_WIDTH = 58;

function row(label: string, ...columns: string[]): void {
  console.log(`${label.padEnd(LABEL_WIDTH)} ${columns.map((column) => column.padStart(16)).join(' ')}`);
}

function report(latency: LatencyFigures, small: ScaleRun, large: ScaleRun, routings: RouteFigures[]): void {
  const heap = HEAP_MIB === undefined ? "node's default heap limit" : `--max-old-space-size=${HEAP_MIB}`;
  console.log(`\nvipkit run --kubeconfig, kube-apiserver ${KUBERNETES_VERSION} and etcd in the lab; speakers on ${SPEAKERS.join(' and ')} (--speaker-selector, ${heap}), ${NODES} Nodes in the API server`);
  console.log(`1. kubectl apply of a Service + its EndpointSlice (one List) to the VIP answering, ${LATENCY} services one after another`);
  row('', 'median', 'max');
  const medianMax = (numbers: number[]) => (numbers.length > 0 ? [ms(median(numbers)), ms(maximum(numbers))] : ['n/a', 'n/a']);
  row('   apply start to the first ARP reply at the client (goal < 1 s)', ...medianMax(latency.answerMs));
  row("   apply start to the owner's first gratuitous ARP", ...medianMax(latency.claimMs));
  row("   apply start to serviceAnnounced in the owner's log", ...medianMax(latency.logMs));
  row('   kubectl apply itself (start to exit)', ...medianMax(latency.kubectlMs));
  row('   answered / by the placement owner', `${latency.answerMs.length}/${LATENCY}`, `${latency.byOwner}/${LATENCY}`);
  if (latency.unanswered.length > 0) console.log(`   unanswered: ${latency.unanswered.join(' ')}`);

  console.log(`2. Services in the API server (each with a ready EndpointSlice), ${NODES} Nodes`);
  row('', String(small.figures.services), String(large.figures.services), `${large.figures.services}/${small.figures.services}`);
  // A step that stopped early leaves the rest of its column empty ('-'); why is printed below the table.
  const both = (label: string, pick: (figures: Partial<ScaleFigures>) => number | undefined, format: (value: number) => string, withRatio = true) => {
    const [a, b] = [pick(small.figures), pick(large.figures)];
    row(label, a === undefined ? '-' : format(a), b === undefined ? '-' : format(b), withRatio ? ratio(b ?? NaN, a ?? NaN) : '');
  };
  both(`   objects created (kubectl apply, Lists of ${2 * BATCH}, ${PARALLEL} at a time)`, (figures) => figures.createdObjects, String, false);
  both('   creation wall time', (figures) => figures.createMs, seconds, false);
  both('   end of creation to every VIP announced (logs)', (figures) => figures.announcedAfterCreateMs, seconds);
  both('   ingress missing when every VIP was announced', (figures) => figures.leaderMissingAtAnnounced, String, false);
  both(`   of those, written by the leader within ${LEADER_WINDOW_MS / 1000} s`, (figures) => figures.leaderWrites, String, false);
  both('   leader status writes per second', (figures) => (figures.leaderWrites === undefined ? undefined : (figures.leaderWrites * 1000) / figures.leaderWindowMs!), (value) => value.toFixed(2));
  both(`   the rest written by the bench (merge patches, ${WRITERS} at a time)`, (figures) => figures.benchWrites, String, false);
  both('   ... in', (figures) => figures.benchWriteMs, seconds, false);
  both('   end of creation to every ingress written', (figures) => figures.ingressAfterCreateMs, seconds, false);
  both(`   end of creation to both speakers quiet (< ${QUIET_CPU * 100} % CPU over ${QUIET_WINDOW_MS / 1000} s)`, (figures) => figures.quietAfterCreateMs, seconds, false);
  both('   busier speaker at the end of that wait', (figures) => figures.quietCpu, (value) => `${(value * 100).toFixed(1)} %`, false);
  for (const node of SPEAKERS) {
    const pick = (figures: Partial<ScaleFigures>) => figures.steady?.get(node);
    both(`   ${node} VmRSS, steady`, (figures) => pick(figures)?.rssKiB, mib);
    both(`   ${node} VmHWM`, (figures) => pick(figures)?.hwmKiB, mib);
    both(`   ${node} CPU since its start (utime + stime)`, (figures) => pick(figures)?.cpuS, (value) => `${value.toFixed(1)} s`, false);
    both(`   ${node} CPU in steady state, over ${STEADY_S} s`, (figures) => pick(figures)?.cpuPerS, (value) => `${(value * 100).toFixed(2)} %`);
    both(`   ${node} highest VmRSS seen (10 s samples, any process)`, (figures) => (figures as ScaleRun['figures']).peakRssKiB.get(node), mib);
  }
  for (const node of SPEAKERS) {
    const pick = (figures: Partial<ScaleFigures>) => figures.unrest?.get(node);
    both(`   ${node} VIPs it announces (of ${SMALL} / ${SERVICES}), at steady end`, (figures) => pick(figures)?.announced, String, false);
    both(`   ${node} configReloaded lines, creation to steady end`, (figures) => pick(figures)?.reloads, String, false);
    both(`   ${node} memberDown (BFD lost the other), same span`, (figures) => pick(figures)?.memberDown, String, false);
    both(`   ${node} conflict (another MAC answers), same span`, (figures) => pick(figures)?.conflicts, String, false);
  }
  both('   client sweep: VIPs answered', (figures) => figures.sweepAnswered, String, false);
  both('   client sweep: answered by the placement owner alone', (figures) => figures.sweepByOwner, String, false);
  both(`   restart of ${SPEAKERS[0]}: its share of the VIPs`, (figures) => figures.share, String, false);
  both('   SIGTERM to exit (handover included)', (figures) => figures.stopMs, ms);
  both('   start to createARPResponder (cluster listed and read)', (figures) => figures.listedMs, ms);
  both(`   start to memberUp (BFD with ${SPEAKERS[1]})`, (figures) => figures.memberUpMs, ms);
  both('   start to its whole share announced (convergence)', (figures) => figures.convergeMs, ms);
  both('   SIGTERM to its whole share announced', (figures) => figures.termToConvergedMs, ms);
  both(`   start to ${SPEAKERS[1]}'s last withdrawal of that share`, (figures) => figures.givenBackMs, ms);
  both('   CPU of the new process at convergence', (figures) => figures.convergeCpuS, (value) => `${value.toFixed(2)} s`);
  both('   VmHWM of the new process at convergence', (figures) => figures.convergeHwmKiB, mib);
  for (const run of [small, large]) if (run.failure !== undefined) console.log(`   the ${run.figures.services} step stopped early: ${run.failure}`);

  console.log(`3. BGP mode: kubectl apply of a Service + its EndpointSlice to its route at BIRD (both speakers announce it), ${LATENCY} services in a second pool, one after another`);
  for (const routing of routings) {
    row(`   with ${routing.services} Services in the API server`, 'median', 'max');
    row('   apply start to the first UPDATE at the router (goal < 1 s)', ...medianMax(routing.firstUpdateMs));
    row("   apply start to the other speaker's UPDATE", ...medianMax(routing.secondUpdateMs));
    row('   apply start to the first serviceAnnounced', ...medianMax(routing.logMs));
    row('   kubectl apply itself (start to exit)', ...medianMax(routing.kubectlMs));
    row('   at BIRD from both speakers (birdc)', `${routing.routed}/${LATENCY}`);
    if (routing.missing.length > 0) console.log(`   not at BIRD from both: ${routing.missing.join(' ')}`);
  }
  if (routings.length < 2) console.log(`   not run at ${SERVICES}: step 2 stopped early`);
  console.log(`command: ${COMMAND}`);
}

// --- main --------------------------------------------------------------------------------

if (process.getuid?.() !== 0) {
  console.error('bench/run-kubernetes needs root: it builds network namespaces.');
  process.exit(2);
}
const unavailable = kubeApiServerUnavailableReason();
if (unavailable !== undefined) {
  console.error(`bench/run-kubernetes ${unavailable}.`);
  process.exit(2);
}
const whole = [LATENCY, SERVICES, SMALL, NODES, BATCH, PARALLEL].every((value) => Number.isInteger(value) && value >= 1);
if (!whole || !(STEADY_S > 0) || (HEAP_MIB !== undefined && !(Number.isInteger(HEAP_MIB) && HEAP_MIB >= 256)) || LATENCY > 127 || NODES < SPEAKERS.length || NODES > 200 || !(LATENCY < SMALL && SMALL < SERVICES) || SERVICES - LATENCY > BULK_MAX) {
  console.error(`--latency (at most 127), --small, --services, --nodes (2 to 200), --batch and --parallel must be whole numbers of at least 1, --steady positive, latency < small < services, services - latency at most ${BULK_MAX}, and --heap-mib a whole number of at least 256.`);
  process.exit(2);
}

const lab = await Lab.create(LAB);
const folder = mkdtempSync(join(tmpdir(), 'vipkit-bench-kubernetes-'));
let api: KubeApiServer | undefined;
let client: KubernetesClientProcess | undefined;
const speakers = new Map<string, Announcements>();
let bird: Bird | undefined;
try {
  api = await KubeApiServer.start(lab, { host: 'api', address: API_ADDRESS });
  await setUpCluster(api);
  bird = await Bird.start(lab, 'router', birdAcceptingSpeakers({ routerId: ROUTER_ADDRESS, localAs: ROUTER_AS, accept: '192.0.2.0/24', families: ['ipv4'] }));
  client = await KubernetesClientProcess.start(lab, 'client', api.kubeconfig);
  for (const node of SPEAKERS) speakers.set(node, startSpeaker(lab, api, node, folder));
  for (const [node, speaker] of speakers) {
    await until(`${node}'s speaker sees its member Up and its session with BIRD`, () => (speaker.first('memberUp') !== undefined && speaker.first('sessionUp') !== undefined) || !speaker.alive, START_TIMEOUT_MS);
    if (!speaker.alive) throw new Error(`${node}'s speaker exited: ${speaker.process.stderr().trim()}`);
  }
  console.error('speakers up; 1. apply to answer');
  const latency = await applyToAnswer(lab, api, speakers);
  console.error(`1. done; 3. apply to route at ${LATENCY} Services`);
  const routings = [await applyToRoute(lab, api, bird, speakers, LATENCY, 0)];
  console.error(`3. done; 2. at ${SMALL} Services`);
  const small = await atScale(lab, api, client, speakers, folder, SMALL, 0);
  console.error(`2. at ${SERVICES} Services`);
  const large: ScaleRun =
    small.failure === undefined ? await atScale(lab, api, client, speakers, folder, SERVICES, SMALL - LATENCY) : { figures: { services: SERVICES, peakRssKiB: new Map() }, failure: `not run: the ${SMALL} step stopped early` };
  if (large.failure === undefined) {
    console.error(`3. apply to route at ${SERVICES + LATENCY} Services`);
    routings.push(await applyToRoute(lab, api, bird, speakers, SERVICES + LATENCY, LATENCY));
  }
  report(latency, small, large, routings);
} finally {
  for (const speaker of speakers.values()) if (speaker.alive) speaker.process.child.kill('SIGKILL');
  await client?.close();
  await api?.stop();
  await lab.destroy();
  rmSync(folder, { recursive: true, force: true });
}
