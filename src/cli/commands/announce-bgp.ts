/**
 * `announce --peer`: prefixes, ranges and addresses announced over BGP to one or more
 * routers until stopped, optionally only while a health check passes. The command turns
 * flags into a plan; src/bgp/announcer.ts does the announcing, src/speaker/ the targets
 * and the health check.
 */
import net, { isIPv4, isIPv6 } from 'node:net';
import { ExitCode, UsageError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import type { Progress, Ui } from '../ui.js';
import { BgpAnnouncer, type AnnouncerPeer, type RoutePolicy } from '../../bgp/announcer.js';
import { listenOn } from '../../bgp/listener.js';
import { defaultRoute, findInterface, interfaceForTarget, interfaceHolding, isLinkLocal, sourceAddressFor, type InterfaceInfo } from '../../link/interfaces.js';
import { addressValue, notUnicast } from '../../pools/address-range.js';
import { familiesOf, prefixesOf, routeBlocks, routeCount, type PrefixBlock } from '../../speaker/route-targets.js';
import { HealthCheck, whyFailed, type CheckResult, type Health } from '../../speaker/health-check.js';
import { parsePeerSpec, type PeerSpec } from '../../speaker/peer-spec.js';
import { sleep } from '../../time.js';
import { MAX_COMMUNICATION_LENGTH } from '../../wire/bgp/notification.js';
import { ORIGINS, type Origin } from '../../wire/bgp/attributes.js';
import { DecodeError } from '../../wire/decode-error.js';
import { parseCommunity, parseLargeCommunity } from '../../wire/bgp/format.js';
import { IPV4_UNICAST, IPV6_UNICAST, type Family } from '../../wire/bgp/registry.js';

export interface BgpAnnounceOptions {
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
  for?: number;
  json?: boolean;
}

/** --json lists the prefixes of an announcement up to this many; beyond, only the count. */
const LISTED_PREFIXES = 1000;
/** Withdrawing and saying goodbye to a peer that no longer reads must not hold the exit. */
const STOP_TIMEOUT_MS = 5000;

export async function announceBgp(specs: string[], options: BgpAnnounceOptions, ui: Ui): Promise<number> {
  const blocks = parseRoutes(specs, options);
  const families = familiesOf(blocks);
  const peers = (options.peer ?? []).map((text) => peerSpec(text, options));
  const repeated = peers.find((peer, index) => peers.findIndex((other) => other.address === peer.address) !== index);
  // Connections a peer opens are told apart by its address: one session per address.
  if (repeated) throw new UsageError(`--peer ${repeated.address} is given twice; announce to each router once.`);
  if (options.check !== undefined && options.check.trim() === '') throw new UsageError('--check needs a command, for example --check "curl -fsS http://127.0.0.1/healthz".');
  const policy = routePolicy(options, peers);
  if (options.downMed !== undefined && options.check === undefined) throw new UsageError('--down-med is the MED sent while --check fails; it needs --check.');
  // RFC 9003 2: a shutdown communication of at most 255 octets of UTF-8.
  if (Buffer.byteLength(options.shutdownMessage) > MAX_COMMUNICATION_LENGTH) throw new UsageError(`--shutdown-message is longer than ${MAX_COMMUNICATION_LENGTH} bytes (RFC 9003).`);
  const announcerPeers = peers.map((peer) => announcerPeer(peer, options, families));
  const sessionFamilies: Family[] = [...(families.has(4) ? [IPV4_UNICAST] : []), ...(families.has(6) ? [IPV6_UNICAST] : [])];
  const announcer = new BgpAnnouncer(announcerPeers, sessionFamilies, policy);
  const total = routeCount(blocks);
  const listed = total <= LISTED_PREFIXES ? [...prefixesOf(blocks)] : undefined;
  const output = new AnnounceOutput(ui, announcer, total, listed);
  const servers = options.acceptIncoming ? await acceptIncoming(announcer, peers, options.sourceAddress) : [];

  const stop = new AbortController();
  const stopListening = onInterrupt((signal) => {
    output.stopReason = signal;
    stop.abort();
  });
  let health: HealthCheck | undefined;
  try {
    const announcement = (med?: number) => ({ prefixes: () => prefixesOf(blocks), ...(med !== undefined ? { med } : {}) });
    if (options.check === undefined) {
      announcer.set(announcement());
    } else {
      health = new HealthCheck({ command: options.check, intervalSeconds: options.checkInterval, timeoutSeconds: options.checkTimeout ?? options.checkInterval, rise: options.rise, fall: options.fall });
      const apply = (state: Health) => announcer.set(state === 'up' ? announcement() : options.downMed !== undefined ? announcement(options.downMed) : undefined);
      health.on('result', (result) => output.check(result));
      health.on('change', (state) => {
        output.health(state);
        apply(state);
      });
      apply('down');
      health.start();
    }
    announcer.start();
    output.started(peers);
    const established = new Promise<void>((resolve) => {
      announcer.on('state', ({ to }) => {
        if (to === 'Established') resolve();
      });
    });
    if (options.timeout !== undefined) {
      await Promise.race([established, sleep(options.timeout * 1000, stop.signal)]);
      if (!announcer.everEstablished && !stop.signal.aborted) {
        output.stopReason = `no session reached Established within --timeout ${options.timeout} s`;
        stop.abort();
      }
    }
    await sleep(options.for === undefined ? Infinity : options.for * 1000, stop.signal);
    output.stopReason ??= `--for ${options.for} s elapsed`;
    health?.stop();
    closeAll(servers);
    await Promise.race([announcer.stop(options.shutdownMessage), sleep(STOP_TIMEOUT_MS)]);
    output.close();
    output.summary();
    return announcer.everEstablished ? ExitCode.Ok : ExitCode.NotSo;
  } finally {
    closeAll(servers);
    health?.stop();
    stopListening();
    output.close();
  }
}

/** --accept-incoming: listen on each peer port (on --source-address, or every address) and hand the peers' connections to their sessions. */
async function acceptIncoming(announcer: BgpAnnouncer, peers: PeerSpec[], address: string | undefined): Promise<net.Server[]> {
  const servers: net.Server[] = [];
  for (const port of new Set(peers.map((peer) => peer.port))) {
    const server = net.createServer((socket) => announcer.accept(socket));
    try {
      await listenOn(server, address, port);
    } catch (error) {
      closeAll(servers);
      throw error;
    }
    servers.push(server);
  }
  return servers;
}

function closeAll(servers: net.Server[]): void {
  for (const server of servers) if (server.listening) server.close();
}

function parseRoutes(specs: string[], options: BgpAnnounceOptions): PrefixBlock[] {
  if (specs.length === 0) throw new UsageError('announce needs the prefixes, ranges or addresses to announce, for example: vipkit announce --peer 192.0.2.1,asn=65002 --my-asn 64800 203.0.113.10');
  return routeBlocks(specs, { ipv4: options.aggregationLength, ipv6: options.aggregationLengthV6 }, options.maxRoutes);
}

function peerSpec(text: string, options: BgpAnnounceOptions): PeerSpec {
  return parsePeerSpec(text, {
    port: options.port,
    holdTime: options.holdTime,
    asn: options.peerAsn,
    myAsn: options.myAsn,
    routerId: options.routerId,
    sourceAddress: options.sourceAddress,
  });
}

function routePolicy(options: BgpAnnounceOptions, peers: PeerSpec[]): RoutePolicy {
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

/** The interface towards a peer: the one whose subnet holds it, else the one holding our source address, else the default route's. */
function interfaceFacing(peer: PeerSpec): InterfaceInfo | undefined {
  const holding = peer.sourceAddress === undefined ? undefined : interfaceHolding(peer.sourceAddress);
  const viaDefault = defaultRoute(isIPv4(peer.address) ? 4 : 6);
  return interfaceForTarget(peer.address) ?? holding ?? (viaDefault ? findInterface(viaDefault.interfaceName) : undefined);
}

function announcerPeer(peer: PeerSpec, options: BgpAnnounceOptions, families: Set<4 | 6>): AnnouncerPeer {
  const iface = interfaceFacing(peer);
  const where = iface ? `on ${iface.name}, the interface facing ${peer.address}` : `here: no interface faces ${peer.address}`;
  let nextHop = options.nextHop;
  if (nextHop !== undefined && !isIPv4(nextHop)) throw new UsageError(`--next-hop ${nextHop} is not an IPv4 address (IPv6 next hops go in --next-hop-v6).`);
  refuseSpecialNextHop('--next-hop', nextHop);
  if (families.has(4) && nextHop === undefined && isIPv6(peer.address)) {
    // Our end of an IPv6 session cannot be an IPv4 route's next hop.
    nextHop = iface?.ipv4[0]?.address;
    if (nextHop === undefined) throw new UsageError(`IPv4 routes to the IPv6 peer ${peer.address} need an IPv4 next hop, and there is no IPv4 address ${where}: give --next-hop.`);
  }
  let nextHopV6 = options.nextHopV6;
  if (nextHopV6 !== undefined && !isIPv6(nextHopV6)) throw new UsageError(`--next-hop-v6 ${nextHopV6} is not an IPv6 address.`);
  refuseSpecialNextHop('--next-hop-v6', nextHopV6);
  if (families.has(6) && nextHopV6 === undefined) {
    const global = iface?.ipv6.find((entry) => !isLinkLocal(entry.address));
    nextHopV6 = iface && isIPv6(peer.address) ? sourceAddressFor(iface, peer.address) : global?.address;
    if (nextHopV6 !== undefined && isLinkLocal(nextHopV6)) nextHopV6 = global?.address;
    if (nextHopV6 === undefined) throw new UsageError(`IPv6 routes need a global IPv6 next hop, and there is no global IPv6 address ${where}: give --next-hop-v6.`);
  }
  return {
    session: {
      peerAddress: peer.address,
      port: peer.port,
      ...(peer.sourceAddress !== undefined ? { localAddress: peer.sourceAddress } : {}),
      localAs: peer.myAsn,
      peerAs: peer.asn,
      routerId: peer.routerId,
      holdTime: peer.holdTime,
    },
    ...(nextHop !== undefined ? { nextHop } : {}),
    ...(nextHopV6 !== undefined ? { nextHopV6 } : {}),
  };
}

/** A router drops or treats as withdrawn an UPDATE whose next hop no host can hold (RFC 4271 6.3). */
function refuseSpecialNextHop(option: string, address: string | undefined): void {
  if (address === undefined) return;
  const special = notUnicast(isIPv4(address) ? 4 : 6, addressValue(address));
  if (special !== undefined) throw new UsageError(`${option} ${address} is ${special}; a next hop is the unicast address routers forward to.`);
}

/** Everything the user sees: a live status per peer on a TTY, lines otherwise, or --json events. */
class AnnounceOutput {
  stopReason?: string;
  /** Why the last health check failed; undefined after a pass. */
  private lastFailure?: string;
  /** Started after the banner, so the banner is not written over the spinner. */
  private status?: Progress;
  private statusText = 'connecting';

  constructor(
    private readonly ui: Ui,
    private readonly announcer: BgpAnnouncer,
    private readonly total: number,
    private readonly listed: string[] | undefined,
  ) {
    announcer.on('state', ({ peer, from, to, reason }) => {
      if (ui.json) ui.emit('state', { peer, from, to, reason });
      else if (to === 'Established' || from === 'Established' || to === 'Idle') this.print(() => ui.note(`${peer}: ${from} -> ${to} (${reason})`));
      this.refresh();
    });
    announcer.on('announced', ({ peer, count, med }) => {
      if (ui.json) ui.emit('announced', { peer, routes: count, med, prefixes: count === total ? listed : undefined });
      else this.print(() => ui.line(`Announced ${describeRoutes(count, listed)} to ${peer}${med !== undefined ? ` with MED ${med}` : ''}.`));
      this.refresh();
    });
    announcer.on('withdrawn', ({ peer, count }) => {
      if (ui.json) ui.emit('withdrawn', { peer, routes: count, prefixes: count === total ? listed : undefined });
      else this.print(() => ui.line(`Withdrew ${describeRoutes(count, listed)} from ${peer}.`));
      this.refresh();
    });
    // Every resend skips the same routes again: a human is told once per peer and reason.
    const warned = new Set<string>();
    announcer.on('skipped', ({ peer, family, count, reason }) => {
      if (ui.json) ui.emit('skipped', { peer, family, routes: count, reason });
      else if (!warned.has(`${peer} ${family} ${reason}`)) {
        warned.add(`${peer} ${family} ${reason}`);
        this.print(() => ui.warn(`${count} ${family} route(s) not sent to ${peer}: ${reason}.`));
      }
    });
    announcer.on('notification', ({ peer, description, sent }) => {
      if (ui.json) ui.emit('notification', { peer, direction: sent ? 'sent' : 'received', description });
      else this.print(() => ui.note(`${peer}: NOTIFICATION ${sent ? 'sent' : 'received'}: ${description}`));
    });
    announcer.on('rejected', ({ address, reason }) => {
      if (ui.json) ui.emit('rejected', { peer: address, reason });
      else this.print(() => ui.note(`${address}: connection refused (Cease NOTIFICATION sent): ${reason}`));
    });
    announcer.on('malformed', ({ peer, errors }) => {
      // RFC 7606: the session survived; say what was wrong and go on.
      if (ui.json) ui.emit('malformed', { peer, errors });
      else this.print(() => ui.warn(`${peer} sent a malformed UPDATE (handled as RFC 7606 says): ${errors.join('; ')}`));
    });
  }

  started(peers: PeerSpec[]): void {
    if (this.ui.json) return;
    const what = describeRoutes(this.total, this.listed);
    this.ui.note(`Announcing ${what} to ${peers.map((peer) => `${peer.address} (AS ${peer.asn})`).join(', ')}; Ctrl-C withdraws and stops.`);
    this.status = this.ui.progress(this.statusText);
    this.refresh();
  }

  check(result: CheckResult): void {
    if (this.ui.json) this.ui.emit('check', { passed: result.passed, code: result.code, reason: result.reason, duration_ms: result.durationMs, health: result.state, pending: result.pending });
    const failure = whyFailed(result);
    // Each new reason once (a check that cannot run at all says so), not every failure.
    if (failure !== undefined && failure !== this.lastFailure && !this.ui.json) this.print(() => this.ui.line(`Health check failed: ${failure}; service ${result.state}.`));
    this.lastFailure = failure;
    this.refresh(`check ${result.passed ? 'passed' : 'failed'}${failure ? ` (${failure})` : ''}, service ${result.state}`);
  }

  health(state: Health): void {
    if (this.ui.json) this.ui.emit('health', { health: state });
    else this.print(() => this.ui.line(`Health check: service ${state}.`));
  }

  summary(): void {
    const peers = this.announcer.status;
    if (this.ui.json) {
      this.ui.emit('summary', { routes: this.total, stopped: this.stopReason, peers: peers.map((peer) => ({ peer: peer.address, state: peer.state, established: peer.establishedCount, malformed: peer.malformed })) });
      return;
    }
    for (const peer of peers) {
      this.ui.line(`${peer.address}: ${peer.establishedCount > 0 ? `established ${peer.establishedCount} time(s)` : 'never established'}${peer.malformed > 0 ? `, ${peer.malformed} malformed UPDATE error(s) survived` : ''}.`);
    }
    const ending = this.announcer.everEstablished ? 'withdrew everything and closed each session with a Cease' : 'no session ever reached Established';
    this.ui.line(`Stopped (${this.stopReason}): ${ending}.`);
  }

  close(): void {
    this.status?.stop();
    this.status = undefined;
  }

  /** Writes a line without tearing the live status: the spinner goes, the line is written, the spinner comes back. */
  private print(write: () => void): void {
    if (this.status === undefined) return write();
    this.status.stop();
    write();
    this.status = this.ui.progress(this.statusText);
  }

  private refresh(extra?: string): void {
    const lines = this.announcer.status.map((peer) => `${peer.address}  ${peer.state}  ${peer.announced} prefixes sent  since ${peer.lastChange.toLocaleTimeString()}`);
    this.statusText = [...lines, ...(extra ? [extra] : [])].join('\n  ');
    this.status?.update(this.statusText);
  }
}

function describeRoutes(count: number, listed: string[] | undefined): string {
  if (listed !== undefined && count === listed.length && count <= 3) return listed.join(', ');
  return `${count} route(s)`;
}
