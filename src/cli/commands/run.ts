/**
 * `vipkit run`: the cluster speaker. Flags and files become the cluster's model
 * (speaker/cluster-config.ts); ClusterSpeaker keeps every Layer 2 VIP on the live node the
 * placement names, with BFD between the members, and announces every BGP service from this
 * node to its peers; this file shows what it decides.
 */
import { hostname } from 'node:os';
import { ExitCode, UsageError } from '../errors.js';
import { readInputFile } from '../input-file.js';
import { watchFiles } from '../watched-files.js';
import { UserError } from '../../user-error.js';
import { PacedWork } from '../../time.js';
import { Stop } from '../interrupt.js';
import { printTable } from '../table.js';
import type { Ui } from '../ui.js';
import { interfaceForTarget, sourceAddressFor } from '../../link/interfaces.js';
import { formatLocation, type Problem } from '../../pools/model.js';
import { kubernetesInput } from '../../kubernetes/cluster-input.js';
import type { ClusterSnapshot } from '../../kubernetes/cluster-snapshot.js';
import { ClusterWatch } from '../../kubernetes/cluster-watch.js';
import { AllocationController } from '../../kubernetes/allocation-controller.js';
import { KubernetesClient } from '../../kubernetes/api-client.js';
import { WatchThread } from '../../kubernetes/watch-thread.js';
import { inClusterAccess, kubeconfigAccess } from '../../kubernetes/cluster-access.js';
import { readLabelsFlag } from '../../pools/flags.js';
import { readClusterConfig, type ClusterConfig } from '../../speaker/cluster-config.js';
import { ClusterSpeaker, type ClusterLog, type ClusterOptions } from '../../speaker/cluster-speaker.js';
import { bgpDesiredState, layer2DesiredState } from '../../speaker/desired-state.js';
import { announcerPeer } from '../../speaker/peers.js';
import { refuseHostAddresses, type ShutdownMode } from '../../speaker/speaker.js';
import { SpeakerMetrics } from '../../observe/speaker-metrics.js';
import { StatusServer } from '../../observe/status-socket.js';
import { parseAddress, parsePort } from '../../pools/value-parsers.js';

interface RunOptions {
  nodeName?: string;
  member?: string[];
  nodeLabels?: string;
  pool?: string[];
  config?: string[];
  service?: string[];
  services?: string[];
  interface?: string[];
  peer?: string[];
  myAsn?: number;
  peerAsn?: number;
  routerId?: string;
  holdTime: number;
  port: number;
  sourceAddress?: string;
  nextHop?: string;
  nextHopV6?: string;
  shutdownMode: string;
  grRestartTime: number;
  kubernetes?: boolean;
  kubeconfig?: string;
  speakerSelector?: string;
  garpCount: number;
  garpInterval: number;
  garpRefresh: number;
  garpRate: number;
  metricsAddr: string;
  socket: string;
  bfdInterval: number;
  bfdMultiplier: number;
  bfdFullMeshMax: number;
  bfdRingNeighbours: number;
  logLevel: string;
  dryRun?: boolean;
  for?: number;
  json?: boolean;
}

const SHUTDOWN_MODES: readonly ShutdownMode[] = ['withdraw', 'restart'];

/** MetalLB's log levels, least to most severe; `none` silences the log. */
const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;

/** RFC 5880 6.8.3 lets a session go faster, but below 20 ms a busy host misses its own deadlines. */
const MIN_BFD_INTERVAL_S = 0.02;
/** BFD's slow start sends once a second (RFC 5880 6.8.3): three of them find a live member. */
const STARTUP_GRACE_MS = 3500;
/** After AdminDown the next owner claims a VIP within a packet or two; a stop waits for that, this long at most. */
const HANDOVER_MS = 500;

export async function run(_targets: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as unknown as RunOptions;
  if (options.bfdInterval < MIN_BFD_INTERVAL_S) throw new UsageError(`--bfd-interval ${options.bfdInterval} is below ${MIN_BFD_INTERVAL_S} s, which a host cannot keep to under load.`);
  const metricsAt = metricsAddress(options.metricsAddr);
  const threshold = LOG_LEVELS.indexOf(options.logLevel as (typeof LOG_LEVELS)[number]);
  if (threshold < 0) throw new UsageError(`--log-level "${options.logLevel}" is not one of ${LOG_LEVELS.join(', ')}.`);
  const log = (record: ClusterLog) => {
    if (LOG_LEVELS.indexOf(record.level) >= threshold) writeLog(ui, record);
  };
  const nodeName = options.nodeName ?? hostname();
  const cluster = options.kubernetes || options.kubeconfig !== undefined ? await watchCluster(options, nodeName, log) : undefined;
  const readConfig = () => readInputs(options, nodeName, ui, cluster?.watch.snapshot);
  const config = readConfig();
  refuseHostAddresses(config.services.flatMap((service) => service.ips));
  if (!(SHUTDOWN_MODES as readonly string[]).includes(options.shutdownMode)) throw new UsageError(`--shutdown-mode "${options.shutdownMode}" is not withdraw or restart.`);
  const clusterOptions = optionsFor(options);
  if (options.dryRun) return dryRun(config, clusterOptions, ui);

  const speaker = new ClusterSpeaker(config, clusterOptions);
  const metrics = new SpeakerMetrics();
  const stop = new Stop();
  let failure: string | undefined;
  let status: StatusServer | undefined;
  speaker.on('log', (record) => {
    log(record);
    count(metrics, record);
  });
  metrics.followPeers(() => speaker.peers);
  if (cluster) metrics.followKubernetes(() => ({ connected: cluster.watch.connected, leader: cluster.controller.isLeader }));
  speaker.on('answered', ({ ip }) => metrics.requestAnswered(ip));
  speaker.on('gratuitous', ({ ip }) => metrics.gratuitousSent(ip));
  speaker.on('failed', (reason) => {
    failure = reason;
    stop.stop('the data plane failed');
  });
  // Reloads asked for while one is pending are one reload, and a slow one is followed by as
  // long a pause: a storm of edits, SIGHUPs or cluster changes never takes the whole thread.
  const reloads = new PacedWork(() => reload());
  let stopping = false;
  const requestReload = () => {
    if (!stopping) reloads.request();
  };
  // Members (Nodes on Kubernetes) are read at start: a change is said once, not at every re-read.
  const startMembers = membersOf(config);
  let saidMembers = startMembers;
  const warnIfMembersChanged = (next: ClusterConfig) => {
    const members = membersOf(next);
    if (members === startMembers || members === saidMembers) return;
    saidMembers = members;
    log({ level: 'warn', event: 'restartNeeded', msg: 'the members changed; they are read at start, so restart to follow them', node: nodeName });
  };
  const reload = () => {
    try {
      const next = readConfig();
      refuseHostAddresses(next.services.flatMap((service) => service.ips));
      warnIfMembersChanged(next);
      speaker.update(next);
      if (cluster) cluster.controller.reconcile(cluster.watch.snapshot!, next);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // A running speaker never dies of a bad edit: it keeps what it had, and says why.
      log({ level: 'warn', event: 'configStale', msg: `kept the configuration it had: ${error.message}`, node: nodeName });
    }
  };
  const watched = [...(options.config ?? []), ...(options.services ?? [])];
  let unwatch = () => {};
  if (cluster) followCluster(cluster.watch, requestReload, log, nodeName);
  try {
    await metrics.listen(metricsAt.host, metricsAt.port);
    status = await StatusServer.listen(options.socket, () => ({ ...speaker.status, ...(cluster ? { kubernetes: { connected: cluster.watch.connected, leader: cluster.controller.isLeader } } : {}) }));
    await speaker.start();
    cluster?.controller.start();
    cluster?.controller.reconcile(cluster.watch.snapshot!, config);
    process.on('SIGHUP', requestReload);
    unwatch = watchFiles(watched, requestReload);
    if (options.for !== undefined) stop.after(options.for, `--for ${options.for} s elapsed`);
    await stop.done;
    log({ level: 'info', event: 'stopping', msg: `stopping: ${stop.reason}`, node: nodeName });
  } finally {
    stopping = true;
    reloads.cancel();
    process.off('SIGHUP', requestReload);
    unwatch();
    stop.dispose();
    await speaker.stop();
    await cluster?.controller.stop();
    await cluster?.watch.stop();
    metrics.close();
    status?.close();
  }
  // A bug, not bad input: main reports it as an internal error (exit 70).
  if (failure !== undefined) throw new Error(`the Layer 2 data plane failed: ${failure}`);
  return ExitCode.Ok;
}

/** What the log says, counted: the metrics and the log come from the same events. */
function count(metrics: SpeakerMetrics, record: ClusterLog): void {
  const text = (field: string) => String(record[field]);
  if (record.event === 'serviceAnnounced') metrics.serviceAnnounced(text('service'), text('ip'), text('protocol'));
  else if (record.event === 'serviceWithdrawn') metrics.serviceWithdrawn(text('service'), text('ip'), text('protocol'));
  else if (record.event === 'memberUp' || record.event === 'memberDown') metrics.member(text('member'), record.event === 'memberUp');
}

/** `127.0.0.1:7472`, `[::1]:7472`. */
function metricsAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!match) throw new UsageError(`--metrics-addr "${text}" is not address:port, like 127.0.0.1:7472 or [::1]:7472.`);
  return { host: parseAddress(match[1] ?? match[2]!), port: parsePort(match[3]!) };
}

/** How long a starting speaker waits for the API server's first answer before it gives up (exit 2). */
const CLUSTER_LIST_TIMEOUT_MS = 30_000;

/**
 * --kubernetes (the pod's service account) or --kubeconfig: the cluster is watched from
 * the start, and its first snapshot is waited for, so that nothing is announced from half
 * a picture.
 */
async function watchCluster(options: RunOptions, nodeName: string, log: (record: ClusterLog) => void): Promise<{ watch: ClusterWatch; controller: AllocationController }> {
  if (options.member !== undefined) throw new UsageError('--member is not needed with --kubernetes: the members are the cluster\'s Nodes (narrow them with --speaker-selector).');
  if (options.nodeLabels !== undefined) throw new UsageError("--node-labels is not needed with --kubernetes: this node's labels are its Node's.");
  const access = options.kubeconfig !== undefined ? kubeconfigAccess(options.kubeconfig) : inClusterAccess();
  // The watches are read in their own thread: this one is busy for a second or more per re-read at thousands of Services.
  const client = new KubernetesClient(access, { watches: new WatchThread(access) });
  let watch: ClusterWatch;
  try {
    watch = await ClusterWatch.start(client);
    await watch.waitForSnapshot(CLUSTER_LIST_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UsageError(`cannot read the cluster from the API server at ${access.server}: ${(error as Error).message}.`);
  }
  // The Lease lives in the speaker's own namespace (the pod's, or the kubeconfig context's).
  const controller = new AllocationController(client, access.namespace ?? 'default', nodeName, (level, event, msg, fields) => log({ level, event, msg, node: nodeName, ...fields }));
  return { watch, controller };
}

/**
 * A change in the cluster is a re-read, as a file edit is. The speaker keeps announcing
 * what it knows while the API server cannot be reached (its members' liveness is BFD's,
 * not the API server's), and says so.
 */
function followCluster(cluster: ClusterWatch, reread: () => void, log: (record: ClusterLog) => void, node: string): void {
  cluster.on('snapshot', reread);
  cluster.on('disconnected', ({ resource, error, retryInMs }) => log({ level: 'warn', event: 'apiDisconnected', msg: 'the API server cannot be reached; announcing what was last known', node, resource, reason: error.message, retryInMs }));
  cluster.on('reconnected', ({ resource }) => log({ level: 'info', event: 'apiReconnected', msg: 'the API server answers again', node, resource }));
}

/** `lookup`'s answers, kept for a second: long enough for one re-read, short enough to follow the host's changes. */
function memoizedForASecond<T>(lookup: (key: string) => T): (key: string) => T {
  let answers = new Map<string, T>();
  let since = performance.now();
  return (key) => {
    if (performance.now() - since > 1000) {
      answers = new Map();
      since = performance.now();
    }
    if (!answers.has(key)) answers.set(key, lookup(key));
    return answers.get(key)!;
  };
}

function membersOf(config: ClusterConfig): string {
  return JSON.stringify(config.members.map(({ name, address }) => [name, address]));
}

/** --speaker-selector key=value,...: the Nodes that run a speaker. */
function speakerSelector(text: string): Record<string, string> {
  const problems: Problem[] = [];
  const labels = readLabelsFlag(text, '--speaker-selector', problems);
  const error = problems.find((problem) => problem.severity === 'error');
  if (error) throw new UsageError(`${formatLocation(error.at)}: ${error.message}`);
  return labels;
}

/** The cluster as the flags, files and (with --kubernetes) the API server say now; a mistake is one sentence (a UserError). */
function readInputs(options: RunOptions, nodeName: string, ui: Ui, snapshot: ClusterSnapshot | undefined): ClusterConfig {
  const speakers = options.speakerSelector === undefined ? undefined : speakerSelector(options.speakerSelector);
  const fromCluster = snapshot === undefined ? undefined : kubernetesInput(snapshot, nodeName, speakers);
  if (fromCluster !== undefined && 'problem' in fromCluster) throw new UsageError(fromCluster.problem);
  const nodeLabels = fromCluster ? fromCluster.nodeLabels : options.nodeLabels;
  const { config, problems } = readClusterConfig({
    nodeName,
    // From a cluster, one Service without an address must not hold up the others (AllocationFailed).
    unallocatedIsError: fromCluster === undefined,
    endpointsKnown: fromCluster !== undefined,
    ...(nodeLabels !== undefined ? { nodeLabels } : {}),
    members: fromCluster?.members ?? options.member ?? [],
    pools: options.pool ?? [],
    peers: options.peer ?? [],
    peerDefaults: { asn: options.peerAsn, myAsn: options.myAsn },
    configFiles: [...(options.config ?? []).map((path) => ({ path, text: readInputFile(path) })), ...(fromCluster?.configFiles ?? [])],
    services: options.service ?? [],
    serviceFiles: [...(options.services ?? []).map((path) => ({ path, text: readInputFile(path) })), ...(fromCluster?.serviceFiles ?? [])],
  });
  const error = problems.find((problem) => problem.severity === 'error');
  if (error) throw new UsageError(`${formatLocation(error.at)}: ${error.message}`);
  for (const warning of problems) ui.warn(`${formatLocation(warning.at)}: ${warning.message}`);
  return config;
}

function optionsFor(options: RunOptions): ClusterOptions {
  const allowed = options.interface;
  // Thousands of VIPs are placed on every re-read: the host's interfaces are read once a second, not once a VIP.
  const interfaceOf = memoizedForASecond((ip: string) => interfaceForTarget(ip)?.name);
  return {
    // Only an interface whose subnet holds the VIP, and only those -I names (DESIGN.md: never another).
    interfaceFor(ip) {
      const name = interfaceOf(ip);
      return name !== undefined && (allowed === undefined || allowed.includes(name)) ? name : undefined;
    },
    memberPath(address) {
      const iface = interfaceForTarget(address);
      const local = iface && sourceAddressFor(iface, address);
      return iface && local ? { interfaceName: iface.name, local } : undefined;
    },
    schedule: { count: options.garpCount, intervalMs: options.garpInterval * 1000, refreshMs: options.garpRefresh * 1000, ratePerSecond: options.garpRate },
    timing: { intervalMs: options.bfdInterval * 1000, multiplier: options.bfdMultiplier },
    ring: { fullMeshMax: options.bfdFullMeshMax, neighbours: options.bfdRingNeighbours },
    startupGraceMs: STARTUP_GRACE_MS,
    handoverMs: HANDOVER_MS,
    sessionFor: (peer, families) =>
      announcerPeer(
        peer,
        {
          port: options.port,
          holdTime: options.holdTime,
          gracefulRestartTime: options.grRestartTime,
          ...(options.routerId !== undefined ? { routerId: options.routerId } : {}),
          ...(options.sourceAddress !== undefined ? { sourceAddress: options.sourceAddress } : {}),
          ...(options.nextHop !== undefined ? { nextHop: options.nextHop } : {}),
          ...(options.nextHopV6 !== undefined ? { nextHopV6: options.nextHopV6 } : {}),
        },
        families,
      ),
    shutdownMode: options.shutdownMode as ShutdownMode,
  };
}

/**
 * What this node would announce with every member live, and why: at Layer 2 the candidate
 * order per VIP, over BGP the prefixes per service IP.
 */
function dryRun(config: ClusterConfig, options: ClusterOptions, ui: Ui): number {
  const self = { ...config.self, live: true };
  const nodes = [self, ...config.members.map((member) => ({ name: member.name, labels: member.labels, live: true }))];
  const { decisions } = layer2DesiredState(config.services, config.self.name, nodes, options.interfaceFor);
  const bgp = bgpDesiredState(config.services, self).decisions;
  if (ui.json) {
    for (const decision of decisions) {
      ui.emit('placement', { service: decision.service, ip: decision.ip, pool: decision.pool, order: decision.placement.order, owner: decision.placement.owner, interface: decision.interface, not_announced: decision.notAnnounced });
    }
    for (const decision of bgp) ui.emit('route', { service: decision.service, ip: decision.ip, pool: decision.pool, prefixes: decision.prefixes, not_announced: decision.notAnnounced });
    return ExitCode.Ok;
  }
  if (decisions.length > 0) {
    const rows = decisions.map((decision) => [decision.ip, decision.service, decision.pool, decision.placement.order.join(' > '), decision.interface !== undefined ? `announce on ${decision.interface}` : (decision.notAnnounced ?? '')]);
    printTable(ui, ['ADDRESS', 'SERVICE', 'POOL', 'CANDIDATES (first owns it)', `${config.self.name}`], rows);
  }
  if (bgp.length > 0) {
    if (decisions.length > 0) ui.line('');
    const rows = bgp.map((decision) => [decision.ip, decision.service, decision.pool, decision.notAnnounced === undefined ? `announce ${decision.prefixes.join(' ')} over BGP` : decision.notAnnounced]);
    printTable(ui, ['ADDRESS', 'SERVICE', 'POOL', `${config.self.name}`], rows);
  }
  return ExitCode.Ok;
}

/** The one documented exception to the output conventions: logs go to stdout, JSON lines unless a terminal reads them. */
function writeLog(ui: Ui, { event, level, msg, ...fields }: ClusterLog): void {
  if (ui.json || !process.stdout.isTTY) {
    ui.emit(event, { level, msg, ...fields });
    return;
  }
  const details = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
  ui.line(`${new Date().toISOString()} ${level.padEnd(4)} ${event}: ${msg} ${details}`);
}
