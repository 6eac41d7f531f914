/**
 * The BGP finite state machine of RFC 4271 section 8, as a pure function: `step(state,
 * event)` returns the next state, the actions to carry out (send, connect, start a timer)
 * and the reason, so logs explain every transition. Sockets and timers live in
 * session.ts, which executes the actions and feeds back events.
 *
 * One FSM runs per TCP connection (RFC 4271 8: while a collision is unresolved a peer
 * has two). Detecting a collision needs both connections, so session.ts does it (RFC 4271
 * 6.8) and tells the losing FSM with Event 23, OpenCollisionDump: Cease / Connection
 * Collision Resolution (RFC 4486), and Idle.
 *
 * Left out, as RFC 4271 8.1 allows: DelayOpen, DampPeerOscillations. AutomaticStart is
 * always on: after an error the session goes to Idle and starts again when the
 * ConnectRetry timer (with exponential back-off) expires.
 */
import { CeaseSubcode, ErrorCode } from '../wire/bgp/notification-codes.js';

export type StateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export type Timer = 'connect-retry' | 'hold' | 'keepalive';

export interface Notification {
  code: number;
  subcode: number;
  data?: Buffer;
}

/** Timers agreed from both OPENs (RFC 4271 4.2: the smaller hold time; 0 disables both). */
export interface NegotiatedTimers {
  holdTime: number;
  keepaliveTime: number;
}

export type FsmEvent =
  | { type: 'start' }
  /** ManualStop; without a notification the connection just closes (a restart, RFC 4724 4.2). */
  | { type: 'stop'; notification?: Notification }
  | { type: 'timer-expired'; timer: Timer }
  | { type: 'tcp-connected' }
  | { type: 'tcp-failed'; reason: string }
  /** An OPEN that passed validation (validation failures arrive as message-error). */
  | { type: 'open-received'; timers: NegotiatedTimers }
  /** Anything received that must reset the session, with the NOTIFICATION to send. */
  | { type: 'message-error'; notification: Notification; reason: string }
  | { type: 'notification-received'; notification: Notification; reason: string }
  | { type: 'keepalive-received' }
  | { type: 'update-received' }
  /** RFC 4271 8.1.4 Event 23: this connection lost a collision (session.ts says why). */
  | { type: 'open-collision-dump'; reason: string };

export type FsmAction =
  | { type: 'connect' }
  | { type: 'drop-connection' }
  | { type: 'send-open' }
  | { type: 'send-keepalive' }
  | { type: 'send-notification'; notification: Notification }
  | { type: 'start-timer'; timer: Timer; seconds: number }
  | { type: 'stop-timer'; timer: Timer }
  | { type: 'established' }
  /** Left Established: routes learned from the peer are gone. */
  | { type: 'session-down' };

export interface FsmConfig {
  /** Wait for the peer to connect instead of connecting (RFC 4271 8.1.1 PassiveTcpEstablishment). */
  passive: boolean;
  /** ConnectRetry back-off: the first wait, doubled per consecutive failure up to the cap. */
  connectRetry: { initialSeconds: number; maxSeconds: number };
}

export interface FsmState {
  name: StateName;
  /** Consecutive failed attempts, for the back-off (RFC 4271 8: ConnectRetryCounter). */
  connectRetryCounter: number;
  timers?: NegotiatedTimers;
}

export interface Step {
  next: FsmState;
  actions: FsmAction[];
  reason: string;
}

export const INITIAL_STATE: FsmState = { name: 'Idle', connectRetryCounter: 0 };

/** RFC 4271 8.2.2: "a large value"; 4 minutes is suggested, while the OPEN exchange lasts. */
const LARGE_HOLD_TIME = 240;

/** RFC 6608 FSM error subcodes: an unexpected message in OpenSent, OpenConfirm, Established. */
const UNEXPECTED_IN: Partial<Record<StateName, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };
const HOLD_TIMER_EXPIRED: Notification = { code: ErrorCode.HoldTimerExpired, subcode: 0 };
/** RFC 4486 3: Cease / Connection Collision Resolution. */
const COLLISION_RESOLUTION: Notification = { code: ErrorCode.Cease, subcode: CeaseSubcode.ConnectionCollisionResolution };

export function step(state: FsmState, event: FsmEvent, config: FsmConfig): Step {
  switch (state.name) {
    case 'Idle':
      return idle(state, event, config);
    case 'Connect':
    case 'Active':
      return connecting(state, event, config);
    case 'OpenSent':
      return openSent(state, event, config);
    case 'OpenConfirm':
      return openConfirm(state, event, config);
    case 'Established':
      return established(state, event, config);
  }
}

function idle(state: FsmState, event: FsmEvent, config: FsmConfig): Step {
  // A stop between retries cancels the pending restart.
  if (event.type === 'stop') return stopped(state, event.notification);
  const starts = event.type === 'start' || (event.type === 'timer-expired' && event.timer === 'connect-retry');
  if (!starts) return ignore(state, event);
  const reason = event.type === 'start' ? 'started' : 'connect-retry timer expired: starting again';
  if (config.passive) return { next: { ...state, name: 'Active' }, actions: [], reason: `${reason}; waiting for the peer to connect` };
  return {
    next: { ...state, name: 'Connect' },
    actions: [{ type: 'start-timer', timer: 'connect-retry', seconds: backoff(state, config) }, { type: 'connect' }],
    reason: `${reason}; connecting`,
  };
}

/** Connect and Active differ only in whether a connection attempt is under way. */
function connecting(state: FsmState, event: FsmEvent, config: FsmConfig): Step {
  switch (event.type) {
    case 'timer-expired':
      if (event.timer !== 'connect-retry' || config.passive) return ignore(state, event);
      return {
        next: { ...state, name: 'Connect' },
        actions: [{ type: 'drop-connection' }, { type: 'start-timer', timer: 'connect-retry', seconds: backoff(state, config) }, { type: 'connect' }],
        reason: 'connect-retry timer expired: connecting again',
      };
    case 'tcp-connected':
      return {
        next: { ...state, name: 'OpenSent' },
        actions: [{ type: 'stop-timer', timer: 'connect-retry' }, { type: 'send-open' }, { type: 'start-timer', timer: 'hold', seconds: LARGE_HOLD_TIME }],
        reason: 'TCP connection established: OPEN sent',
      };
    case 'tcp-failed':
      return down(state, config, `TCP connection failed: ${event.reason}`, []);
    case 'open-collision-dump':
      // No BGP message exchanged yet: nothing to tell the peer.
      return down(state, config, event.reason, []);
    case 'stop':
      return stopped(state, event.notification);
    case 'start':
      return ignore(state, event);
    default:
      // RFC 4271 8.2.2: any other event in Connect/Active drops the connection and goes to Idle.
      return down(state, config, `unexpected ${describe(event)} in ${state.name}`, []);
  }
}

function openSent(state: FsmState, event: FsmEvent, config: FsmConfig): Step {
  switch (event.type) {
    case 'open-received': {
      const { timers } = event;
      return {
        next: { ...state, name: 'OpenConfirm', timers },
        actions: [{ type: 'send-keepalive' }, ...restartTimers(timers)],
        reason: timers.holdTime === 0 ? 'OPEN received: hold time 0, no keepalives' : `OPEN received: hold time ${timers.holdTime} s, keepalive every ${timers.keepaliveTime} s`,
      };
    }
    case 'tcp-failed':
      return down(state, config, `TCP connection closed while waiting for the peer's OPEN: ${event.reason}`, []);
    default:
      return common(state, event, config);
  }
}

function openConfirm(state: FsmState, event: FsmEvent, config: FsmConfig): Step {
  switch (event.type) {
    case 'keepalive-received':
      return {
        next: { ...state, name: 'Established', connectRetryCounter: 0 },
        actions: [...restartHold(state), { type: 'established' }],
        reason: 'KEEPALIVE received: session established',
      };
    case 'tcp-failed':
      return down(state, config, `TCP connection closed before the peer's KEEPALIVE: ${event.reason}`, []);
    default:
      return common(state, event, config);
  }
}

function established(state: FsmState, event: FsmEvent, config: FsmConfig): Step {
  switch (event.type) {
    case 'keepalive-received':
    case 'update-received':
      return { next: state, actions: restartHold(state), reason: `${describe(event)}: hold timer restarted` };
    case 'tcp-failed':
      return down(state, config, `TCP connection closed: ${event.reason}`, []);
    default:
      return common(state, event, config);
  }
}

/** What OpenSent, OpenConfirm and Established do alike. */
function common(state: FsmState, event: FsmEvent, config: FsmConfig): Step {
  switch (event.type) {
    case 'timer-expired':
      if (event.timer === 'hold') return down(state, config, 'hold timer expired: no message from the peer in time', [notify(HOLD_TIMER_EXPIRED)]);
      if (event.timer === 'keepalive' && state.timers) {
        return { next: state, actions: [{ type: 'send-keepalive' }, { type: 'start-timer', timer: 'keepalive', seconds: state.timers.keepaliveTime }], reason: 'keepalive timer expired: KEEPALIVE sent' };
      }
      return ignore(state, event);
    case 'message-error':
      return down(state, config, event.reason, [notify(event.notification)]);
    case 'notification-received':
      return down(state, config, `peer closed: ${event.reason}`, []);
    case 'open-collision-dump':
      // RFC 4271 8.2.2 Event 23 in OpenSent, OpenConfirm (and Established): a Cease, then Idle.
      return down(state, config, event.reason, [notify(COLLISION_RESOLUTION)]);
    case 'stop':
      return stopped(state, event.notification);
    case 'start':
      return ignore(state, event);
    default:
      return down(state, config, `unexpected ${describe(event)} in ${state.name}`, [notify({ code: ErrorCode.FiniteStateMachine, subcode: UNEXPECTED_IN[state.name] ?? 0 })]);
  }
}

/** To Idle after a failure: close, and try again after the back-off (AutomaticStart). */
function down(state: FsmState, config: FsmConfig, reason: string, before: FsmAction[]): Step {
  const failed: FsmState = { name: 'Idle', connectRetryCounter: state.connectRetryCounter + 1 };
  return {
    next: failed,
    actions: [...before, ...teardown(state), { type: 'start-timer', timer: 'connect-retry', seconds: backoff(failed, config) }],
    reason,
  };
}

/** ManualStop: a Cease, close, and no restart (RFC 4271 8.2.2 Event 2). */
function stopped(state: FsmState, notification: Notification | undefined): Step {
  const connected = state.name === 'OpenSent' || state.name === 'OpenConfirm' || state.name === 'Established';
  return {
    next: { name: 'Idle', connectRetryCounter: 0 },
    actions: [...(connected && notification ? [notify(notification)] : []), ...teardown(state), { type: 'stop-timer', timer: 'connect-retry' }],
    reason: 'stopped',
  };
}

function teardown(state: FsmState): FsmAction[] {
  return [
    { type: 'stop-timer', timer: 'hold' },
    { type: 'stop-timer', timer: 'keepalive' },
    { type: 'drop-connection' },
    ...(state.name === 'Established' ? [{ type: 'session-down' } as const] : []),
  ];
}

function restartTimers(timers: NegotiatedTimers): FsmAction[] {
  if (timers.holdTime === 0) return [{ type: 'stop-timer', timer: 'hold' }];
  return [
    { type: 'start-timer', timer: 'keepalive', seconds: timers.keepaliveTime },
    { type: 'start-timer', timer: 'hold', seconds: timers.holdTime },
  ];
}

function restartHold(state: FsmState): FsmAction[] {
  return state.timers && state.timers.holdTime > 0 ? [{ type: 'start-timer', timer: 'hold', seconds: state.timers.holdTime }] : [];
}

/** Exponential back-off, capped; session.ts adds jitter (RFC 4271 10: 75-100% of the value). */
function backoff(state: FsmState, config: FsmConfig): number {
  const { initialSeconds, maxSeconds } = config.connectRetry;
  return Math.min(maxSeconds, initialSeconds * 2 ** Math.max(0, state.connectRetryCounter - 1));
}

function notify(notification: Notification): FsmAction {
  return { type: 'send-notification', notification };
}

function ignore(state: FsmState, event: FsmEvent): Step {
  return { next: state, actions: [], reason: `${describe(event)} ignored in ${state.name}` };
}

function describe(event: FsmEvent): string {
  switch (event.type) {
    case 'timer-expired':
      return `${event.timer} timer expiry`;
    case 'keepalive-received':
      return 'KEEPALIVE';
    case 'update-received':
      return 'UPDATE';
    case 'open-received':
      return 'OPEN';
    case 'open-collision-dump':
      return 'collision dump';
    default:
      return event.type;
  }
}
