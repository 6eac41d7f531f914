/**
 * `announce`: a Speaker with a fixed desired state. Options become the speaker's
 * configuration and the state it should hold (prefixes with their policy over BGP, or
 * addresses on one interface at Layer 2), the speaker does the rest until stopped, and
 * announce-output.ts shows what happens.
 */
import { ExitCode, UsageError } from '../errors.js';
import { Stop } from '../interrupt.js';
import { BgpOutput, L2Output } from '../announce-output.js';
import type { Ui } from '../ui.js';
import { requiredInterface } from '../interface-choice.js';
import type { RoutePolicy } from '../../bgp/announcer.js';
import { parseTargets } from '../../l2/targets.js';
import { readPeerFlag } from '../../pools/flags.js';
import { formatLocation, type Peer, type Problem } from '../../pools/model.js';
import { HealthCheck } from '../../speaker/health-check.js';
import { announcerPeer } from '../../speaker/peers.js';
import { familiesOf, prefixesOf, routeBlocks, routeCount, routesOf, type PrefixBlock } from '../../speaker/route-targets.js';
import { followHealth, NOTHING, refuseHostAddresses, Speaker, type DesiredState } from '../../speaker/speaker.js';
import { ORIGINS, type Origin } from '../../wire/bgp/attributes.js';
import { parseCommunity, parseLargeCommunity } from '../../wire/bgp/format.js';
import { MAX_COMMUNICATION_LENGTH } from '../../wire/bgp/notification.js';
import { IPV4_UNICAST, IPV6_UNICAST, type Family } from '../../wire/bgp/registry.js';
import { DecodeError } from '../../wire/decode-error.js';
import { vlanTag } from '../../wire/ethernet.js';

interface AnnounceOptions {
  peer?: string[];
  myAsn?: number;
  peerAsn?: number;
  routerId?: string;
  holdTime: number;
  sourceAddress?: string;
  port: number;
  nextHop?: string;
  nextHopV6?: string;
  origin: string;
  med?: number;
  localPref?: number;
  community?: string[];
  largeCommunity?: string[];
  asPathPrepend: number;
  aggregationLength?: number;
  aggregationLengthV6?: number;
  maxRoutes: number;
  check?: string;
  checkInterval: number;
  checkTimeout?: number;
  rise: number;
  fall: number;
  downMed?: number;
  timeout?: number;
  shutdownMessage: string;
  acceptIncoming?: boolean;
  l2?: boolean;
  interface?: string;
  garpCount: number;
  garpInterval: number;
  garpRefresh?: number;
  garpRate: number;
  for?: number;
  force?: boolean;
  vlan?: number;
  busyPoll?: boolean;
  json?: boolean;
}

/** Layer 2 announcing may hold at most this many addresses: each one is answered in memory. */
const MAX_L2_ADDRESSES = 65_536;
/** RFC 5227 2.1.1 sends 3 probes; these gaps (100 ms) are LAN-sized rather than its 1-2 s. */
const CONFLICT_PROBE = { attempts: 3, timeoutMs: 300 };

export async function run(specs: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as unknown as AnnounceOptions;
  const bgp = options.peer !== undefined && options.peer.length > 0;
  if (options.l2 && bgp) throw new UsageError('announce does either --l2 or BGP (--peer) in one run; start one of each to do both.');
  if (bgp) return announceBgp(specs, options, ui);
  if (!options.l2) throw new UsageError('announce needs --peer <router> to announce over BGP, or --l2 -I <interface> to answer ARP/NDP.');
  return announceL2(specs, options, ui);
}

async function announceL2(specs: string[], options: AnnounceOptions, ui: Ui): Promise<number> {
  const addresses = parseAddresses(specs);
  const iface = requiredInterface(options.interface, 'announce --l2');
  refuseHostAddresses(addresses);
  const schedule = {
    count: options.garpCount,
    intervalMs: options.garpInterval * 1000,
    refreshMs: options.garpRefresh === undefined ? undefined : options.garpRefresh * 1000,
    ratePerSecond: options.garpRate,
  };
  const speaker = new Speaker({ l2: { interfaces: [iface.name], schedule, vlan: vlanTag(options.vlan), busyPoll: options.busyPoll ?? false } });
  const output = new L2Output(ui, speaker, iface.name, addresses);
  const stop = new Stop();
  let failure: string | undefined;
  speaker.on('failed', ({ reason }) => {
    failure = reason;
    stop.stop('the data plane failed');
  });
  try {
    await speaker.start();
    if (!options.force) {
      const probing = ui.progress(`probing ${addresses.length} address(es) for another host answering`);
      const conflicts = await speaker.probeForConflicts(iface.name, addresses, {
        ...CONFLICT_PROBE,
        rate: options.garpRate,
        signal: stop.signal,
        onProgress: (sent, total) => probing.update(`probing for another host answering: ${sent}/${total} probes`),
      });
      probing.stop();
      if (conflicts.size > 0) {
        const [ip, macs] = [...conflicts][0]!;
        throw new UsageError(`${ip} is already answered by ${macs.join(', ')}; refusing to announce it (--force takes it over anyway).`);
      }
      if (stop.signal.aborted) {
        ui.note('Interrupted while probing for conflicts: nothing was announced.');
        return ExitCode.Ok;
      }
    }
    output.started();
    speaker.set({ ...NOTHING, l2: new Map([[iface.name, addresses]]) });
    if (options.for !== undefined) stop.after(options.for, `--for ${options.for} s elapsed`);
    await stop.done;
  } finally {
    stop.dispose();
    await speaker.stop('vipkit announce stopped');
    output.close();
  }
  // A bug, not bad input: main reports it as an internal error (exit 70).
  if (failure !== undefined) throw new Error(`the Layer 2 data plane failed: ${failure}`);
  output.summary();
  return ExitCode.Ok;
}

async function announceBgp(specs: string[], options: AnnounceOptions, ui: Ui): Promise<number> {
  if (specs.length === 0) throw new UsageError('announce needs the prefixes, ranges or addresses to announce, for example: vipkit announce --peer 192.0.2.1,asn=65002 --my-asn 64800 203.0.113.10');
  const blocks = routeBlocks(specs, { ipv4: options.aggregationLength, ipv6: options.aggregationLengthV6 }, options.maxRoutes);
  const families = familiesOf(blocks);
  const peers = readPeers(options);
  if (options.check !== undefined && options.check.trim() === '') throw new UsageError('--check needs a command, for example --check "curl -fsS http://127.0.0.1/healthz".');
  if (options.downMed !== undefined && options.check === undefined) throw new UsageError('--down-med is the MED sent while --check fails; it needs --check.');
  // RFC 9003 2: a shutdown communication of at most 255 octets of UTF-8.
  if (Buffer.byteLength(options.shutdownMessage) > MAX_COMMUNICATION_LENGTH) throw new UsageError(`--shutdown-message is longer than ${MAX_COMMUNICATION_LENGTH} bytes (RFC 9003).`);
  const policy = routePolicy(options, peers);
  const defaults = { port: options.port, holdTime: options.holdTime, routerId: options.routerId, sourceAddress: options.sourceAddress, nextHop: options.nextHop, nextHopV6: options.nextHopV6 };
  const sessionFamilies: Family[] = [...(families.has(4) ? [IPV4_UNICAST] : []), ...(families.has(6) ? [IPV6_UNICAST] : [])];
  const speaker = new Speaker({
    bgp: {
      peers: peers.map((peer) => announcerPeer(peer, defaults, families)),
      families: sessionFamilies,
      ...(options.acceptIncoming ? { acceptIncoming: { address: options.sourceAddress } } : {}),
    },
  });
  const up: DesiredState = { ...NOTHING, bgp: routesOf(blocks, policy) };
  const down: DesiredState = options.downMed === undefined ? NOTHING : { ...NOTHING, bgp: routesOf(blocks, { ...policy, med: options.downMed }) };
  const health =
    options.check === undefined
      ? undefined
      : new HealthCheck({ command: options.check, intervalSeconds: options.checkInterval, timeoutSeconds: options.checkTimeout ?? options.checkInterval, rise: options.rise, fall: options.fall });
  const total = routeCount(blocks);
  const output = new BgpOutput(ui, speaker, { total, listed: listedPrefixes(blocks, total), medNow: () => (health?.state === 'down' ? options.downMed : options.med) });
  const stop = new Stop();
  try {
    await speaker.start();
    if (health) {
      health.on('result', (result) => output.check(result));
      health.on('change', (state) => output.health(state));
      followHealth(speaker, health, up, down);
      health.start();
    } else {
      speaker.set(up);
    }
    output.started(peers);
    if (options.timeout !== undefined) giveUpUnlessEstablished(speaker, stop, options.timeout);
    if (options.for !== undefined) stop.after(options.for, `--for ${options.for} s elapsed`);
    await stop.done;
  } finally {
    stop.dispose();
    health?.stop();
    await speaker.stop(options.shutdownMessage);
    output.close();
  }
  output.summary(stop.reason);
  return speaker.everEstablished ? ExitCode.Ok : ExitCode.NotSo;
}

/** --timeout: give up when no session reached Established in time. */
function giveUpUnlessEstablished(speaker: Speaker, stop: Stop, seconds: number): void {
  const timer = setTimeout(() => {
    if (!speaker.everEstablished) stop.stop(`no session reached Established within --timeout ${seconds} s`);
  }, seconds * 1000);
  void stop.done.then(() => clearTimeout(timer));
}

function parseAddresses(specs: string[]): string[] {
  if (specs.length === 0) throw new UsageError('announce --l2 needs the addresses to answer for, for example: vipkit announce --l2 -I eth0 192.0.2.100');
  const addresses = [...new Set(specs.flatMap((spec) => parseTargets([spec], MAX_L2_ADDRESSES).addresses))];
  if (addresses.length > MAX_L2_ADDRESSES) throw new UsageError(`that is ${addresses.length} addresses; announce --l2 holds at most ${MAX_L2_ADDRESSES}.`);
  return addresses;
}

/** Every --peer through the one grammar (pools/flags.ts); the global --peer-asn and --my-asn are defaults. */
function readPeers(options: AnnounceOptions): Peer[] {
  const problems: Problem[] = [];
  const peers = (options.peer ?? []).flatMap((text) => readPeerFlag(text, `--peer ${text}`, { asn: options.peerAsn, myAsn: options.myAsn }, problems) ?? []);
  const error = problems.find((problem) => problem.severity === 'error');
  if (error) throw new UsageError(`${formatLocation(error.at)}: ${error.message}`);
  const repeated = peers.find((peer, index) => peers.findIndex((other) => other.address === peer.address) !== index);
  // Connections a peer opens are told apart by its address: one session per address.
  if (repeated) throw new UsageError(`--peer ${repeated.address} is given twice; announce to each router once.`);
  const selecting = peers.find((peer) => peer.nodeSelectors.length > 0);
  if (selecting) throw new UsageError(`--peer ${selecting.address}: node-selector chooses which nodes of a cluster peer (vipkit run); announce runs on one host, which has no node labels to match.`);
  const bfd = peers.find((peer) => peer.bfd);
  if (bfd) throw new UsageError(`--peer ${bfd.address}: BFD towards routers runs in vipkit run, whose data plane keeps its deadlines; announce does not run it.`);
  return peers;
}

function routePolicy(options: AnnounceOptions, peers: Peer[]): RoutePolicy {
  if (!(ORIGINS as readonly string[]).includes(options.origin)) throw new UsageError(`--origin "${options.origin}" is not igp, egp or incomplete.`);
  const external = peers.find((peer) => peer.asn !== peer.myAsn);
  if (options.localPref !== undefined && external) {
    throw new UsageError(`--local-pref is for iBGP peers only (RFC 4271 5.1.5), and ${external.address} is eBGP (AS ${external.asn}, ours ${external.myAsn}).`);
  }
  const textValues = <T>(option: string, what: string, values: string[] | undefined, parse: (text: string) => T): T[] =>
    (values ?? []).map((text) => {
      try {
        return parse(text);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        throw new UsageError(`${option} ${JSON.stringify(text)} is not a ${what}: write communities as 65002:100 or a well-known name (no-export), large ones as 65002:7:8.`);
      }
    });
  return {
    origin: options.origin as Origin,
    ...(options.med !== undefined ? { med: options.med } : {}),
    ...(options.localPref !== undefined ? { localPref: options.localPref } : {}),
    communities: textValues('--community', 'community', options.community, parseCommunity),
    largeCommunities: textValues('--large-community', 'large community', options.largeCommunity, parseLargeCommunity),
    asPathPrepend: options.asPathPrepend,
  };
}

/** --json lists the prefixes of an announcement up to this many; beyond, only the count. */
const LISTED_PREFIXES = 1000;

function listedPrefixes(blocks: PrefixBlock[], total: number): string[] | undefined {
  return total <= LISTED_PREFIXES ? [...prefixesOf(blocks)] : undefined;
}
