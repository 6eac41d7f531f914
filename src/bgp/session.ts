/**
 * One BGP session over TCP: executes what the pure FSM (fsm.ts) decides — connecting,
 * sending, timers — and feeds it what happens on the socket. Decoded UPDATEs go to the
 * Adj-RIB-In and out as events; what we announce goes through `send` (adj-rib-out.ts
 * decides what). Every state change is an event with its reason, so a command can
 * explain a session that does not come up.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import net from 'node:net';
import { AdjRibIn, type RibChange } from './adj-rib-in.js';
import { INITIAL_STATE, step, type FsmAction, type FsmEvent, type FsmState, type Notification, type StateName, type Timer } from './fsm.js';
import { BgpError, ErrorAction } from '../wire/bgp/bgp-error.js';
import type { Capability } from '../wire/bgp/capabilities.js';
import { BgpFramer } from '../wire/bgp/header.js';
import { decodeMessage, encodeMessage, type BgpMessage } from '../wire/bgp/message.js';
import { describeNotification, type NotificationMessage } from '../wire/bgp/notification.js';
import { CeaseSubcode, ErrorCode } from '../wire/bgp/notification-codes.js';
import { myAsField, type OpenMessage } from '../wire/bgp/open.js';
import { BASE_CONTEXT, familyName, type Family, type SessionCodecContext } from '../wire/bgp/registry.js';
import { endOfRib, type UpdateMessage } from '../wire/bgp/update.js';
import { negotiate, validateOpen, type NegotiatedSession } from '../wire/bgp/validate.js';

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
  down: [{ reason: string; withdrawn: string[] }];
}

/** RFC 4271 10 suggests 120 s; a troubleshooting tool wants to know sooner. */
const DEFAULT_CONNECT_RETRY = { initialSeconds: 1, maxSeconds: 60 };

export class BgpSession extends EventEmitter<SessionEvents> {
  readonly adjRibIn = new AdjRibIn();
  private fsm: FsmState = INITIAL_STATE;
  private socket?: net.Socket;
  private framer = new BgpFramer();
  private context: SessionCodecContext = BASE_CONTEXT;
  private readonly timers = new Map<Timer, NodeJS.Timeout>();
  private localOpen?: OpenMessage;
  private peerOpen?: OpenMessage;
  negotiated?: NegotiatedSession;

  constructor(readonly config: SessionConfig) {
    super();
  }

  get state(): StateName {
    return this.fsm.name;
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** Closes with a Cease / Administrative Shutdown carrying `message` (RFC 8203), and stays down. */
  async stop(message: string): Promise<void> {
    const data = Buffer.concat([Buffer.from([Buffer.byteLength(message)]), Buffer.from(message)]);
    const socket = this.socket;
    this.dispatch({ type: 'stop', notification: { code: ErrorCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown, data } });
    if (socket && !socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
  }

  /** A passive session takes the connection its listener accepted from the peer. */
  accept(socket: net.Socket): void {
    if (this.socket || this.fsm.name !== 'Active') {
      // RFC 4271 6.8 would compare BGP Identifiers; one connection per session is kept here.
      socket.destroy();
      return;
    }
    this.attach(socket);
    this.dispatch({ type: 'tcp-connected' });
  }

  /** Sends encoded UPDATEs (Established only, as adj-rib-out.ts packs them); false if the session is not up. */
  sendUpdates(messages: Buffer[]): boolean {
    if (this.fsm.name !== 'Established' || !this.socket) return false;
    this.socket.cork();
    for (const message of messages) this.socket.write(message);
    this.socket.uncork();
    return true;
  }

  get codecContext(): SessionCodecContext {
    return this.context;
  }

  /** Our end of the connection (the address a route's default next hop is), while there is one. */
  get localAddress(): string | undefined {
    return this.socket?.localAddress;
  }

  private dispatch(event: FsmEvent): void {
    const { next, actions, reason } = step(this.fsm, event, { passive: this.config.passive, connectRetry: this.config.connectRetry ?? DEFAULT_CONNECT_RETRY });
    const from = this.fsm.name;
    this.fsm = next;
    for (const action of actions) this.execute(action, reason);
    if (from !== next.name) this.emit('state', { from, to: next.name, reason });
  }

  private execute(action: FsmAction, reason: string): void {
    switch (action.type) {
      case 'connect':
        return this.connect();
      case 'drop-connection':
        return this.dropConnection();
      case 'send-open':
        this.localOpen = this.buildOpen();
        return this.write(this.localOpen);
      case 'send-keepalive':
        return this.write({ type: 'keepalive' });
      case 'send-notification': {
        const { code, subcode, data } = action.notification;
        this.write({ type: 'notification', code, subcode, data });
        this.emit('notification-sent', { notification: action.notification, description: describeNotification(code, subcode), reason });
        return;
      }
      case 'start-timer':
        return this.startTimer(action.timer, action.seconds);
      case 'stop-timer':
        clearTimeout(this.timers.get(action.timer));
        this.timers.delete(action.timer);
        return;
      case 'established':
        this.emit('established', this.negotiated!);
        return;
      case 'session-down':
        this.emit('down', { reason, withdrawn: this.adjRibIn.clear() });
        return;
    }
  }

  private buildOpen(): OpenMessage {
    const { localAs, holdTime, routerId, families } = this.config;
    const capabilities: Capability[] = [
      ...families.map((family): Capability => ({ type: 'multiprotocol', afi: family.afi, safi: family.safi })),
      { type: 'route-refresh' },
      { type: 'four-octet-as', asn: localAs },
      // RFC 4724: restart time 0 and no forwarding state kept; peers such as BIRD then send End-of-RIB.
      { type: 'graceful-restart', restarting: false, notification: false, restartTime: 0, families: [] },
    ];
    return { type: 'open', version: 4, myAs: myAsField(localAs), holdTime, bgpIdentifier: routerId, capabilities };
  }

  private connect(): void {
    const { peerAddress, port, localAddress } = this.config;
    const socket = net.connect({ host: peerAddress, port, localAddress, family: isIP(peerAddress) });
    this.attach(socket);
    socket.once('connect', () => this.dispatch({ type: 'tcp-connected' }));
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.framer = new BgpFramer();
    this.context = BASE_CONTEXT;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => this.connectionLost(socket, describeSocketError(error, this.config)));
    socket.once('end', () => this.connectionLost(socket, 'the peer closed the connection'));
    socket.once('close', () => this.connectionLost(socket, 'the connection closed'));
  }

  private connectionLost(socket: net.Socket, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    socket.destroy();
    this.dispatch({ type: 'tcp-failed', reason });
  }

  private dropConnection(): void {
    const socket = this.socket;
    this.socket = undefined;
    // end() lets a NOTIFICATION written just before reach the peer; destroy follows shortly.
    if (socket && !socket.destroyed) {
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    }
  }

  private write(message: BgpMessage): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(encodeMessage(message, this.context));
  }

  private startTimer(timer: Timer, seconds: number): void {
    clearTimeout(this.timers.get(timer));
    // RFC 4271 10: jitter ConnectRetry and Keepalive by 75-100% so peers do not synchronise.
    const jitter = timer === 'hold' ? 1 : 0.75 + Math.random() * 0.25;
    this.timers.set(
      timer,
      setTimeout(() => {
        this.timers.delete(timer);
        this.dispatch({ type: 'timer-expired', timer });
      }, seconds * 1000 * jitter),
    );
  }

  private receive(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.framer.push(chunk);
    } catch (error) {
      return this.refuse(error);
    }
    for (const bytes of messages) {
      if (!this.socket) return;
      try {
        this.handle(decodeMessage(bytes, this.context));
      } catch (error) {
        this.refuse(error);
      }
    }
  }

  private refuse(error: unknown): void {
    if (!(error instanceof BgpError)) throw error;
    const what = error.code === ErrorCode.Open ? 'OPEN' : 'message';
    this.dispatch({ type: 'message-error', notification: error.toNotification(), reason: `we rejected the peer's ${what}: ${describeNotification(error.code, error.subcode)} — ${error.reason}` });
  }

  private handle(message: BgpMessage): void {
    switch (message.type) {
      case 'open':
        return this.receiveOpen(message);
      case 'keepalive':
        return this.dispatch({ type: 'keepalive-received' });
      case 'notification':
        return this.receiveNotification(message);
      case 'update':
        return this.receiveUpdate(message);
      case 'route-refresh':
        if (this.fsm.name === 'Established') this.emit('route-refresh', { afi: message.afi, safi: message.safi });
        return;
    }
  }

  private receiveOpen(open: OpenMessage): void {
    // An OPEN outside OpenSent is an FSM error; the FSM answers it whatever the timers say.
    if (this.fsm.name !== 'OpenSent') return this.dispatch({ type: 'open-received', timers: { holdTime: 0, keepaliveTime: 0 } });
    validateOpen(open, { expectedPeerAs: this.config.peerAs, localRouterId: this.config.routerId, localAs: this.config.localAs });
    this.peerOpen = open;
    this.negotiated = negotiate(this.localOpen!, open, { keepaliveTime: this.config.keepaliveTime });
    this.context = this.negotiated.context;
    this.framer.extendedMessage = this.negotiated.extendedMessage;
    this.dispatch({ type: 'open-received', timers: { holdTime: this.negotiated.holdTime, keepaliveTime: this.negotiated.keepaliveTime } });
  }

  private receiveNotification(message: NotificationMessage): void {
    const description = describeNotification(message.code, message.subcode) + (message.communication ? ` ("${message.communication}")` : '');
    this.emit('notification', { message, description });
    this.dispatch({ type: 'notification-received', notification: message, reason: description });
  }

  private receiveUpdate(update: UpdateMessage): void {
    if (this.fsm.name !== 'Established') return this.dispatch({ type: 'update-received' });
    this.dispatch({ type: 'update-received' });
    const family = endOfRib(update);
    if (family) {
      this.emit('end-of-rib', family);
      return;
    }
    const errors = update.errors ?? [];
    const disabled = errors.find((error) => error.action === ErrorAction.AfiSafiDisable);
    if (disabled?.family) {
      // RFC 7606 5.4 / RFC 4760 7: with no way to disable one family alone here, reset.
      this.dispatch({ type: 'message-error', notification: disabled.toNotification(), reason: `${familyName(disabled.family)}: ${disabled.message}` });
      return;
    }
    this.emit('routes', { ...this.adjRibIn.apply(update, this.context), errors });
  }

  get peerOpenMessage(): OpenMessage | undefined {
    return this.peerOpen;
  }

  /** The OPEN we sent on the current (or last) connection. */
  get localOpenMessage(): OpenMessage | undefined {
    return this.localOpen;
  }
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
