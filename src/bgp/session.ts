/**
 * One BGP session over TCP: executes what the pure FSM (fsm.ts) decides — connecting,
 * sending, timers — and feeds it what happens on the socket. Decoded UPDATEs go to the
 * Adj-RIB-In and out as events; what we announce goes through `sendUpdates` (adj-rib-out.ts
 * decides what). Every state change is an event with its reason, so a command can
 * explain a session that does not come up.
 *
 * Connection collisions (RFC 4271 6.8). A session may hold two connections at once: the
 * one it opened and the one the peer opened (`accept`), each a `Connection` with its own
 * FSM, socket and timers, as RFC 4271 8 runs one FSM per connection. When a valid OPEN
 * arrives on one while the other is in OpenConfirm (we learn the peer's BGP Identifier
 * only from its OPEN, so never earlier), the identifiers are compared as unsigned 32-bit
 * numbers: if ours is lower, the connection we opened is closed, else the one the peer
 * opened. The loser's FSM gets OpenCollisionDump (Event 23) and sends Cease / Connection
 * Collision Resolution (RFC 4486 3). A connection against an Established one loses (6.8:
 * the new one is closed), whether it arrives (`accept` refuses it) or is still in its OPEN
 * exchange; reaching Established dumps the other connection, wherever it is.
 *
 * The user sees one session: `state` is the state of its most advanced connection, and a
 * 'state' event fires when that changes. A connection that falls to Idle while another
 * lives is dropped; the last one left keeps the ConnectRetry back-off. While there are two,
 * reasons name the connection they concern.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import net from 'node:net';
import { AdjRibIn, type RibChange, type RouteKey } from './adj-rib-in.js';
import { INITIAL_STATE, step, type FsmAction, type FsmEvent, type FsmState, type Notification, type StateName, type Timer } from './fsm.js';
import { BgpError, ErrorAction } from '../wire/bgp/bgp-error.js';
import type { Capability } from '../wire/bgp/capabilities.js';
import { BgpFramer } from '../wire/bgp/header.js';
import { decodeMessage, encodeMessage, type BgpMessage } from '../wire/bgp/message.js';
import { describeNotification, encodeCommunication, type NotificationMessage } from '../wire/bgp/notification.js';
import { RouteRefreshSubtype } from '../wire/bgp/route-refresh.js';
import { CeaseSubcode, ErrorCode } from '../wire/bgp/notification-codes.js';
import { myAsField, openAsn, type OpenMessage } from '../wire/bgp/open.js';
import { BASE_CONTEXT, familyName, type Family, type SessionCodecContext } from '../wire/bgp/registry.js';
import { endOfRib, type UpdateMessage } from '../wire/bgp/update.js';
import { negotiate, validateOpen, type NegotiatedSession } from '../wire/bgp/validate.js';
import { ipv4ToBytes } from '../wire/ip-address.js';
import { applyTcpOptions, dialWithTcpOptions } from './tcp-options.js';

export const BGP_PORT = 179;

export interface SessionConfig {
  peerAddress: string;
  port: number;
  localAddress?: string;
  localAs: number;
  /** Absent: accept the AS the peer's OPEN gives, and report it. */
  peerAs?: number;
  routerId: string;
  holdTime: number;
  /** Absent: a third of the negotiated hold time (RFC 4271 10). */
  keepaliveTime?: number;
  families: Family[];
  passive: boolean;
  /**
   * Graceful restart (RFC 4724) with our forwarding state preserved for every family: after
   * we restart, the peer keeps our routes as stale for `restartTime` seconds and replaces
   * them when our End-of-RIB arrives. Absent: restart time 0, nothing preserved.
   */
  gracefulRestart?: { restartTime: number };
  /** TTL of our segments (1 towards a directly connected eBGP peer, 255 for eBGP multihop); absent: the kernel's. */
  ttl?: number;
  /** TCP-MD5 key shared with the peer (RFC 2385). */
  password?: string;
  /** Ask the peer for every path it has, not only its best (ADD-PATH receive, RFC 7911), for each family. */
  addPath?: boolean;
  connectRetry?: { initialSeconds: number; maxSeconds: number };
}

export interface SessionEvents {
  state: [{ from: StateName; to: StateName; reason: string }];
  established: [NegotiatedSession];
  /** What an UPDATE changed in the Adj-RIB-In, with the RFC 7606 errors it survived. */
  routes: [RibChange & { errors: BgpError[] }];
  'end-of-rib': [Family];
  'route-refresh': [Family];
  /** The peer's NOTIFICATION, decoded and described. */
  notification: [{ message: NotificationMessage; description: string }];
  /** A NOTIFICATION we sent, and why. */
  'notification-sent': [{ notification: Notification; description: string; reason: string }];
  down: [{ reason: string; withdrawn: RouteKey[] }];
  /** A connection attempt of ours ended before any BGP message: refused, failed, or never answered. */
  'connect-failed': [{ reason: string }];
}

/** RFC 4271 10 suggests 120 s; a troubleshooting tool wants to know sooner. */
const DEFAULT_CONNECT_RETRY = { initialSeconds: 1, maxSeconds: 60 };

/** How far a connection has got, to pick the one whose state the user sees. */
const PROGRESS: Record<StateName, number> = { Idle: 0, Connect: 1, Active: 1, OpenSent: 2, OpenConfirm: 3, Established: 4 };

type Direction = 'outgoing' | 'incoming';

const COLLISION = 'connection collision (RFC 4271 6.8)';

/** One TCP connection to the peer and the FSM that runs on it. */
class Connection {
  fsm: FsmState = INITIAL_STATE;
  socket?: net.Socket;
  /** Who opened the socket: set when one is attached, kept after it closes. */
  direction?: Direction;
  framer = new BgpFramer();
  /** How we encode what we send. */
  context: SessionCodecContext = BASE_CONTEXT;
  /** How the peer's messages are decoded: as `context`, but with the path identifiers it sends (RFC 7911 4). */
  peerContext: SessionCodecContext = BASE_CONTEXT;
  readonly timers = new Map<Timer, NodeJS.Timeout>();
  localOpen?: OpenMessage;
  peerOpen?: OpenMessage;
  negotiated?: NegotiatedSession;

  get label(): string {
    return this.direction === 'incoming' ? 'on the connection the peer opened' : 'on the connection we opened';
  }

  clearTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/** Opens the outgoing TCP connection; tests put an in-memory socket here. */
export type Dial = (options: net.NetConnectOpts) => net.Socket;

export class BgpSession extends EventEmitter<SessionEvents> {
  readonly adjRibIn = new AdjRibIn();
  /** The first is the oldest; a second exists only while a collision may happen. */
  private connections: Connection[] = [new Connection()];
  /** The state last reported in a 'state' event. */
  private shownState: StateName = 'Idle';

  private readonly dial: Dial;

  /** `dial` opens the outgoing connection (tests give in-memory sockets); by default TCP, with the config's TTL and key. */
  constructor(
    readonly config: SessionConfig,
    dial?: Dial,
  ) {
    super();
    const { ttl, password } = config;
    this.dial = dial ?? (ttl !== undefined || password !== undefined ? dialWithTcpOptions({ ...(ttl !== undefined ? { ttl } : {}), ...(password !== undefined ? { password } : {}) }) : net.connect);
  }

  get state(): StateName {
    return this.shown.fsm.name;
  }

  get negotiated(): NegotiatedSession | undefined {
    return this.shown.negotiated;
  }

  start(): void {
    this.dispatch(this.connections[0]!, { type: 'start' });
  }

  /**
   * Closes with a Cease and stays down: by default an Administrative Shutdown carrying
   * `message` (RFC 8203); other subcodes (RFC 4486) carry no text.
   */
  stop(message: string, subcode: number = CeaseSubcode.AdministrativeShutdown): Promise<void> {
    const communicates = subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset;
    return this.halt({ code: ErrorCode.Cease, subcode, ...(communicates ? { data: encodeCommunication(message) } : {}) });
  }

  /**
   * Ends the session as a failure, with a Cease / `subcode`, and tries again after the
   * connect-retry time: what RFC 5882 4.3 asks of BGP when BFD finds the peer unreachable
   * (subcode BFD Down, RFC 9384). Only a connection past its TCP handshake has a session to end.
   */
  reset(subcode: number, reason: string): void {
    for (const connection of [...this.connections]) {
      if (PROGRESS[connection.fsm.name] >= PROGRESS.OpenSent) this.dispatch(connection, { type: 'message-error', notification: { code: ErrorCode.Cease, subcode }, reason });
    }
  }

  /**
   * Closes the connection without a NOTIFICATION and stays down: a peer that helps with
   * graceful restart reads it as our restart and keeps our routes (RFC 4724 4.2).
   */
  closeForRestart(): Promise<void> {
    return this.halt(undefined);
  }

  private async halt(notification: Notification | undefined): Promise<void> {
    const sockets = this.connections.flatMap((connection) => (connection.socket ? [connection.socket] : []));
    for (const connection of [...this.connections]) this.dispatch(connection, { type: 'stop', ...(notification ? { notification } : {}) });
    await Promise.all(sockets.filter((socket) => !socket.destroyed).map((socket) => new Promise((resolve) => socket.once('close', resolve))));
  }

  /**
   * Takes a connection the peer opened: a passive session waiting for it, or a second
   * connection beside ours, for RFC 4271 6.8 to settle. Refused with a Cease / Connection
   * Collision Resolution when the session is Established or already has the peer's
   * connection; returns why it was refused, or undefined.
   */
  accept(socket: net.Socket): string | undefined {
    const established = this.connections.find((connection) => connection.fsm.name === 'Established');
    const incoming = this.connections.find((connection) => connection.socket && connection.direction === 'incoming');
    const refusal = established ? 'the session is already Established (RFC 4271 6.8: the new connection is closed)' : incoming ? `the connection the peer opened earlier is in ${incoming.fsm.name}` : undefined;
    if (refusal) {
      rejectConnection(socket, CeaseSubcode.ConnectionCollisionResolution);
      return refusal;
    }
    let connection = this.connections.find((candidate) => candidate.fsm.name === 'Active' && !candidate.socket);
    if (!connection) {
      connection = new Connection();
      connection.direction = 'incoming';
      this.connections.push(connection);
      // It only waits for this connection: whatever the session's mode, it starts passive.
      this.dispatch(connection, { type: 'start' }, true);
    }
    // A listener's connections take its TTL; this peer's may differ (a multihop peer's).
    if (this.config.ttl !== undefined) applyTcpOptions(socket, { ttl: this.config.ttl });
    this.attach(connection, socket, 'incoming');
    this.dispatch(connection, { type: 'tcp-connected' });
    return undefined;
  }

  /** Sends encoded UPDATEs (Established only, as adj-rib-out.ts packs them); false if the session is not up. */
  sendUpdates(messages: Buffer[]): boolean {
    const socket = this.shown.fsm.name === 'Established' ? this.shown.socket : undefined;
    if (!socket) return false;
    socket.cork();
    for (const message of messages) socket.write(message);
    socket.uncork();
    return true;
  }

  get codecContext(): SessionCodecContext {
    return this.shown.context;
  }

  /** Our end of the connection (the address a route's default next hop is), while there is one. */
  get localAddress(): string | undefined {
    const address = this.shown.socket?.localAddress;
    // A connection the peer opened to a dual-stack listener has an IPv4-mapped address.
    return address === undefined ? undefined : plainAddress(address);
  }

  get peerOpenMessage(): OpenMessage | undefined {
    return this.shown.peerOpen;
  }

  /** The OPEN we sent on the current (or last) connection. */
  get localOpenMessage(): OpenMessage | undefined {
    return this.shown.localOpen;
  }

  /** The connection whose state the user sees: the most advanced, the older one on a tie. */
  private get shown(): Connection {
    return this.connections.reduce((best, connection) => (PROGRESS[connection.fsm.name] > PROGRESS[best.fsm.name] ? connection : best));
  }

  /** `passive` overrides the session's mode for this step (a connection the peer opened starts passive). */
  private dispatch(connection: Connection, event: FsmEvent, passive = this.config.passive): void {
    if (!this.connections.includes(connection)) return;
    const { next, actions, reason: stepReason } = step(connection.fsm, event, { passive, connectRetry: this.config.connectRetry ?? DEFAULT_CONNECT_RETRY });
    const connecting = connection.fsm.name === 'Connect';
    const unanswered = connecting && event.type === 'timer-expired' && event.timer === 'connect-retry';
    const reason = `${stepReason}${unanswered ? this.silenceHint() : ''}${this.connections.length > 1 ? ` (${connection.label})` : ''}`;
    if (connecting && (unanswered || event.type === 'tcp-failed')) this.emit('connect-failed', { reason });
    const arrived = next.name === 'Established' && connection.fsm.name !== 'Established';
    connection.fsm = next;
    for (const action of actions) this.execute(connection, action, reason);
    if (next.name === 'Idle' && this.connections.length > 1) this.discard(connection);
    this.report(reason);
    if (!arrived) return;
    // RFC 4271 6.8: one connection per session once Established; the other goes, whatever its state.
    for (const other of this.connections.filter((candidate) => candidate !== connection)) {
      this.dispatch(other, { type: 'open-collision-dump', reason: `${COLLISION}: the session is established on the other connection, so this one closes` });
    }
  }

  /**
   * Why a connection attempt may go unanswered, not even refused: a router drops segments
   * whose TCP-MD5 signature is wrong or missing (RFC 2385 2.0), and a TTL of 1 dies at
   * the first router on the way.
   */
  private silenceHint(): string {
    if (this.config.password !== undefined) return ': the peer never answered; with a password set, a password mismatch (or none set at the peer) is the likely cause';
    if (this.config.ttl === 1) return ': the peer never answered; if it is more than one hop away, it needs ebgp-multihop=true';
    return '';
  }

  private discard(connection: Connection): void {
    connection.clearTimers();
    this.connections = this.connections.filter((candidate) => candidate !== connection);
  }

  private report(reason: string): void {
    const to = this.state;
    if (to === this.shownState) return;
    const from = this.shownState;
    this.shownState = to;
    this.emit('state', { from, to, reason });
  }

  private execute(connection: Connection, action: FsmAction, reason: string): void {
    switch (action.type) {
      case 'connect':
        return this.connect(connection);
      case 'drop-connection':
        return dropConnection(connection);
      case 'send-open':
        connection.localOpen = this.buildOpen();
        return write(connection, connection.localOpen);
      case 'send-keepalive':
        return write(connection, { type: 'keepalive' });
      case 'send-notification': {
        const { code, subcode, data } = action.notification;
        write(connection, { type: 'notification', code, subcode, data });
        this.emit('notification-sent', { notification: action.notification, description: describeNotification(code, subcode), reason });
        return;
      }
      case 'start-timer':
        return this.startTimer(connection, action.timer, action.seconds);
      case 'stop-timer':
        clearTimeout(connection.timers.get(action.timer));
        connection.timers.delete(action.timer);
        return;
      case 'established':
        this.emit('established', connection.negotiated!);
        return;
      case 'session-down':
        this.emit('down', { reason, withdrawn: this.adjRibIn.clear() });
        return;
    }
  }

  private buildOpen(): OpenMessage {
    const { localAs, holdTime, routerId, families, gracefulRestart, addPath } = this.config;
    const capabilities: Capability[] = [
      ...families.map((family): Capability => ({ type: 'multiprotocol', afi: family.afi, safi: family.safi })),
      { type: 'route-refresh' },
      { type: 'four-octet-as', asn: localAs },
      ...(addPath ? [{ type: 'add-path', families: families.map((family) => ({ ...family, receive: true, send: false })) } satisfies Capability] : []),
      // RFC 4724 3: peers such as BIRD send End-of-RIB only to a speaker that advertises it.
      {
        type: 'graceful-restart',
        restarting: false,
        notification: false,
        restartTime: gracefulRestart?.restartTime ?? 0,
        families: gracefulRestart ? families.map((family) => ({ ...family, forwardingState: true })) : [],
      },
    ];
    return { type: 'open', version: 4, myAs: myAsField(localAs), holdTime, bgpIdentifier: routerId, capabilities };
  }

  private connect(connection: Connection): void {
    const { peerAddress, port, localAddress } = this.config;
    const socket = this.dial({ host: peerAddress, port, localAddress, family: isIP(peerAddress) });
    this.attach(connection, socket, 'outgoing');
    socket.once('connect', () => this.dispatch(connection, { type: 'tcp-connected' }));
  }

  private attach(connection: Connection, socket: net.Socket, direction: Direction): void {
    connection.socket = socket;
    connection.direction = direction;
    connection.framer = new BgpFramer();
    connection.context = BASE_CONTEXT;
    connection.peerContext = BASE_CONTEXT;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(connection, chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => this.connectionLost(connection, socket, describeSocketError(error, this.config)));
    socket.once('end', () => this.connectionLost(connection, socket, 'the peer closed the connection'));
    socket.once('close', () => this.connectionLost(connection, socket, 'the connection closed'));
  }

  private connectionLost(connection: Connection, socket: net.Socket, reason: string): void {
    if (socket !== connection.socket) return;
    connection.socket = undefined;
    socket.destroy();
    this.dispatch(connection, { type: 'tcp-failed', reason });
  }

  private startTimer(connection: Connection, timer: Timer, seconds: number): void {
    clearTimeout(connection.timers.get(timer));
    // RFC 4271 10: jitter ConnectRetry and Keepalive by 75-100% so peers do not synchronise.
    const jitter = timer === 'hold' ? 1 : 0.75 + Math.random() * 0.25;
    connection.timers.set(
      timer,
      setTimeout(() => {
        connection.timers.delete(timer);
        this.dispatch(connection, { type: 'timer-expired', timer });
      }, seconds * 1000 * jitter),
    );
  }

  private receive(connection: Connection, chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = connection.framer.push(chunk);
    } catch (error) {
      return this.refuse(connection, error);
    }
    for (const bytes of messages) {
      if (!connection.socket) return;
      try {
        this.handle(connection, decodeMessage(bytes, connection.peerContext));
      } catch (error) {
        this.refuse(connection, error);
      }
    }
  }

  private refuse(connection: Connection, error: unknown): void {
    if (!(error instanceof BgpError)) {
      // A bug while handling the peer's message must not take a long-running process down:
      // this session resets with the bug in its reason, and the others carry on.
      this.dispatch(connection, { type: 'message-error', notification: { code: ErrorCode.Cease, subcode: 0 }, reason: `internal error (please report it): ${String(error)}` });
      return;
    }
    const what = error.code === ErrorCode.Open ? 'OPEN' : 'message';
    this.dispatch(connection, { type: 'message-error', notification: error.toNotification(), reason: `we rejected the peer's ${what}: ${describeNotification(error.code, error.subcode)} — ${error.reason}` });
  }

  private handle(connection: Connection, message: BgpMessage): void {
    switch (message.type) {
      case 'open':
        return this.receiveOpen(connection, message);
      case 'keepalive':
        return this.dispatch(connection, { type: 'keepalive-received' });
      case 'notification':
        return this.receiveNotification(connection, message);
      case 'update':
        return this.receiveUpdate(connection, message);
      case 'route-refresh':
        // RFC 7313 3.2: only a Request asks us to send again; BoRR/EoRR only bracket the peer's own refresh.
        if (connection.fsm.name === 'Established' && message.subtype === RouteRefreshSubtype.Request) this.emit('route-refresh', { afi: message.afi, safi: message.safi });
        return;
    }
  }

  private receiveOpen(connection: Connection, open: OpenMessage): void {
    // An OPEN outside OpenSent is an FSM error; the FSM answers it whatever the timers say.
    if (connection.fsm.name !== 'OpenSent') return this.dispatch(connection, { type: 'open-received', timers: { holdTime: 0, keepaliveTime: 0 } });
    validateOpen(open, { expectedPeerAs: this.config.peerAs, localRouterId: this.config.routerId, localAs: this.config.localAs });
    const rival = this.connections.find((other) => other !== connection && (other.fsm.name === 'OpenConfirm' || other.fsm.name === 'Established'));
    if (rival) {
      const { loser, reason } = this.resolveCollision(connection, rival, open);
      this.dispatch(loser, { type: 'open-collision-dump', reason });
      if (loser === connection) return;
    }
    connection.peerOpen = open;
    connection.negotiated = negotiate(connection.localOpen!, open, { keepaliveTime: this.config.keepaliveTime });
    connection.context = connection.negotiated.context;
    connection.peerContext = connection.negotiated.peerContext;
    connection.framer.extendedMessage = connection.negotiated.extendedMessage;
    this.dispatch(connection, { type: 'open-received', timers: { holdTime: connection.negotiated.holdTime, keepaliveTime: connection.negotiated.keepaliveTime } });
  }

  /**
   * RFC 4271 6.8: `opened` just received the peer's OPEN while `rival` is in OpenConfirm
   * or Established. Against Established the new connection loses. Otherwise the lower
   * BGP Identifier (unsigned 32-bit) loses the connection it opened; equal identifiers
   * (eBGP, RFC 6286 3) fall back to the AS numbers the same way.
   */
  private resolveCollision(opened: Connection, rival: Connection, open: OpenMessage): { loser: Connection; reason: string } {
    if (rival.fsm.name === 'Established') return { loser: opened, reason: `${COLLISION}: the session is already established on the other connection, so this one closes` };
    const ours = ipv4ToBytes(this.config.routerId).readUInt32BE(0);
    const theirs = ipv4ToBytes(open.bgpIdentifier).readUInt32BE(0);
    const peerAs = openAsn(open);
    const weAreLower = ours === theirs ? this.config.localAs < peerAs : ours < theirs;
    const closing: Direction = weAreLower ? 'outgoing' : 'incoming';
    const loser = rival.direction === closing ? rival : opened;
    const relation = weAreLower ? 'lower' : 'higher';
    const compared = ours === theirs ? `both BGP identifiers are ${open.bgpIdentifier} and our AS ${this.config.localAs} is ${relation} than the peer's ${peerAs}` : `our BGP identifier ${this.config.routerId} is ${relation} than the peer's ${open.bgpIdentifier}`;
    return { loser, reason: `${COLLISION}: ${compared}, so the connection ${closing === 'outgoing' ? 'we' : 'the peer'} opened closes` };
  }

  private receiveNotification(connection: Connection, message: NotificationMessage): void {
    const description = describeNotification(message.code, message.subcode) + (message.communication ? ` ("${message.communication}")` : '');
    this.emit('notification', { message, description });
    this.dispatch(connection, { type: 'notification-received', notification: message, reason: description });
  }

  private receiveUpdate(connection: Connection, update: UpdateMessage): void {
    if (connection.fsm.name !== 'Established') return this.dispatch(connection, { type: 'update-received' });
    this.dispatch(connection, { type: 'update-received' });
    const family = endOfRib(update);
    if (family) {
      this.emit('end-of-rib', family);
      return;
    }
    const errors = update.errors ?? [];
    const disabled = errors.find((error) => error.action === ErrorAction.AfiSafiDisable);
    if (disabled?.family) {
      // RFC 7606 5.4 / RFC 4760 7: with no way to disable one family alone here, reset.
      this.dispatch(connection, { type: 'message-error', notification: disabled.toNotification(), reason: `${familyName(disabled.family)}: ${disabled.message}` });
      return;
    }
    this.emit('routes', { ...this.adjRibIn.apply(update, connection.peerContext), errors });
  }
}

function dropConnection(connection: Connection): void {
  const socket = connection.socket;
  connection.socket = undefined;
  // end() lets a NOTIFICATION written just before reach the peer; destroy follows shortly.
  if (socket && !socket.destroyed) {
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

function write(connection: Connection, message: BgpMessage): void {
  const socket = connection.socket;
  if (socket && !socket.destroyed) socket.write(encodeMessage(message, connection.context));
}

/** `::ffff:192.0.2.11` (an IPv4 peer on a dual-stack socket) is 192.0.2.11. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * Gives a connection a speaker opened to us to the session `sessionFor` names for its
 * address, which may refuse it beside one of its own (RFC 4271 6.8); where there is no
 * session (`sessionFor` says why instead), refuses it with a Cease / Connection Rejected
 * (RFC 4486 4). Returns the speaker's address and, if refused, why.
 */
export function handOverConnection(socket: net.Socket, sessionFor: (address: string) => BgpSession | string): { address: string; refused?: string } {
  // An error on a socket nobody has taken yet must not reach the process.
  socket.on('error', () => socket.destroy());
  const address = plainAddress(socket.remoteAddress ?? '');
  const session = sessionFor(address);
  if (typeof session === 'string') {
    rejectConnection(socket);
    return { address, refused: session };
  }
  const refused = session.accept(socket);
  return refused === undefined ? { address } : { address, refused };
}

/** Refuses a connection with a Cease NOTIFICATION (RFC 4486: Connection Rejected by default) and closes it. */
export function rejectConnection(socket: net.Socket, subcode: number = CeaseSubcode.ConnectionRejected): void {
  socket.on('error', () => socket.destroy());
  socket.end(encodeMessage({ type: 'notification', code: ErrorCode.Cease, subcode }, BASE_CONTEXT));
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Socket errors in words a user can act on. */
function describeSocketError(error: NodeJS.ErrnoException, config: SessionConfig): string {
  const where = `${config.peerAddress} port ${config.port}`;
  switch (error.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}: nothing listens there (is BGP configured on the peer, on this port?)`;
    case 'EHOSTUNREACH':
      return `no route to host ${config.peerAddress}`;
    case 'ENETUNREACH':
      return `network unreachable: no route to ${config.peerAddress}`;
    case 'ETIMEDOUT':
      return `connection to ${where} timed out`;
    case 'ECONNRESET':
      return 'the peer reset the connection';
    case 'EADDRNOTAVAIL':
      return `the source address ${config.localAddress} is not configured on this host`;
    case 'EPIPE':
      return 'the connection broke while sending';
    default:
      return `${error.code ?? 'socket error'}: ${error.message}`;
  }
}
