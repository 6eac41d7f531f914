/**
 * One BFD session in asynchronous mode (RFC 5880 6.2, reception 6.8.6) as a pure function:
 * `step(session, event)` returns the next session, the actions to carry out (send a
 * packet, arm the detection timer, change the transmit interval, report a state change)
 * and the reason, so logs explain every transition. Sockets and timers live elsewhere:
 * they execute the actions and feed back events. Periodic packets are the transport's:
 * from the start, every `transmitInterval(session)` (jittered with `jitteredInterval`) it
 * sends `controlPacket(session)`, the interval changing with each set-transmit-interval.
 *
 * The session variables are those of RFC 5880 6.8.1. Left out: Demand mode of our own
 * (bfd.DemandMode stays off), the Echo function, and authentication (bfd.AuthType 0), all
 * optional in RFC 5880.
 */
import { BFD_VERSION, BfdDiagnostic, type BfdControlPacket, type BfdState } from '../wire/bfd.js';

/** Intervals in microseconds, as on the wire. */
export interface BfdSession {
  sessionState: BfdState;
  remoteSessionState: BfdState;
  localDiscr: number;
  /** 0 until the remote's My Discriminator is known, and again after a Detection Time of silence. */
  remoteDiscr: number;
  localDiag: number;
  /** What we advertise: at least 1 s while not Up (RFC 5880 6.8.3). */
  desiredMinTxInterval: number;
  requiredMinRxInterval: number;
  remoteMinRxInterval: number;
  demandMode: false;
  remoteDemandMode: boolean;
  detectMult: number;
  authType: 0;
  /** The Desired Min TX Interval wanted once Up. */
  upDesiredMinTxInterval: number;
  /** Of the remote's last packet, for the Detection Time (RFC 5880 6.8.4); 0 before any. */
  remoteDetectMult: number;
  remoteDesiredMinTxInterval: number;
  /** A Poll Sequence in progress (RFC 5880 6.5): the intervals the remote acknowledged
   *  before it, which still bound what we send and expect until its Final (6.8.3). */
  poll?: { desiredMinTxInterval: number; requiredMinRxInterval: number };
}

export interface BfdSessionOptions {
  /** Nonzero and unique among this system's sessions (RFC 5880 6.8.1). */
  localDiscr: number;
  desiredMinTxInterval: number;
  requiredMinRxInterval: number;
  detectMult: number;
}

export type BfdEvent =
  /** A packet that passed the codec's checks, already matched to this session by address
   *  or discriminator. */
  | { type: 'packet-received'; packet: BfdControlPacket }
  | { type: 'detection-timer-expired' }
  /** A planned stop (RFC 5880 6.8.16). */
  | { type: 'admin-down' }
  | { type: 'admin-up' }
  | { type: 'parameters-changed'; desiredMinTxInterval: number; requiredMinRxInterval: number; detectMult: number };

export type BfdAction =
  /** Send now, outside the periodic schedule. */
  | { type: 'send'; packet: BfdControlPacket }
  /** Start the timer, or restart it if running. It is never cancelled: expiring outside
   *  Init and Up only makes the session forget the remote (RFC 5880 6.8.1). */
  | { type: 'arm-detection-timer'; microseconds: number }
  /** The periodic interval before jitter; 0: send no periodic packets (RFC 5880 6.8.7). */
  | { type: 'set-transmit-interval'; microseconds: number }
  | { type: 'state-changed'; from: BfdState; to: BfdState; diagnostic: number };

export interface BfdStep {
  next: BfdSession;
  actions: BfdAction[];
  reason: string;
}

/** RFC 5880 6.8.3: bfd.DesiredMinTxInterval while the session is not Up. */
const SLOW_TX_INTERVAL = 1_000_000;

/** RFC 5880 6.8.1: the initial values; a new session starts slow, in Down. */
export function newSession(options: BfdSessionOptions): BfdSession {
  return {
    sessionState: 'Down',
    remoteSessionState: 'Down',
    localDiscr: options.localDiscr,
    remoteDiscr: 0,
    localDiag: BfdDiagnostic.None,
    desiredMinTxInterval: slowRate(options.desiredMinTxInterval),
    requiredMinRxInterval: options.requiredMinRxInterval,
    remoteMinRxInterval: 1,
    demandMode: false,
    remoteDemandMode: false,
    detectMult: options.detectMult,
    authType: 0,
    upDesiredMinTxInterval: options.desiredMinTxInterval,
    remoteDetectMult: 0,
    remoteDesiredMinTxInterval: 0,
  };
}

export function step(session: BfdSession, event: BfdEvent): BfdStep {
  switch (event.type) {
    case 'packet-received':
      return receive(session, event.packet);
    case 'detection-timer-expired':
      return detectionTimeExpired(session);
    case 'admin-down':
      if (session.sessionState === 'AdminDown') return ignore(session, event);
      // RFC 5880 6.8.16: AdminDown, and the periodic packets go on so the remote learns it.
      return changeState(session, { ...session, localDiag: BfdDiagnostic.AdministrativelyDown }, 'AdminDown', 'administratively disabled (RFC 5880 6.8.16, diag 7)');
    case 'admin-up':
      if (session.sessionState !== 'AdminDown') return ignore(session, event);
      return changeState(session, session, 'Down', 'administratively enabled (RFC 5880 6.8.16)');
    case 'parameters-changed':
      return parametersChanged(session, event);
    default:
      // An event type this machine does not know (a replayed file, a newer transport).
      return ignore(session, event);
  }
}

/** The packet we send now in `session`, periodic or not (RFC 5880 6.8.7). */
export function controlPacket(session: BfdSession): BfdControlPacket {
  return {
    version: BFD_VERSION,
    diagnostic: session.localDiag,
    state: session.sessionState,
    poll: session.poll !== undefined,
    final: false,
    controlPlaneIndependent: false,
    demand: session.demandMode,
    multipoint: false,
    detectMultiplier: session.detectMult,
    myDiscriminator: session.localDiscr,
    yourDiscriminator: session.remoteDiscr,
    desiredMinTxInterval: session.desiredMinTxInterval,
    requiredMinRxInterval: session.requiredMinRxInterval,
    requiredMinEchoRxInterval: 0,
  };
}

/** The periodic interval before jitter (RFC 5880 6.8.2, 6.8.7); 0 when we must not send any. */
export function transmitInterval(session: BfdSession): number {
  // RFC 5880 6.8.18: a Required Min RX Interval of 0 asks for no packets at all.
  if (session.remoteMinRxInterval === 0) return 0;
  // RFC 5880 6.8.6: Demand mode active on the remote stops our periodic packets.
  if (session.remoteDemandMode && session.sessionState === 'Up' && session.remoteSessionState === 'Up') return 0;
  // RFC 5880 6.8.3: during a Poll Sequence a faster rate applies at once, a slower one
  // only after the Final.
  const desired = session.poll ? Math.min(session.poll.desiredMinTxInterval, session.desiredMinTxInterval) : session.desiredMinTxInterval;
  return Math.max(desired, session.remoteMinRxInterval);
}

/** RFC 5880 6.8.4: the remote's Detect Mult times the agreed interval of its packets. */
function detectionTime(session: BfdSession): number {
  // RFC 5880 6.8.3: a reduced Required Min RX Interval counts only after the Final.
  const requiredMinRx = session.poll ? Math.max(session.poll.requiredMinRxInterval, session.requiredMinRxInterval) : session.requiredMinRxInterval;
  return session.remoteDetectMult * Math.max(requiredMinRx, session.remoteDesiredMinTxInterval);
}

/**
 * RFC 5880 6.8.7: each periodic interval is reduced by a random 0-25 % so that systems do
 * not synchronise; with Detect Mult 1 it must be 75-90 %, or one late packet would already
 * exceed the remote's Detection Time. `random` is uniform in [0, 1).
 */
export function jitteredInterval(interval: number, detectMult: number, random: number): number {
  return detectMult === 1 ? interval * (0.9 - 0.15 * random) : interval * (1 - 0.25 * random);
}

function receive(session: BfdSession, packet: BfdControlPacket): BfdStep {
  // RFC 5880 6.8.6, the checks that need the session (the codec made the others).
  if (packet.authentication && session.authType === 0) {
    return discard(session, 'the packet carries authentication, and this session uses none (RFC 5880 6.8.6)');
  }
  if (packet.yourDiscriminator !== 0 && packet.yourDiscriminator !== session.localDiscr) {
    return discard(session, `Your Discriminator ${hex(packet.yourDiscriminator)} is not this session's ${hex(session.localDiscr)} (RFC 5880 6.8.6)`);
  }
  const updated: BfdSession = {
    ...session,
    remoteDiscr: packet.myDiscriminator,
    remoteSessionState: packet.state,
    remoteDemandMode: packet.demand,
    remoteMinRxInterval: packet.requiredMinRxInterval,
    remoteDetectMult: packet.detectMultiplier,
    remoteDesiredMinTxInterval: packet.desiredMinTxInterval,
  };
  const pollEnded = packet.final && session.poll !== undefined;
  if (pollEnded) delete updated.poll;
  if (session.sessionState === 'AdminDown') {
    // RFC 5880 6.8.6 updates the variables (and so the transmit interval) before this
    // discard; the packet does not count as received for the Detection Time.
    return { next: updated, actions: intervalChange(session, updated), reason: `${describe(packet)} discarded in AdminDown (RFC 5880 6.8.6)` };
  }
  const arm: BfdAction = { type: 'arm-detection-timer', microseconds: detectionTime(updated) };
  const transition = nextState(session.sessionState, packet.state);
  if (transition) {
    const diagnosed = transition.diagnostic === undefined ? updated : { ...updated, localDiag: transition.diagnostic };
    return changeState(session, diagnosed, transition.to, `${describe(packet)}: ${transition.why}`, { final: packet.poll, after: [arm] });
  }
  // RFC 5880 6.5: a Poll is answered at once with a Final, outside the periodic schedule.
  const actions: BfdAction[] = packet.poll ? [{ type: 'send', packet: finalPacket(updated) }] : [];
  actions.push(...intervalChange(session, updated), arm);
  const reason = pollEnded ? 'our Poll Sequence is over (RFC 5880 6.5)' : packet.poll ? 'Final sent (RFC 5880 6.5)' : `no change to ${session.sessionState} (RFC 5880 6.8.6)`;
  return { next: updated, actions, reason: `${describe(packet)}: ${reason}` };
}

/** The session state a received packet leads to, per the table of RFC 5880 6.8.6 (6.2). */
function nextState(local: BfdState, remote: BfdState): { to: BfdState; diagnostic?: number; why: string } | undefined {
  if (remote === 'AdminDown') {
    return local === 'Down' ? undefined : { to: 'Down', diagnostic: BfdDiagnostic.NeighborSignaledSessionDown, why: 'the remote is administratively down (RFC 5880 6.8.6, diag 3)' };
  }
  switch (local) {
    case 'Down':
      if (remote === 'Down') return { to: 'Init', why: 'the remote is Down too: first step of the three-way handshake (RFC 5880 6.2)' };
      if (remote === 'Init') return { to: 'Up', why: 'the remote saw us (RFC 5880 6.2)' };
      return undefined;
    case 'Init':
      return remote === 'Down' ? undefined : { to: 'Up', why: 'the remote saw us (RFC 5880 6.2)' };
    case 'Up':
      return remote === 'Down' ? { to: 'Down', diagnostic: BfdDiagnostic.NeighborSignaledSessionDown, why: 'the remote went Down (RFC 5880 6.8.6, diag 3)' } : undefined;
    case 'AdminDown':
      return undefined;
  }
}

function detectionTimeExpired(session: BfdSession): BfdStep {
  // RFC 5880 6.8.1: after a Detection Time of silence the remote's discriminator is
  // forgotten; 6.8.18: so is its Required Min RX Interval (back to the initial 1).
  const forgotten: BfdSession = { ...session, remoteDiscr: 0, remoteSessionState: 'Down', remoteMinRxInterval: 1, remoteDemandMode: false };
  if (session.sessionState === 'Init' || session.sessionState === 'Up') {
    return changeState(
      session,
      { ...forgotten, localDiag: BfdDiagnostic.ControlDetectionTimeExpired },
      'Down',
      `no packet from the remote for ${detectionTime(session)} us (RFC 5880 6.8.4, diag 1)`,
    );
  }
  return { next: forgotten, actions: intervalChange(session, forgotten), reason: `no packet from the remote for a Detection Time in ${session.sessionState}: its discriminator is forgotten (RFC 5880 6.8.1)` };
}

function parametersChanged(session: BfdSession, event: Extract<BfdEvent, { type: 'parameters-changed' }>): BfdStep {
  const up = session.sessionState === 'Up';
  const next: BfdSession = {
    ...session,
    upDesiredMinTxInterval: event.desiredMinTxInterval,
    desiredMinTxInterval: up ? event.desiredMinTxInterval : slowRate(event.desiredMinTxInterval),
    requiredMinRxInterval: event.requiredMinRxInterval,
    detectMult: event.detectMult,
  };
  const intervalsChanged = next.desiredMinTxInterval !== session.desiredMinTxInterval || next.requiredMinRxInterval !== session.requiredMinRxInterval;
  if (up && intervalsChanged) {
    // RFC 5880 6.8.3: a changed interval starts a Poll Sequence; one already running keeps
    // the values the remote acknowledged last. The Poll rides on the periodic packets:
    // additional packets must not be sent (6.5).
    next.poll = session.poll ?? { desiredMinTxInterval: session.desiredMinTxInterval, requiredMinRxInterval: session.requiredMinRxInterval };
    return { next, actions: intervalChange(session, next), reason: 'intervals changed while Up: Poll Sequence started (RFC 5880 6.8.3)' };
  }
  // Detect Mult needs no acknowledgement, nor do intervals outside Up (the fast rate waits
  // for Up, RFC 5880 6.8.3): the new values go out with the next packet.
  return { next, actions: intervalChange(session, next), reason: `parameters changed in ${session.sessionState}: sent with the next packet` };
}

/**
 * Every state change: the slow rate outside Up, and the fast one polled in on entering Up
 * (RFC 5880 6.8.3); a packet announcing the new state at once rather than up to 1 s later
 * (BIRD does the same: test/fixtures/bfd), carrying the Final when a Poll caused the change;
 * the change reported. `after` comes last.
 */
function changeState(session: BfdSession, updated: BfdSession, to: BfdState, reason: string, options: { final?: boolean; after?: BfdAction[] } = {}): BfdStep {
  const next: BfdSession = { ...updated, sessionState: to };
  if (to === 'Up') {
    next.desiredMinTxInterval = session.upDesiredMinTxInterval;
    if (next.desiredMinTxInterval !== updated.desiredMinTxInterval) {
      next.poll = { desiredMinTxInterval: updated.desiredMinTxInterval, requiredMinRxInterval: updated.requiredMinRxInterval };
    }
  } else {
    next.desiredMinTxInterval = slowRate(session.upDesiredMinTxInterval);
    // A Poll Sequence is about the rates of an Up session; leaving Up ends it.
    delete next.poll;
  }
  return {
    next,
    actions: [
      { type: 'state-changed', from: session.sessionState, to, diagnostic: next.localDiag },
      { type: 'send', packet: options.final ? finalPacket(next) : controlPacket(next) },
      ...intervalChange(session, next),
      ...(options.after ?? []),
    ],
    reason: `${session.sessionState} -> ${to}: ${reason}`,
  };
}

/** RFC 5880 6.8.3: bfd.DesiredMinTxInterval while not Up. */
function slowRate(upDesiredMinTxInterval: number): number {
  return Math.max(SLOW_TX_INTERVAL, upDesiredMinTxInterval);
}

/** The answer to a Poll: P clear even during our own Poll Sequence, never both (RFC 5880 6.5). */
function finalPacket(session: BfdSession): BfdControlPacket {
  return { ...controlPacket(session), poll: false, final: true };
}

function intervalChange(before: BfdSession, after: BfdSession): BfdAction[] {
  const interval = transmitInterval(after);
  return interval === transmitInterval(before) ? [] : [{ type: 'set-transmit-interval', microseconds: interval }];
}

function discard(session: BfdSession, reason: string): BfdStep {
  return { next: session, actions: [], reason: `packet discarded: ${reason}` };
}

function ignore(session: BfdSession, event: BfdEvent): BfdStep {
  return { next: session, actions: [], reason: `${event.type} ignored in ${session.sessionState}` };
}

function describe(packet: BfdControlPacket): string {
  const flags = `${packet.poll ? ' Poll' : ''}${packet.final ? ' Final' : ''}`;
  return `remote ${packet.state}${flags}`;
}

function hex(discriminator: number): string {
  return `0x${discriminator.toString(16).padStart(8, '0')}`;
}
