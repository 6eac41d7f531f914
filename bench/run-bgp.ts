/**
 * vipkit run in BGP mode beside ExaBGP, on one lab: BIRD in `router` (192.0.2.1, AS 65002),
 * gobgpd in `router2` (192.0.2.2, AS 65003), speakers in node1..node3 (AS 64800). The
 * service IPs are 1,000 host routes from 198.18.0.0/22; vipkit reads them as Services with
 * a loadBalancerIP (--services) and its pool and routers as MetalLB resources (--config);
 * ExaBGP has them as static routes to both routers, one process per node. Each run starts
 * both routers afresh for each tool; the tools alternate, and the order flips every run.
 *
 * 1. start to all held: from spawning the three speakers until `birdc show route count`
 *    (polled every 20 ms) and `gobgp -j global rib summary` (every 50 ms) both report
 *    3 x 1,000 paths;
 * 2. addition to route: one more service at a time (vipkit: the --services file rewritten
 *    to a temporary file and renamed over it, as an editor does; ExaBGP: `announce route
 *    X next-hop self` written to each node's API pipe); from that write to the UPDATE
 *    carrying the prefix at BIRD, by capture timestamp (tcpdump in BIRD's namespace,
 *    decoded by tshark): to the first node's path and to all three. Additions are 1.2 s
 *    or more apart, so each meets idle speakers. vipkit's own log splits its time: the
 *    write to the `configReloaded` line naming the service, and that to the UPDATE;
 * 3. per speaker: CPU (utime + stime, /proc/<pid>/stat) spent to reach all held and per
 *    second in steady state (no changes, over --steady seconds), VmRSS and VmHWM;
 * 4. (vipkit) graceful restart: node1's speaker SIGKILLed and started again while BIRD's
 *    route count is polled every 20 ms: paths missing at the worst poll, withdrawn
 *    prefixes in node1's UPDATEs (from the capture), and when BIRD leaves graceful restart;
 * 5. (vipkit) BFD against the hold time: node1 peers with bfd=true (BIRD `bfd on`, 50 ms
 *    x 3), node2 without, both with hold time 9 s on both sides and the 1,000 services;
 *    both links are cut at once (`ip link set eth0 down`) and `birdc show route protocol
 *    <node> count` is polled every 20 ms until each node's routes are gone. The capture
 *    gives each node's last BFD packet or KEEPALIVE before the cut. BIRD jitters its hold
 *    timer as it does its other timers (down to 75 %), so the hold-time path is 6.75-9 s
 *    after the last KEEPALIVE, and, with vipkit's keepalives 2.25-3 s apart, 3.75-9 s
 *    after the cut.
 *
 * Run as root after the build: node dist/bench/run-bgp.js [--runs N] [--services N]
 * [--additions N] [--steady S]
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bird, Gobgp } from '../src/lab/bgp-daemons.js';
import { Lab } from '../src/lab/lab.js';
import { captureDuring, tsharkFields } from '../test/helpers/capture.js';
import { benchmarkAddress } from './benchmark-routes.js';
import { maximum, median, sleep, until as poll } from './polling.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const COMMAND = `node dist/bench/run-bgp.js ${process.argv.slice(2).join(' ')}`.trim();
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    services: { type: 'string', default: '1000' },
    additions: { type: 'string', default: '20' },
    steady: { type: 'string', default: '10' },
  },
});
const RUNS = Number(values.runs);
const SERVICES = Number(values.services);
const ADDITIONS = Number(values.additions);
const STEADY_S = Number(values.steady);
/** The pool, 198.18.0.0/22: every service IP, the added ones too, lies inside it. */
const POOL = '198.18.0.0/22';
const POOL_SIZE = 1024;

const NODES = ['node1', 'node2', 'node3'];
const nodeAddress = (node: string) => `192.0.2.${11 + NODES.indexOf(node)}`;
const BIRD_ADDRESS = '192.0.2.1';
const GOBGP_ADDRESS = '192.0.2.2';
const MY_ASN = 64800;
const BIRD_ASN = 65002;
const GOBGP_ASN = 65003;
const LAB = {
  hosts: [
    { name: 'router', addresses: [`${BIRD_ADDRESS}/24`] },
    { name: 'router2', addresses: [`${GOBGP_ADDRESS}/24`] },
    ...NODES.map((node) => ({ name: node, addresses: [`${nodeAddress(node)}/24`] })),
  ],
};

const POLL_MS = 20;
const GOBGP_POLL_MS = 50;
const START_TIMEOUT_MS = 120_000;
const ADDITION_TIMEOUT_MS = 10_000;
/** Additions start at least this far apart. */
const ADDITION_SPACING_MS = 1200;
const RESTART_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
/** Phase 5: hold time on both sides, and how long to wait for the hold-time path at most. */
const SHORT_HOLD_S = 9;
const CUT_TIMEOUT_MS = 3 * SHORT_HOLD_S * 1000;
const TICKS_PER_SECOND = 100;

/** The `index`-th service IP: 198.18.0.0 upwards. */
const serviceIp = (index: number) => benchmarkAddress(index);

/** Wall-clock milliseconds with a fraction, comparable with capture timestamps. */
const epochMs = () => performance.timeOrigin + performance.now();

const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = POLL_MS) => poll(what, check, timeoutMs, intervalMs);

// --- the routers -------------------------------------------------------------------------

/** One BGP protocol per node, so that BIRD counts and keeps in graceful restart each node apart. */
function birdConfig(options: { holdTime?: number; bfd?: string[]; nodes?: string[] } = {}): string {
  const nodes = options.nodes ?? NODES;
  const bfd = options.bfd ?? [];
  return [
    `router id ${BIRD_ADDRESS};`,
    'protocol device {}',
    ...(bfd.length > 0 ? ['protocol bfd { interface "eth0" { min rx interval 50 ms; min tx interval 50 ms; multiplier 3; }; }'] : []),
    `template bgp speaker { local ${BIRD_ADDRESS} as ${BIRD_ASN}; graceful restart on; ${options.holdTime ? `hold time ${options.holdTime};` : ''} ipv4 { import all; export none; }; }`,
    ...nodes.map((node) => `protocol bgp ${node} from speaker { neighbor ${nodeAddress(node)} as ${MY_ASN}; ${bfd.includes(node) ? 'bfd on;' : ''} }`),
  ].join('\n');
}

/** GoBGP as a plain router: takes everything, sends nothing back (as BIRD's `export none`). */
function gobgpConfig(): string {
  const neighbors = NODES.map(
    (node) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${nodeAddress(node)}"
    peer-as = ${MY_ASN}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"`,
  );
  return `[global.config]
  as = ${GOBGP_ASN}
  router-id = "${GOBGP_ADDRESS}"
  local-address-list = ["${GOBGP_ADDRESS}"]
[global.apply-policy.config]
  default-export-policy = "reject-route"
${neighbors.join('\n')}
`;
}

/** Routes BIRD holds (from `protocol` alone, if given): the sum of `show route count`'s table lines, its Total line left out. */
async function birdCount(bird: Bird, ...protocol: string[]): Promise<number> {
  const text = await bird.birdc('show', 'route', ...(protocol.length > 0 ? ['protocol', ...protocol] : []), 'count');
  return [...text.matchAll(/^(\d+) of \d+ routes for \d+ networks in table /gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** Paths in GoBGP's IPv4 table, from `gobgp -j global rib summary`. */
async function gobgpCount(gobgp: Gobgp): Promise<number> {
  const summary = (await gobgp.json('global', 'rib', 'summary', '-a', 'ipv4')) as { num_path?: number; numPath?: number };
  return Number(summary.num_path ?? summary.numPath ?? 0);
}

/** SIGKILLs whatever runs in `host`'s namespace (daemons leave their parents) and waits until it is gone. */
async function emptyNamespace(lab: Lab, host: string): Promise<void> {
  const pids = await new Promise<number[]>((resolve, reject) =>
    execFile('ip', ['netns', 'pids', lab.namespace(host)], (error, stdout) => (error ? reject(error) : resolve(stdout.split('\n').map(Number).filter((pid) => pid > 0)))),
  );
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await until(`the processes in ${host} did not die`, () => pids.every((pid) => !existsSync(`/proc/${pid}`)), STOP_TIMEOUT_MS);
}

interface Routers {
  bird: Bird;
  gobgp: Gobgp;
}

async function stopRouters(lab: Lab): Promise<void> {
  await emptyNamespace(lab, 'router');
  await emptyNamespace(lab, 'router2');
}

// --- the speakers ------------------------------------------------------------------------

interface ProcessSample {
  cpuS: number;
  rssKiB: number;
  hwmKiB: number;
}

function sample(pid: number): ProcessSample {
  // utime and stime are fields 14 and 15 of stat(5), the 12th and 13th after the command.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)![1]),
    hwmKiB: Number(/VmHWM:\s+(\d+)/.exec(status)![1]),
  };
}

interface Speakers {
  children: Map<string, ChildProcess>;
  /** Makes service `index` known on every node; returns the time of that write (epoch ms). */
  add(index: number): number;
  close(): void;
}

interface Tool {
  name: string;
  start(lab: Lab, folder: string): Speakers;
  /** vipkit: its log explains the additions' time, and the graceful-restart phase runs. */
  vipkit: boolean;
}

const serviceYaml = (index: number) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${index}\n  namespace: bench\nspec:\n  type: LoadBalancer\n  loadBalancerIP: ${serviceIp(index)}\n  ports:\n    - port: 80\n`;
const servicesYaml = (count: number) => Array.from({ length: count }, (_, index) => serviceYaml(index)).join('---\n');

function metallbConfig(): string {
  const peer = (name: string, address: string, asn: number) => `---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: ${name}, namespace: metallb-system }
spec:
  myASN: ${MY_ASN}
  peerASN: ${asn}
  peerAddress: ${address}
`;
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: bench, namespace: metallb-system }
spec:
  addresses: [${POOL}]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: bench, namespace: metallb-system }
spec:
  ipAddressPools: [bench]
${peer('bird', BIRD_ADDRESS, BIRD_ASN)}${peer('gobgp', GOBGP_ADDRESS, GOBGP_ASN)}`;
}

/** The last lines each speaker wrote, for an error that must say why. */
function logTails(folder: string, nodes: string[]): string {
  return nodes
    .map((node) => {
      const file = join(folder, `${node}.log`);
      const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-4) : [];
      return `  ${node}: ${lines.join('\n    ') || '(nothing)'}`;
    })
    .join('\n');
}

function spawnVipkit(lab: Lab, folder: string, node: string, argv: string[]): ChildProcess {
  const log = openSync(join(folder, `${node}.log`), 'a');
  const child = lab.spawn(node, [process.execPath, VIPKIT, 'run', '--json', '--node-name', node, '--socket', join(folder, `${node}.sock`), '--router-id', nodeAddress(node), ...argv], {
    stdio: ['ignore', log, log],
    env: { ...process.env, NO_COLOR: '1' },
  });
  closeSync(log);
  return child;
}

const vipkitTool: Tool = {
  name: 'vipkit run',
  vipkit: true,
  start(lab, folder) {
    const servicesFile = join(folder, 'services.yaml');
    const configFile = join(folder, 'metallb.yaml');
    writeFileSync(configFile, metallbConfig());
    let text = servicesYaml(SERVICES);
    writeFileSync(servicesFile, text);
    const argv = ['--config', configFile, '--services', servicesFile];
    const children = new Map(NODES.map((node) => [node, spawnVipkit(lab, folder, node, argv)]));
    return {
      children,
      add(index) {
        text += '---\n' + serviceYaml(index);
        const temporary = join(folder, '.services.yaml.tmp');
        writeFileSync(temporary, text);
        const at = epochMs();
        renameSync(temporary, servicesFile);
        return at;
      },
      close() {},
    };
  },
};

/** Each node's ExaBGP: the same routes to both routers, and an API process reading `pipe`. */
function exabgpConfig(node: string, script: string): string {
  const routes = Array.from({ length: SERVICES }, (_, index) => `    route ${serviceIp(index)}/32 next-hop self;`).join('\n');
  const neighbor = (address: string, asn: number) => `neighbor ${address} {
  router-id ${nodeAddress(node)};
  local-address ${nodeAddress(node)};
  local-as ${MY_ASN};
  peer-as ${asn};
  family { ipv4 unicast; }
  api { processes [ pipe ]; }
  static {
${routes}
  }
}
`;
  return `process pipe {
  run ${script};
  encoder text;
}
${neighbor(BIRD_ADDRESS, BIRD_ASN)}${neighbor(GOBGP_ADDRESS, GOBGP_ASN)}`;
}

const exabgpTool: Tool = {
  name: 'ExaBGP',
  vipkit: false,
  start(lab, folder) {
    const children = new Map<string, ChildProcess>();
    const pipes = new Map<string, number>();
    for (const node of NODES) {
      const fifo = join(folder, `${node}.fifo`);
      execFileSync('mkfifo', [fifo]);
      // Opened read-write, a FIFO never blocks its opener and its reader never sees end-of-file.
      pipes.set(node, openSync(fifo, 'r+'));
      const script = join(folder, `${node}-api.sh`);
      writeFileSync(script, `#!/bin/sh\nexec cat <> ${fifo}\n`);
      chmodSync(script, 0o755);
      const config = join(folder, `${node}.conf`);
      writeFileSync(config, exabgpConfig(node, script));
      const log = openSync(join(folder, `${node}.log`), 'a');
      // No acknowledgements: the API process only ever reads the pipe, never its stdin.
      const env = { ...process.env, 'exabgp.daemon.user': 'root', 'exabgp.log.destination': 'stderr', 'exabgp.log.level': 'CRIT', 'exabgp.api.ack': 'false' };
      children.set(node, lab.spawn(node, ['exabgp', config], { stdio: ['ignore', log, log], env }));
      closeSync(log);
    }
    return {
      children,
      add(index) {
        const line = Buffer.from(`announce route ${serviceIp(index)}/32 next-hop self\n`);
        const at = epochMs();
        for (const fd of pipes.values()) writeSync(fd, line);
        return at;
      },
      close() {
        for (const fd of pipes.values()) closeSync(fd);
      },
    };
  },
};

// --- one tool, one run -------------------------------------------------------------------

interface ToolRun {
  /** Phase 1: from spawning the speakers to all paths held, at each router and at both. */
  birdMs: number;
  gobgpMs: number;
  bothMs: number;
  /** Phase 2: per addition, write to the first node's UPDATE and to the last node's. */
  firstMs: number[];
  allMs: number[];
  /** Additions some node's UPDATE never carried. */
  lost: number;
  malformed: number;
  /** vipkit: write to the node's configReloaded log line, that to its UPDATE, and file re-reads in all. */
  toReloadMs?: number[];
  reloadToUpdateMs?: number[];
  reloads?: number;
  /** Phase 3, per speaker. */
  cpuToHeldS: number[];
  steadyCpuMsPerS: number[];
  rssKiB: number[];
  hwmKiB: number[];
  /** sessionDown lines the vipkit speakers logged before the restart phase: each is a session lost. */
  sessionDowns: number;
  restart?: RestartRun;
}

interface RestartRun {
  expected: number;
  missingAtWorst: number;
  pollsShort: number;
  polls: number;
  withdrawn: number;
  /** Prefixes in node1's UPDATEs after its restart, and whether its End-of-RIB was seen. */
  reannounced: number;
  endOfRib: boolean;
  killToGrMs: number;
  startToOutMs: number;
  killToOutMs: number;
}

async function allHeld(routers: Routers, speakers: Speakers, expected: number, startedAt: number): Promise<{ birdMs: number; gobgpMs: number }> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  // Each router polled on its own, so that one's slower answer does not delay the other's
  // time; GoBGP less often, as each `gobgp` run costs about 10 ms of CPU (birdc: 3 ms).
  const heldAt = async (name: string, count: () => Promise<number>, intervalMs: number): Promise<number> => {
    for (;;) {
      for (const [node, child] of speakers.children) if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the speaker in ${node} exited (${child.exitCode ?? child.signalCode})`);
      const held = await count();
      if (held >= expected) return epochMs() - startedAt;
      if (Date.now() > deadline) throw new Error(`${name} held ${held} of ${expected} paths after ${START_TIMEOUT_MS / 1000} s`);
      await sleep(intervalMs);
    }
  };
  const [birdMs, gobgpMs] = await Promise.all([heldAt('BIRD', () => birdCount(routers.bird), POLL_MS), heldAt('GoBGP', () => gobgpCount(routers.gobgp), GOBGP_POLL_MS)]);
  return { birdMs, gobgpMs };
}

/** Phase 2: services added one at a time, each timed from its write to its UPDATEs at BIRD. */
interface Additions extends Pick<ToolRun, 'firstMs' | 'allMs' | 'lost' | 'malformed'> {
  /** prefix -> when it was written (epoch ms). */
  writes: Map<string, number>;
  /** prefix -> node address -> its first UPDATE carrying the prefix at BIRD (epoch ms). */
  arrivals: Map<string, Map<string, number>>;
}

async function additions(lab: Lab, routers: Routers, speakers: Speakers, base: number): Promise<Additions> {
  const writes = new Map<string, number>();
  const capture = await captureDuring(lab, 'router', 'tcp port 179', async () => {
    for (let added = 0; added < ADDITIONS; added++) {
      const ip = serviceIp(SERVICES + added);
      const writtenAt = speakers.add(SERVICES + added);
      writes.set(`${ip}/32`, writtenAt);
      // Leave the machine to the speakers while the UPDATEs go out, then check they arrived.
      await sleep(150);
      const expected = base + NODES.length * (added + 1);
      await until(`BIRD did not get ${ip} from every node`, async () => (await birdCount(routers.bird)) >= expected, ADDITION_TIMEOUT_MS, 100);
      // Each addition meets idle speakers: past what the last one set off (vipkit's
      // 0.5 s file poll re-reads the file once more), and not in step with any timer.
      await sleep(Math.max(0, writtenAt + ADDITION_SPACING_MS - epochMs()) + Math.random() * 200);
    }
  });
  try {
    const arrivals = new Map<string, Map<string, number>>();
    let malformed = 0;
    for (const frame of tsharkFields(capture.file, ['frame.time_epoch', 'ip.src', 'bgp.nlri_prefix', 'bgp.mp_reach_nlri_ipv4_prefix'], 'bgp.type == 2')) {
      if (frame['_ws.malformed']) malformed++;
      const at = Number(frame['frame.time_epoch']) * 1000;
      const prefixes = [frame['bgp.nlri_prefix'], frame['bgp.mp_reach_nlri_ipv4_prefix']].flatMap((list) => (list ? list.split(',') : []));
      for (const prefix of prefixes) {
        const key = prefix.includes('/') ? prefix : `${prefix}/32`;
        if (!writes.has(key)) continue;
        const byNode = arrivals.get(key) ?? new Map<string, number>();
        if (!byNode.has(frame['ip.src']!)) byNode.set(frame['ip.src']!, at);
        arrivals.set(key, byNode);
      }
    }
    const firstMs: number[] = [];
    const allMs: number[] = [];
    let lost = 0;
    for (const [prefix, writtenAt] of writes) {
      const byNode = [...(arrivals.get(prefix)?.values() ?? [])];
      if (byNode.length < NODES.length) lost++;
      if (byNode.length > 0) firstMs.push(Math.min(...byNode) - writtenAt);
      if (byNode.length === NODES.length) allMs.push(Math.max(...byNode) - writtenAt);
    }
    return { firstMs, allMs, lost, malformed, writes, arrivals };
  } finally {
    capture.dispose();
  }
}

/**
 * Where vipkit's time goes, from its own log beside the capture: the write to the
 * `configReloaded` that names the new service (settling, reading and parsing the files),
 * and that to the node's UPDATE at BIRD (desired state, diff, UPDATE). Also how many
 * times the speakers re-read their files in all, against the additions.
 */
function reloadBreakdown(folder: string, { writes, arrivals }: Additions): Pick<ToolRun, 'toReloadMs' | 'reloadToUpdateMs' | 'reloads'> {
  const toReloadMs: number[] = [];
  const reloadToUpdateMs: number[] = [];
  const firstWrite = Math.min(...writes.values());
  let reloads = 0;
  for (const node of NODES) {
    const events = readFileSync(join(folder, `${node}.log`), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"configReloaded"'))
      .map((line) => JSON.parse(line) as { ts: string; added?: string[] });
    reloads += events.filter((event) => Date.parse(event.ts) >= firstWrite - 1).length;
    [...writes].forEach(([prefix, writtenAt], added) => {
      const reload = events.find((event) => event.added?.includes(`bench/s${SERVICES + added}`));
      if (reload === undefined) return;
      const reloadedAt = Date.parse(reload.ts);
      toReloadMs.push(reloadedAt - writtenAt);
      const arrival = arrivals.get(prefix)?.get(nodeAddress(node));
      if (arrival !== undefined) reloadToUpdateMs.push(arrival - reloadedAt);
    });
  }
  return { toReloadMs, reloadToUpdateMs, reloads };
}

/** Phase 4: node1's speaker SIGKILLed and started again, BIRD's routes polled all along. */
async function restart(lab: Lab, routers: Routers, speakers: Speakers, folder: string, expected: number): Promise<RestartRun> {
  const node = 'node1';
  const grActive = async () => /Neighbor graceful restart active/.test(await routers.bird.birdc('show', 'protocols', 'all', node));
  const established = async () => /\bEstablished\b/.test(await routers.bird.birdc('show', 'protocols', node));
  let lowest = Infinity;
  let polls = 0;
  let pollsShort = 0;
  let killToGrMs = NaN;
  let startToOutMs = NaN;
  let killToOutMs = NaN;
  const capture = await captureDuring(lab, 'router', `tcp port 179 and host ${nodeAddress(node)}`, async () => {
    // BIRD's paths are polled all along: none may go missing while node1 restarts.
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const count = await birdCount(routers.bird);
        polls++;
        if (count < expected) pollsShort++;
        lowest = Math.min(lowest, count);
        await sleep(POLL_MS);
      }
    })();
    try {
      await sleep(500);
      const killedAt = epochMs();
      speakers.children.get(node)!.kill('SIGKILL');
      await until('BIRD did not hold node1 in graceful restart', grActive, RESTART_TIMEOUT_MS);
      killToGrMs = epochMs() - killedAt;
      const startedAt = epochMs();
      speakers.children.set(node, spawnVipkit(lab, folder, node, ['--config', join(folder, 'metallb.yaml'), '--services', join(folder, 'services.yaml')]));
      await until('BIRD did not take node1 out of graceful restart', async () => (await established()) && !(await grActive()), RESTART_TIMEOUT_MS);
      const outAt = epochMs();
      startToOutMs = outAt - startedAt;
      killToOutMs = outAt - killedAt;
      await sleep(500);
    } finally {
      polling = false;
      await poller;
    }
  });
  try {
    const updates = tsharkFields(
      capture.file,
      ['bgp.withdrawn_prefix', 'bgp.mp_unreach_nlri_ipv4_prefix', 'bgp.nlri_prefix', 'bgp.mp_reach_nlri_ipv4_prefix', 'bgp.update.withdrawn_routes.length', 'bgp.update.path_attributes.length'],
      `ip.src == ${nodeAddress(node)} && bgp.type == 2`,
    );
    const prefixes = (fields: string[]) => updates.reduce((sum, frame) => sum + fields.flatMap((field) => (frame[field] ? frame[field]!.split(',') : [])).length, 0);
    // RFC 4724 2: the IPv4 End-of-RIB is an UPDATE with no withdrawn routes and no attributes.
    const endOfRib = updates.some((frame) => frame['bgp.update.withdrawn_routes.length']!.split(',').some((length, index) => length === '0' && frame['bgp.update.path_attributes.length']!.split(',')[index] === '0'));
    return {
      expected,
      missingAtWorst: Math.max(0, expected - lowest),
      pollsShort,
      polls,
      withdrawn: prefixes(['bgp.withdrawn_prefix', 'bgp.mp_unreach_nlri_ipv4_prefix']),
      reannounced: prefixes(['bgp.nlri_prefix', 'bgp.mp_reach_nlri_ipv4_prefix']),
      endOfRib,
      killToGrMs,
      startToOutMs,
      killToOutMs,
    };
  } finally {
    capture.dispose();
  }
}

async function runTool(lab: Lab, tool: Tool): Promise<ToolRun> {
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-bench-run-bgp-'));
  let speakers: Speakers | undefined;
  try {
    const ready: Routers = { bird: await Bird.start(lab, 'router', birdConfig()), gobgp: await Gobgp.start(lab, 'router2', gobgpConfig()) };
    const startedAt = epochMs();
    speakers = tool.start(lab, folder);
    const expected = NODES.length * SERVICES;
    const { birdMs, gobgpMs } = await allHeld(ready, speakers, expected, startedAt);
    const pids = NODES.map((node) => speakers!.children.get(node)!.pid!);
    const atHeld = pids.map(sample);
    // Past the start-up work (End-of-RIB, the first keepalives), then a quiet window.
    await sleep(2000);
    const before = pids.map(sample);
    const windowStart = performance.now();
    await sleep(STEADY_S * 1000);
    const after = pids.map(sample);
    const windowS = (performance.now() - windowStart) / 1000;
    const added = await additions(lab, ready, speakers, expected);
    const breakdown = tool.vipkit ? reloadBreakdown(folder, added) : {};
    const logs = NODES.map((node) => readFileSync(join(folder, `${node}.log`), 'utf8')).join('');
    const restartRun = tool.vipkit ? await restart(lab, ready, speakers, folder, expected + NODES.length * ADDITIONS) : undefined;
    return {
      birdMs,
      gobgpMs,
      bothMs: Math.max(birdMs, gobgpMs),
      firstMs: added.firstMs,
      allMs: added.allMs,
      lost: added.lost,
      malformed: added.malformed,
      ...breakdown,
      cpuToHeldS: atHeld.map((one) => one.cpuS),
      steadyCpuMsPerS: after.map((one, index) => ((one.cpuS - before[index]!.cpuS) * 1000) / windowS),
      rssKiB: after.map((one) => one.rssKiB),
      hwmKiB: after.map((one) => one.hwmKiB),
      sessionDowns: (logs.match(/"event":"sessionDown"/g) ?? []).length,
      ...(restartRun ? { restart: restartRun } : {}),
    };
  } catch (error) {
    throw new Error(`${tool.name}: ${(error as Error).message}; the speakers' last words:\n${logTails(folder, NODES)}`, { cause: error });
  } finally {
    speakers?.close();
    for (const node of NODES) await emptyNamespace(lab, node);
    await stopRouters(lab);
    rmSync(folder, { recursive: true, force: true });
  }
}

// --- BFD against the hold time -----------------------------------------------------------

interface CutRun {
  /** From issuing the cut to each node's routes gone at BIRD (polled). */
  bfdMs: number;
  holdMs: number;
  /** How long the two `ip link set eth0 down` took: the cut happened within it. */
  cutCommandMs: number;
  /** From the last BFD packet or BGP message BIRD got from the node (capture) to its routes gone. */
  bfdSinceLastFrameMs: number;
  holdSinceLastFrameMs: number;
  /** What BIRD gives as the sessions' last error. */
  node1Error: string;
  node2Error: string;
}

async function bfdAgainstHoldTime(lab: Lab): Promise<CutRun> {
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-bench-run-bgp-bfd-'));
  const cut = ['node1', 'node2'];
  let bird: Bird | undefined;
  try {
    bird = await Bird.start(lab, 'router', birdConfig({ holdTime: SHORT_HOLD_S, bfd: ['node1'], nodes: cut }));
    const servicesFile = join(folder, 'services.yaml');
    writeFileSync(servicesFile, servicesYaml(SERVICES));
    const held = bird;
    let cutAt = 0;
    let cutCommandMs = 0;
    const goneAt = new Map<string, number>();
    // Captured from the start, so that the nodes' last BFD packet and KEEPALIVE before the cut are in it.
    const capture = await captureDuring(lab, 'router', 'tcp port 179 or udp port 3784', async () => {
      for (const node of cut) {
        const bfd = node === 'node1' ? ',bfd=true' : '';
        spawnVipkit(lab, folder, node, ['--pool', `bench=${POOL},protocol=bgp`, '--services', servicesFile, '--peer', `${BIRD_ADDRESS},asn=${BIRD_ASN},hold-time=${SHORT_HOLD_S}${bfd}`, '--my-asn', String(MY_ASN)]);
      }
      await until('BIRD did not get every route from node1 and node2', async () => (await birdCount(held)) >= cut.length * SERVICES, START_TIMEOUT_MS);
      await until("BIRD's BFD session with node1 did not come up", async () => new RegExp(`${nodeAddress('node1').replaceAll('.', '\\.')}\\s+eth0\\s+Up`).test(await held.birdc('show', 'bfd', 'sessions')), START_TIMEOUT_MS);
      // Past the start-up, and at a random point of the keepalive intervals.
      await sleep(1000 + Math.random() * 3000);
      cutAt = epochMs();
      await Promise.all(cut.map((node) => lab.exec(node, ['ip', 'link', 'set', 'eth0', 'down'])));
      cutCommandMs = epochMs() - cutAt;
      await Promise.all(
        cut.map((node) =>
          until(`BIRD did not remove ${node}'s routes`, async () => {
            if ((await birdCount(held, node)) > 0) return false;
            goneAt.set(node, epochMs());
            return true;
          }, CUT_TIMEOUT_MS),
        ),
      );
    });
    const lastMessage = new Map<string, number>();
    try {
      for (const frame of tsharkFields(capture.file, ['frame.time_epoch', 'ip.src'], 'bfd || bgp')) lastMessage.set(frame['ip.src']!, Number(frame['frame.time_epoch']) * 1000);
    } finally {
      capture.dispose();
    }
    const lastError = async (node: string) => /Last error:\s+(.*)/.exec(await held.birdc('show', 'protocols', 'all', node))?.[1]?.trim() ?? 'none';
    const since = (node: string) => goneAt.get(node)! - (lastMessage.get(nodeAddress(node)) ?? NaN);
    return {
      bfdMs: goneAt.get('node1')! - cutAt,
      holdMs: goneAt.get('node2')! - cutAt,
      cutCommandMs,
      bfdSinceLastFrameMs: since('node1'),
      holdSinceLastFrameMs: since('node2'),
      node1Error: await lastError('node1'),
      node2Error: await lastError('node2'),
    };
  } catch (error) {
    throw new Error(`BFD against the hold time: ${(error as Error).message}; the speakers' last words:\n${logTails(folder, cut)}`, { cause: error });
  } finally {
    for (const node of cut) await lab.exec(node, ['ip', 'link', 'set', 'eth0', 'up']);
    for (const node of cut) await emptyNamespace(lab, node);
    await emptyNamespace(lab, 'router');
    rmSync(folder, { recursive: true, force: true });
  }
}

// --- the report --------------------------------------------------------------------------

/** The 1-minute load average: other work on the machine shows in the figures. */
const loadAverage = () => loadavg()[0]!.toFixed(1);
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 100 ? 1 : 0)} ms` : 'n/a');
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : 'n/a');

const LABEL_WIDTH = 56;

function row(label: string, vipkit: string, exabgp = '', ratioText = ''): void {
  console.log(`${label.padEnd(LABEL_WIDTH)} ${vipkit.padStart(18)} ${exabgp.padStart(18)} ${ratioText.padStart(14)}`);
}

const medianMax = (values: number[], format = ms) => `${format(median(values))} (${format(maximum(values))})`;

function report(results: Map<string, ToolRun[]>, cuts: CutRun[], loads: string[]): void {
  const vipkit = results.get(vipkitTool.name)!;
  const exabgp = results.get(exabgpTool.name)!;
  const both = (pick: (run: ToolRun) => number[]) => [vipkit.flatMap(pick), exabgp.flatMap(pick)] as const;
  const sum = (runs: ToolRun[], pick: (run: ToolRun) => number) => runs.reduce((total, run) => total + pick(run), 0);
  console.log(`vipkit run (BGP) beside ExaBGP: ${SERVICES} services (${POOL}) x ${NODES.length} speakers x 2 routers (BIRD in router, GoBGP in router2)`);
  console.log(`${RUNS} runs, tools alternating; medians over runs (and over speakers in per-speaker rows), max in brackets; load average ${loads.join(' -> ')}`);
  row('', 'vipkit run', 'ExaBGP', 'vipkit/ExaBGP');
  const compared = (label: string, pick: (run: ToolRun) => number[], summary: (values: number[]) => number) => {
    const [v, e] = both(pick);
    row(label, ms(summary(v)), ms(summary(e)), ratio(summary(v), summary(e)));
  };
  console.log(`1. start to all ${NODES.length * SERVICES} paths held`);
  compared('   at BIRD', (run) => [run.birdMs], median);
  compared('   at GoBGP', (run) => [run.gobgpMs], median);
  compared('   at both routers', (run) => [run.bothMs], median);
  console.log(`2. a service added (${ADDITIONS} per run) to its UPDATE at BIRD`);
  compared('   first node, median', (run) => run.firstMs, median);
  compared('   first node, max', (run) => run.firstMs, maximum);
  compared('   all 3 nodes, median', (run) => run.allMs, median);
  compared('   all 3 nodes, max', (run) => run.allMs, maximum);
  row('   vipkit: write to its configReloaded line', medianMax(vipkit.flatMap((run) => run.toReloadMs ?? [])));
  row('   vipkit: configReloaded line to its UPDATE', medianMax(vipkit.flatMap((run) => run.reloadToUpdateMs ?? [])));
  row('   vipkit: file reads per speaker per addition', (sum(vipkit, (run) => run.reloads ?? 0) / (NODES.length * ADDITIONS * vipkit.length)).toFixed(2));
  const [firstV, firstE] = both((run) => run.firstMs);
  row('   additions timed / lost / malformed UPDATEs', `${firstV.length}/${sum(vipkit, (run) => run.lost)}/${sum(vipkit, (run) => run.malformed)}`, `${firstE.length}/${sum(exabgp, (run) => run.lost)}/${sum(exabgp, (run) => run.malformed)}`);
  console.log('3. per speaker');
  const perSpeaker = (label: string, pick: (run: ToolRun) => number[], format: (value: number) => string) => {
    const [v, e] = both(pick);
    row(label, medianMax(v, format), medianMax(e, format), ratio(median(v), median(e)));
  };
  perSpeaker('   CPU from start to all held', (run) => run.cpuToHeldS.map((s) => s * 1000), ms);
  perSpeaker(`   CPU per second in steady state (${STEADY_S} s)`, (run) => run.steadyCpuMsPerS, (value) => `${value.toFixed(1)} ms`);
  perSpeaker('   VmRSS in steady state', (run) => run.rssKiB, mib);
  perSpeaker('   VmHWM in steady state', (run) => run.hwmKiB, mib);
  row('   vipkit: sessionDown lines logged (goal 0)', String(sum(vipkit, (run) => run.sessionDowns)));
  const restarts = vipkit.map((run) => run.restart!);
  const perRun = (pick: (run: RestartRun) => string | number) => restarts.map(pick).join(', ');
  console.log(`4. vipkit node1 SIGKILLed and started again, BIRD with graceful restart (per run)`);
  row(`   paths missing at BIRD, worst ${POLL_MS} ms poll (goal 0)`, perRun((run) => run.missingAtWorst));
  row('   polls below the count before the kill / polls', perRun((run) => `${run.pollsShort}/${run.polls}`));
  row("   withdrawn prefixes in node1's UPDATEs (goal 0)", perRun((run) => run.withdrawn));
  row("   prefixes in node1's UPDATEs after restart", perRun((run) => run.reannounced));
  row("   node1's End-of-RIB seen", perRun((run) => (run.endOfRib ? 'yes' : 'no')));
  row('   kill to BIRD in graceful restart', medianMax(restarts.map((run) => run.killToGrMs)));
  row('   start to BIRD out of graceful restart', medianMax(restarts.map((run) => run.startToOutMs)));
  row('   kill to BIRD out of graceful restart', medianMax(restarts.map((run) => run.killToOutMs)));
  console.log(`5. vipkit links cut, ${SERVICES} routes per node, hold time ${SHORT_HOLD_S} s both sides: cut to routes gone at BIRD`);
  const bfd = cuts.map((cut) => cut.bfdMs);
  const hold = cuts.map((cut) => cut.holdMs);
  row('   node1, bfd=true and BIRD bfd on', medianMax(bfd));
  row('   node2, hold time only', medianMax(hold));
  row('   hold time / BFD', ratio(median(hold), median(bfd)));
  row('   the cut itself (both ip link set), max', ms(maximum(cuts.map((cut) => cut.cutCommandMs))));
  row("   node1's last BFD packet to routes gone", medianMax(cuts.map((cut) => cut.bfdSinceLastFrameMs)));
  row("   node2's last KEEPALIVE to routes gone", medianMax(cuts.map((cut) => cut.holdSinceLastFrameMs)));
  const errors = new Map<string, number>();
  for (const cut of cuts) {
    const text = `node1 "${cut.node1Error}", node2 "${cut.node2Error}"`;
    errors.set(text, (errors.get(text) ?? 0) + 1);
  }
  console.log(`   BIRD's last error: ${[...errors].map(([text, count]) => `${text} (${count} of ${cuts.length} runs)`).join('; ')}`);
  console.log('per run:');
  for (const [name, runs] of results) {
    console.log(`  ${name}: start to all ${runs.map((run) => ms(run.bothMs)).join(', ')}; addition, first node, median/max ${runs.map((run) => `${ms(median(run.firstMs))}/${ms(maximum(run.firstMs))}`).join(', ')}`);
  }
  console.log(`  cuts: BFD ${bfd.map(ms).join(', ')}; hold time ${hold.map(ms).join(', ')}`);
  console.log(`command: ${COMMAND}`);
}

if (process.getuid?.() !== 0) {
  console.error('bench/run-bgp needs root: it builds network namespaces.');
  process.exit(2);
}
if (![RUNS, SERVICES, ADDITIONS].every((value) => Number.isInteger(value) && value >= 1) || !(STEADY_S > 0) || SERVICES + ADDITIONS > POOL_SIZE) {
  console.error(`--runs, --services and --additions must be whole numbers of at least 1, --steady positive, and services plus additions at most ${POOL_SIZE} (the pool ${POOL}).`);
  process.exit(2);
}

const lab = await Lab.create(LAB);
try {
  const results = new Map<string, ToolRun[]>([
    [vipkitTool.name, []],
    [exabgpTool.name, []],
  ]);
  const cuts: CutRun[] = [];
  const loads = [loadAverage()];
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? [vipkitTool, exabgpTool] : [exabgpTool, vipkitTool];
    for (const tool of order) {
      results.get(tool.name)!.push(await runTool(lab, tool));
      console.error(`run ${run + 1}/${RUNS}: ${tool.name} done`);
    }
    cuts.push(await bfdAgainstHoldTime(lab));
    console.error(`run ${run + 1}/${RUNS}: BFD cut done`);
  }
  loads.push(loadAverage());
  report(results, cuts, loads);
} finally {
  await lab.destroy();
}
