import { InvalidArgumentError } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { Stop } from '../interrupt.js';
import { formatTable, GrowingTable } from '../table.js';
import type { Progress, Ui } from '../ui.js';
import { parsePeerAddress } from '../bgp-options.js';
import { defaultRouterId } from '../../speaker/peers.js';
import { interfaceHolding } from '../../link/interfaces.js';
import type { ReceivedRoute, RibChange, RouteKey } from '../../bgp/adj-rib-in.js';
import { BgpListener, PassiveSessions } from '../../bgp/listener.js';
import { BgpSession, type SessionConfig } from '../../bgp/session.js';
import type { PeerKey } from '../../bgp/tcp-options.js';
import { type AddressRange, AddressRangeError, addressValue, familyOf, parseAddressRange } from '../../pools/address-range.js';
import { ERROR_ACTION_NAMES, type BgpError } from '../../wire/bgp/bgp-error.js';
import { capabilityName, describeCapability, routeJson, type RouteJson } from '../../wire/bgp/format.js';
import { encodeMessage } from '../../wire/bgp/message.js';
import { describeNotification, type NotificationMessage } from '../../wire/bgp/notification.js';
import { CeaseSubcode, ErrorCode, OpenSubcode } from '../../wire/bgp/notification-codes.js';
import { openAsn, type OpenMessage } from '../../wire/bgp/open.js';
import { familyName, IPV4_UNICAST, IPV6_UNICAST, sameFamily, type Family } from '../../wire/bgp/registry.js';
import { endOfRibUpdate } from '../../wire/bgp/update.js';
import type { NegotiatedSession } from '../../wire/bgp/validate.js';
import { sleep } from '../../time.js';

interface BgpPeerOptions {
  myAsn?: number;
  peerAsn?: number;
  routerId?: string;
  holdTime: number;
  keepalive?: number;
  port: number;
  sourceAddress?: string;
  family?: Family[];
  passive?: boolean;
  acceptIncoming?: boolean;
  once?: boolean;
  timeout?: number;
  listen?: string | boolean;
  accept?: string[];
  quiet?: boolean;
  json?: boolean;
  password?: string;
  ebgpMultihop?: string | boolean;
  addPath?: boolean;
}

/** Without --timeout, how long a session to one peer may take to come up. */
const DEFAULT_ESTABLISH_TIMEOUT_S = 30;
/**
 * --once: the initial routes are complete after End-of-RIB for every family. A peer that did
 * not advertise graceful restart need not send it (RFC 4724 2), so for it this long without
 * an UPDATE also ends them.
 */
const ONCE_QUIET_MS = 3000;
/**
 * A peer that did advertise graceful restart sends End-of-RIB, but may start its initial
 * UPDATEs late (BIRD, reconnected at once after a close, waits seconds to feed): it is given
 * this long without an UPDATE.
 */
const ONCE_QUIET_GRACEFUL_PEER_MS = 30_000;
/** BIRD and GoBGP close a connection from an address they have no neighbour for without a word. */
const SILENT_CLOSE_HINT = '(no NOTIFICATION: the peer most likely has no neighbour configured for this address, or is still waiting out an earlier error)';
/** Below this many routes, a heap difference says more about the collector than about routes. */
const MIN_ROUTES_FOR_MEMORY = 1000;

export async function run(targets: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as unknown as BgpPeerOptions;
  if (options.myAsn === undefined) throw new UsageError('bgp-peer needs --my-asn, the AS number vipkit speaks as (e.g. --my-asn 64800).');
  if (options.keepalive !== undefined && options.holdTime > 0 && options.keepalive * 3 > options.holdTime) {
    throw new UsageError(`--keepalive ${options.keepalive} is more than a third of --hold-time ${options.holdTime} (RFC 4271 10).`);
  }
  if (options.listen !== undefined && options.listen !== false) {
    if (targets.length > 0) throw new UsageError('bgp-peer --listen takes no peer address: the speakers come to it (use --accept <CIDR>).');
    if (options.acceptIncoming) throw new UsageError('--accept-incoming goes with a peer address: --listen accepts every connection already.');
    return listen(options, ui);
  }
  if (options.sourceAddress !== undefined && interfaceHolding(options.sourceAddress) === undefined) {
    throw new UsageError(`--source-address ${options.sourceAddress} is not configured on any interface of this host.`);
  }
  if (targets.length !== 1) throw new UsageError('bgp-peer needs exactly one peer address, e.g. vipkit bgp-peer --my-asn 64800 192.0.2.1 (or --listen to act as the router).');
  if (options.accept) throw new UsageError('--accept goes with --listen.');
  if (options.acceptIncoming && options.passive) throw new UsageError('--accept-incoming is for a session that also connects out; --passive only waits for the peer, so leave one of them out.');
  return peer(peerAddress(targets[0]!), options, ui);
}

/**
 * --ebgp-multihop [ttl] (255 without a value) and --password: the TTL and TCP-MD5 key of
 * the connection (tcp-options.ts). Without them the kernel's TTL: a troubleshooting tool
 * reaches a peer wherever it is.
 */
function tcpOptions(options: BgpPeerOptions): { ttl?: number; password?: string } {
  const ttl = options.ebgpMultihop === undefined ? undefined : options.ebgpMultihop === true ? 255 : Number(options.ebgpMultihop);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= 255)) throw new UsageError(`--ebgp-multihop ${String(options.ebgpMultihop)} is not a TTL from 1 to 255.`);
  return { ...(ttl !== undefined ? { ttl } : {}), ...(options.password !== undefined ? { password: options.password } : {}) };
}

/** The --password as the TCP-MD5 key of every peer that may connect in (addresses or --accept prefixes). */
function keysFor(options: BgpPeerOptions, peers: string[]): PeerKey[] {
  const { password } = options;
  return password === undefined ? [] : peers.map((peer) => ({ peer, password }));
}

function peerAddress(text: string): string {
  try {
    return parsePeerAddress(text);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
}

function sessionSettings(options: BgpPeerOptions, localAddress?: string): Omit<SessionConfig, 'peerAddress' | 'passive'> {
  const routerId = options.routerId ?? defaultRouterId(localAddress);
  if (routerId === undefined) throw new UsageError('this host has no IPv4 address to use as router id; give one with --router-id.');
  return {
    port: options.port,
    ...(options.sourceAddress !== undefined ? { localAddress: options.sourceAddress } : {}),
    localAs: options.myAsn!,
    ...(options.peerAsn !== undefined ? { peerAs: options.peerAsn } : {}),
    routerId,
    holdTime: options.holdTime,
    ...(options.keepalive !== undefined ? { keepaliveTime: options.keepalive } : {}),
    families: options.family ?? [IPV4_UNICAST, IPV6_UNICAST],
    ...tcpOptions(options),
    ...(options.addPath ? { addPath: true } : {}),
  };
}

async function peer(address: string, options: BgpPeerOptions, ui: Ui): Promise<number> {
  const session = new BgpSession({ ...sessionSettings(options, options.sourceAddress), peerAddress: address, passive: options.passive ?? false });
  const report = new Report(ui, false, options.quiet ?? false);
  const stop = new Stop();
  try {
    const watch = report.watch(session, options, stop);
    // --passive: wait for this one peer to connect, on the port and source address given;
    // --accept-incoming: take its connection too, beside ours (RFC 4271 6.8 keeps one).
    const listener =
      options.passive || options.acceptIncoming
        ? new BgpListener({ address: options.sourceAddress, port: options.port, keys: keysFor(options, [address]), sessionFor: (from) => (from === address ? session : `${from} is not the peer`) })
        : undefined;
    listener?.on('rejected', ({ address: from, reason }) => report.rejected(from, reason));
    await listener?.listen();
    const timeout = options.timeout ?? DEFAULT_ESTABLISH_TIMEOUT_S;
    // Why the session did not come up is known only when the time is up.
    void sleep(timeout * 1000, stop.signal).then(() => {
      if (stop.signal.aborted || watch.established) return;
      const unanswered = options.password !== undefined ? 'with --password set, a password mismatch (or none set at the peer) is the likely cause' : 'is the address up and reachable?';
      const last = watch.lastFailure ?? (session.state === 'Connect' ? `the TCP connection to ${address} port ${options.port} got no answer (${unanswered})` : `it stayed in ${session.state}`);
      stop.stop(`no session with ${address} within ${timeout} s: ${last}`);
    });
    report.starting(address, options);
    session.start();
    await stop.done;
    const routes = session.adjRibIn.size;
    measureHeap(watch, routes);
    await session.stop(stop.interrupted ? 'vipkit bgp-peer interrupted' : 'vipkit bgp-peer done');
    listener?.close();
    const ok = watch.established && (watch.initialRoutesComplete || !options.once);
    report.summary(watch, routes, ok ? undefined : stop.interrupted ? 'interrupted' : stop.reason);
    return ok ? ExitCode.Ok : ExitCode.NotSo;
  } finally {
    stop.dispose();
  }
}

async function listen(options: BgpPeerOptions, ui: Ui): Promise<number> {
  if (!options.accept || options.accept.length === 0) throw new UsageError('bgp-peer --listen needs --accept <CIDR> for the speakers it may accept, e.g. --accept 192.0.2.0/24.');
  const ranges = options.accept.map(acceptRange);
  const address = typeof options.listen === 'string' ? peerAddress(options.listen) : undefined;
  const settings = sessionSettings(options, address);
  const speakers = new PassiveSessions(() => settings);
  const listener = new BgpListener({
    address,
    port: options.port,
    keys: keysFor(options, options.accept),
    sessionFor: (from) => (ranges.some((range) => inRange(range, from)) ? speakers.sessionFor(from) : `${from} is not in the accepted ranges`),
  });
  const report = new Report(ui, true, options.quiet ?? false);
  const stop = new Stop();
  try {
    const watches: Watch[] = [];
    speakers.on('session', (session) => watches.push(report.watch(session, { ...options, once: false }, stop)));
    listener.on('rejected', ({ address: from, reason }) => report.rejected(from, reason));
    await listener.listen();
    report.listening(listener.address, options);
    if (options.timeout !== undefined) stop.after(options.timeout, 'timeout');
    await stop.done;
    // Read before closing: a closed session's Adj-RIB-In is empty.
    const held = watches.map((watch) => watch.session.adjRibIn.size);
    listener.close();
    await speakers.close('vipkit bgp-peer stopped listening');
    const established = watches.filter((watch) => watch.established);
    report.listenSummary(watches, held);
    return established.length > 0 ? ExitCode.Ok : ExitCode.NotSo;
  } finally {
    stop.dispose();
  }
}

function acceptRange(spec: string): AddressRange {
  try {
    return parseAddressRange(spec);
  } catch (error) {
    if (error instanceof AddressRangeError) throw new UsageError(`--accept: ${error.message}`);
    throw error;
  }
}

function inRange(range: AddressRange, address: string): boolean {
  // A link-local speaker (fe80::…%eth0) has a zone: no --accept range holds it.
  if (familyOf(address) !== range.family) return false;
  const value = addressValue(address);
  return value >= range.first && value <= range.last;
}

/** What happened to one session, for the exit code and the summary. */
interface Watch {
  peer: string;
  session: BgpSession;
  established: boolean;
  initialRoutesComplete: boolean;
  lastFailure?: string;
  updates: number;
  announced: number;
  withdrawn: number;
  malformed: number;
  heapAtEstablished?: number;
  bytesPerRoute?: number;
  /** When the first and the latest UPDATE with routes were processed. */
  firstUpdate?: Date;
  lastUpdate?: Date;
}

/** Renders sessions as they go: FSM steps, the negotiated session, routes, failures. */
class Report {
  private status?: Progress;
  /** Routes arrive one by one, so the table grows its columns instead of measuring them first. */
  private readonly routeTable: GrowingTable;
  private headerPrinted = false;

  constructor(
    private readonly ui: Ui,
    private readonly manyPeers: boolean,
    private readonly quiet: boolean,
  ) {
    const routeColumns = [20, 15, 12, 10, 6, 10];
    this.routeTable = new GrowingTable(manyPeers ? [16, ...routeColumns] : routeColumns);
  }

  starting(address: string, options: BgpPeerOptions): void {
    const accepting = options.acceptIncoming ? `, and accepting its connection on port ${options.port}` : '';
    this.progress(options.passive ? `waiting for ${address} to connect to port ${options.port}` : `connecting to ${address} port ${options.port}${accepting}`);
  }

  listening(address: { address: string; port: number }, options: BgpPeerOptions): void {
    const where = address.address === '::' ? 'every address' : address.address;
    const text = `Listening on ${where} port ${address.port} for speakers in ${options.accept!.join(', ')} (AS ${options.myAsn}); announcing nothing.`;
    if (this.ui.json) this.ui.emit('listening', { address: address.address, port: address.port, accept: options.accept, asn: options.myAsn });
    else this.ui.note(text);
    this.progress('waiting for speakers');
  }

  rejected(address: string, reason: string): void {
    if (this.ui.json) this.ui.emit('rejected', { peer: address, reason });
    else this.ui.note(`${address}: connection refused (Cease NOTIFICATION sent): ${reason}`);
  }

  watch(session: BgpSession, options: BgpPeerOptions, stop: Stop): Watch {
    const peer = session.config.peerAddress;
    const watch: Watch = { peer, session, established: false, initialRoutesComplete: false, updates: 0, announced: 0, withdrawn: 0, malformed: 0 };
    let received: NotificationMessage | undefined;
    let pendingEndOfRib: Family[] = [];
    let quietTimer: NodeJS.Timeout | undefined;
    let quietMs = ONCE_QUIET_MS;
    const initialRoutesDone = () => {
      watch.initialRoutesComplete = true;
      if (options.once) stop.stop('initial routes received');
    };
    const noteUpdate = () => {
      if (!options.once || watch.initialRoutesComplete) return;
      clearTimeout(quietTimer);
      quietTimer = setTimeout(initialRoutesDone, quietMs);
    };
    void stop.done.then(() => clearTimeout(quietTimer));

    session.on('notification', ({ message }) => {
      received = message;
      this.notification(peer, 'received', message.code, message.subcode, message.data, message.communication);
    });
    session.on('notification-sent', ({ notification, reason }) => {
      if (stop.signal.aborted) return;
      this.notification(peer, 'sent', notification.code, notification.subcode, notification.data, undefined, reason);
      // The losing connection of a collision goes without a state change the user sees.
      if (!this.ui.json && notification.code === ErrorCode.Cease && notification.subcode === CeaseSubcode.ConnectionCollisionResolution) this.ui.note(`${peer}: ${reason}`);
    });
    session.on('state', ({ from, to, reason }) => {
      // Our own Cease at the end is not news.
      if (stop.signal.aborted) return;
      const explained = received && reason.startsWith('peer closed:') ? `peer closed: ${explainNotification(received, session)}` : from === 'OpenSent' && to === 'Idle' && reason.startsWith('TCP connection closed') ? `${reason} ${SILENT_CLOSE_HINT}` : reason;
      received = undefined;
      this.state(peer, from, to, explained);
      if (to !== 'Idle') return;
      watch.lastFailure = explained;
      // A failure after the TCP connection was up (a NOTIFICATION, an OPEN refused) is a
      // configuration problem that retrying does not fix: report it and stop.
      if (!watch.established && !this.manyPeers && (from === 'OpenSent' || from === 'OpenConfirm')) stop.stop(explained);
      if (watch.established && options.once && !watch.initialRoutesComplete) stop.stop(`the session went down before the initial routes were complete: ${explained}`);
    });
    session.on('established', (negotiated) => {
      watch.established = true;
      watch.heapAtEstablished = heapUsed();
      this.established(peer, session, negotiated);
      // RFC 4724 4: having advertised graceful restart, we send End-of-RIB even with nothing to announce.
      session.sendUpdates(negotiated.families.map((family) => encodeMessage(endOfRibUpdate(family), negotiated.context)));
      pendingEndOfRib = [...negotiated.families];
      if (negotiated.gracefulRestart !== undefined) quietMs = ONCE_QUIET_GRACEFUL_PEER_MS;
      noteUpdate();
    });
    session.on('routes', (change) => {
      watch.updates++;
      watch.lastUpdate = new Date();
      watch.firstUpdate ??= watch.lastUpdate;
      watch.announced += change.announced.length;
      watch.withdrawn += change.withdrawn.length;
      if (change.errors.length > 0) {
        watch.malformed++;
        this.malformed(peer, change.errors);
      }
      this.routes(peer, change);
      noteUpdate();
    });
    session.on('end-of-rib', (family) => {
      this.endOfRib(peer, family);
      pendingEndOfRib = pendingEndOfRib.filter((pending) => !sameFamily(pending, family));
      if (pendingEndOfRib.length === 0 && watch.established && !watch.initialRoutesComplete) {
        clearTimeout(quietTimer);
        initialRoutesDone();
      } else {
        noteUpdate();
      }
    });
    session.on('down', ({ reason, withdrawn }) => {
      if (stop.signal.aborted) return;
      if (this.ui.json) this.ui.emit('down', { peer, reason, withdrawn: withdrawn.length });
      else if (!this.quiet) this.ui.line(`${peer}: session down (${reason}); ${withdrawn.length} route(s) gone with it`);
    });
    return watch;
  }

  private progress(text: string): void {
    this.status?.stop();
    this.status = this.quiet ? undefined : this.ui.progress(text);
  }

  private state(peer: string, from: string, to: string, reason: string): void {
    if (this.ui.json) {
      if (!this.quiet && to !== 'Established') this.ui.emit('state', { peer, from, to, reason });
      return;
    }
    // established() prints the step to Established before the session it describes.
    if (to === 'Established') return;
    this.status?.stop();
    this.ui.note(`${this.manyPeers ? `${peer}: ` : ''}${from} -> ${to}: ${reason}`);
    this.progress(`${peer}: ${to}`);
  }

  private notification(peer: string, direction: 'sent' | 'received', code: number, subcode: number, data?: Buffer, communication?: string, reason?: string): void {
    if (!this.ui.json || this.quiet) return;
    this.ui.emit('notification', { peer, direction, code, subcode, description: describeNotification(code, subcode), data: data && data.length > 0 ? data.toString('hex') : undefined, communication, reason });
  }

  private established(peer: string, session: BgpSession, negotiated: NegotiatedSession): void {
    this.status?.stop();
    this.status = undefined;
    const local = session.localOpenMessage!;
    const remote = session.peerOpenMessage!;
    const agreed = agreedCapabilities(negotiated);
    if (this.ui.json) {
      if (this.quiet) return;
      const side = (open: OpenMessage) => ({ asn: openAsn(open), router_id: open.bgpIdentifier, hold_time: open.holdTime, capabilities: open.capabilities.map(describeCapability) });
      this.ui.emit('state', {
        peer,
        from: 'OpenConfirm',
        to: 'Established',
        reason: 'KEEPALIVE received: session established',
        local: side(local),
        remote: side(remote),
        hold_time: negotiated.holdTime,
        keepalive_time: negotiated.keepaliveTime,
        families: negotiated.families.map(familyName),
        agreed,
      });
      return;
    }
    this.ui.note(`${this.manyPeers ? `${peer}: ` : ''}OpenConfirm -> Established: KEEPALIVE received: session established`);
    if (this.quiet) return;
    const rows: string[][] = [
      ['', 'VIPKIT', 'PEER'],
      ['AS', String(openAsn(local)), String(openAsn(remote))],
      ['router id', local.bgpIdentifier, remote.bgpIdentifier],
      ['hold time', `${local.holdTime} s`, `${remote.holdTime} s`],
    ];
    const sent = new Map(local.capabilities.map((capability) => [capabilityName(capability), describeCapability(capability)]));
    const peerSent = new Map(remote.capabilities.map((capability) => [capabilityName(capability), describeCapability(capability)]));
    const keys = [...new Set([...sent.keys(), ...peerSent.keys()])];
    const capabilityRows = keys.map((key) => [key, sent.has(key) ? 'yes' : '-', peerSent.has(key) ? 'yes' : '-', agreed.includes(key) ? 'agreed' : '']);
    this.ui.line(this.ui.style.bold(`Session with ${peer} established`) + ` (AS ${negotiated.peerAs}, hold time ${negotiated.holdTime} s, keepalive every ${negotiated.keepaliveTime} s)`);
    this.ui.line(formatTable(rows).map((line) => `  ${line}`).join('\n'));
    this.ui.line(formatTable([['CAPABILITY', 'VIPKIT', 'PEER', ''], ...capabilityRows]).map((line) => `  ${line}`).join('\n'));
    const detailed = new Set(['graceful-restart', 'add-path', 'extended-next-hop', 'role', 'unknown']);
    const details = remote.capabilities.filter((capability) => detailed.has(capability.type));
    for (const capability of details) this.ui.line(`  peer's ${describeCapability(capability)}`);
    this.ui.line('');
  }

  private routes(peer: string, change: RibChange): void {
    if (this.quiet) return;
    if (this.ui.json) {
      for (const { prefix, pathId } of change.withdrawn) this.ui.emit('withdraw', { peer, prefix, ...(pathId !== undefined ? { path_id: pathId } : {}) });
      for (const route of change.announced) this.ui.emit('route', { peer, ...routeFields(route) });
      return;
    }
    for (const route of change.withdrawn) this.tableRow('-', peer, [withPath(route)]);
    for (const route of change.announced) {
      const fields = routeFields(route);
      const communities = [...(fields.communities ?? []), ...(fields.large_communities ?? []), ...(fields.extended_communities ?? []), ...(fields.ipv6_extended_communities ?? [])].join(' ');
      const asPath = fields.as_path || (fields.bgpsec_path === undefined ? '-' : `${fields.bgpsec_path} (BGPsec)`);
      this.tableRow('+', peer, [withPath(route), fields.next_hop ?? '-', asPath, (fields.origin === 'incomplete' ? fields.origin : fields.origin?.toUpperCase()) ?? '-', fields.med?.toString() ?? '-', fields.local_pref?.toString() ?? '-', communities || '-']);
      const others = otherAttributes(fields);
      if (others.length > 0) this.ui.line(`    ${others.join('; ')}`);
    }
  }

  private tableRow(sign: string, peer: string, cells: string[]): void {
    if (!this.headerPrinted) {
      this.headerPrinted = true;
      const header = ['PREFIX', 'NEXT HOP', 'AS PATH', 'ORIGIN', 'MED', 'LOCAL-PREF', 'COMMUNITIES'];
      this.tableRow(' ', 'PEER', header);
    }
    this.ui.line(`${sign} ${this.routeTable.format(this.manyPeers ? [peer, ...cells] : cells)}`);
  }

  private endOfRib(peer: string, family: Family): void {
    if (this.ui.json) {
      if (!this.quiet) this.ui.emit('end-of-rib', { peer, family: familyName(family) });
    } else {
      this.ui.note(`${this.manyPeers ? `${peer}: ` : ''}End-of-RIB for ${familyName(family)}`);
    }
  }

  private malformed(peer: string, errors: BgpError[]): void {
    for (const error of errors) {
      const text = `${describeNotification(error.code, error.subcode)} — ${error.reason}`;
      if (this.ui.json) this.ui.emit('malformed', { peer, action: ERROR_ACTION_NAMES[error.action], reason: text });
      else this.ui.warn(`${peer}: malformed UPDATE handled per RFC 7606 (${ERROR_ACTION_NAMES[error.action]}): ${text}`);
    }
  }

  summary(watch: Watch, routes: number, failure: string | undefined): void {
    this.status?.stop();
    const fields = summaryFields(watch, routes);
    if (this.ui.json) {
      this.ui.emit('summary', { ...fields, reason: failure });
      return;
    }
    if (failure !== undefined) {
      this.ui.line(`${watch.peer}: no session: ${failure}`);
      return;
    }
    this.ui.line(summaryLine(watch, routes));
  }

  /** The listener keeps one session per speaker, so one watch each; `held` is what each still held at the end. */
  listenSummary(watches: Watch[], held: number[]): void {
    this.status?.stop();
    for (const [index, watch] of watches.entries()) {
      const fields = summaryFields(watch, held[index]!);
      if (this.ui.json) this.ui.emit('summary', { ...fields, reason: watch.established ? undefined : watch.lastFailure });
      else this.ui.line(watch.established ? summaryLine(watch, held[index]) : `${watch.peer}: no session: ${watch.lastFailure ?? 'it never finished the OPEN exchange'}`);
    }
    if (watches.length === 0) {
      if (this.ui.json) this.ui.emit('summary', { speakers: 0 });
      else this.ui.line('No speaker connected.');
    }
  }
}

/** The heap the routes hold, measured while the Adj-RIB-In still has them. */
function measureHeap(watch: Watch, routes: number): void {
  if (watch.heapAtEstablished !== undefined && routes >= MIN_ROUTES_FOR_MEMORY) watch.bytesPerRoute = Math.round((heapUsed() - watch.heapAtEstablished) / routes);
}

function summaryFields(watch: Watch, routes: number): Record<string, unknown> {
  return {
    peer: watch.peer,
    established: watch.established,
    routes,
    updates: watch.updates,
    announced: watch.announced,
    withdrawn: watch.withdrawn,
    malformed: watch.malformed,
    heap_bytes_per_route: watch.bytesPerRoute,
    first_update_ts: watch.firstUpdate?.toISOString(),
    last_update_ts: watch.lastUpdate?.toISOString(),
  };
}

function summaryLine(watch: Watch, routes?: number): string {
  const held = routes === undefined ? '' : `, ${routes} route(s) held`;
  return `${watch.peer}: session established; ${watch.updates} UPDATE(s): ${watch.announced} route(s) announced, ${watch.withdrawn} withdrawn${held}, ${watch.malformed} malformed`;
}

/** After a collection when node runs with --expose-gc, so the figure is what routes keep alive. */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/** What a route carries beyond the table's columns, one "name value" each: the rarer
 *  attributes a troubleshooter still needs to see (route reflection, AIGP, OTC, BGPsec,
 *  unknown ones). */
function otherAttributes(fields: RouteJson): string[] {
  return [
    fields.atomic_aggregate && 'ATOMIC_AGGREGATE',
    fields.aggregator && `AGGREGATOR ${fields.aggregator}`,
    fields.originator_id && `ORIGINATOR_ID ${fields.originator_id}`,
    fields.cluster_list && `CLUSTER_LIST ${fields.cluster_list.join(' ')}`,
    fields.aigp !== undefined && `AIGP ${fields.aigp}`,
    fields.otc !== undefined && `OTC ${fields.otc}`,
    fields.bgpsec_signatures && `BGPsec signatures ${fields.bgpsec_signatures.join(', ')}`,
    ...(fields.unknown_attributes ?? []),
  ].filter((text): text is string => typeof text === 'string');
}

/** A received route as the JSON contract writes it (DESIGN.md), with its ADD-PATH path identifier when it has one. */
export function routeFields(route: ReceivedRoute): { prefix: string; path_id?: number } & RouteJson {
  return { prefix: route.prefix, ...(route.pathId !== undefined ? { path_id: route.pathId } : {}), ...routeJson(route.attributes, route.prefix.includes(':')) };
}

/** A prefix as the route table shows it: "203.0.113.0/24", or "203.0.113.0/24 path 3" under ADD-PATH. */
function withPath({ prefix, pathId }: RouteKey): string {
  return pathId === undefined ? prefix : `${prefix} path ${pathId}`;
}

/** "OPEN Message Error / Bad Peer AS", with what the bytes and our settings tell about it. */
function explainNotification(message: NotificationMessage, session: BgpSession): string {
  const base = describeNotification(message.code, message.subcode) + (message.communication ? ` ("${message.communication}")` : '');
  if (message.code !== ErrorCode.Open) return base;
  const local = session.localOpenMessage;
  const { config } = session;
  switch (message.subcode) {
    case OpenSubcode.BadPeerAs: {
      // RFC 4271 6.2 gives Bad Peer AS no data; BIRD puts the AS it received there, others the one they expected.
      const data = message.data;
      const named = data?.length === 2 ? data.readUInt16BE(0) : data?.length === 4 ? data.readUInt32BE(0) : undefined;
      if (named !== undefined && named !== config.localAs) return `${base} — it expects AS ${named}, we sent ${config.localAs} (--my-asn)`;
      return `${base} — it does not expect AS ${config.localAs}, which we sent (--my-asn): its neighbour configuration names another AS for us`;
    }
    case OpenSubcode.BadBgpIdentifier:
      return `${base} — we sent router id ${local?.bgpIdentifier ?? config.routerId}: give another with --router-id`;
    case OpenSubcode.UnacceptableHoldTime:
      return `${base} — we sent hold time ${config.holdTime} s: try another --hold-time`;
    case OpenSubcode.UnsupportedCapability:
      return `${base} — the peer requires a capability we did not send${message.data?.length ? ` (code ${message.data[0]})` : ''}`;
    default:
      return base;
  }
}

function agreedCapabilities(negotiated: NegotiatedSession): string[] {
  return [
    ...negotiated.families.map((family) => `multiprotocol ${familyName(family)}`),
    ...(negotiated.routeRefresh ? ['route-refresh'] : []),
    ...(negotiated.enhancedRouteRefresh ? ['enhanced-route-refresh'] : []),
    ...(negotiated.extendedMessage ? ['extended-message'] : []),
    ...(negotiated.fourOctetAs ? ['four-octet-as'] : []),
    ...(negotiated.gracefulRestart ? ['graceful-restart'] : []),
  ];
}
