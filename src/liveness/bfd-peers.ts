/**
 * BFD sessions with a set of peers (RFC 5880 asynchronous mode over RFC 5881 single hop):
 * carries out what the pure machine (bfd-fsm.ts) decides — periodic packets with jitter,
 * the detection timer, immediate packets — and feeds it the packets that arrive, each
 * matched to its session by Your Discriminator, or by source address while that is zero
 * (RFC 5880 6.8.6, RFC 5881 3). Every state change is an event with its reason: `run`
 * turns them into member liveness for the election.
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../time.js';
import type { BfdControlPacket, BfdState } from '../wire/bfd.js';
import { controlPacket, jitteredInterval, newSession, step, transmitInterval, type BfdAction, type BfdEvent, type BfdSession } from './bfd-fsm.js';

/** How packets come and go: the BFD transport, or a pair in memory for tests. */
export interface ControlChannel {
  send(from: string, to: string, packet: BfdControlPacket): void;
  on(event: 'control', listener: (received: { from: string; packet: BfdControlPacket }) => void): unknown;
  off(event: 'control', listener: (received: { from: string; packet: BfdControlPacket }) => void): unknown;
}

export interface BfdPeer {
  /** The peer's address, and ours towards it (the source of our packets). */
  address: string;
  local: string;
}

export interface BfdTiming {
  /** Desired Min TX and Required Min RX once Up. */
  intervalMs: number;
  /** Detect Mult. */
  multiplier: number;
}

export interface BfdStateChange {
  peer: string;
  from: BfdState;
  to: BfdState;
  diagnostic: number;
  /** What the peer last said of its own session: AdminDown is a planned stop (RFC 5880 6.8.16). */
  remoteState: BfdState;
  reason: string;
}

export interface BfdPeersEvents {
  state: [BfdStateChange];
  /** A packet no session took, and why: counted by the caller, never fatal. */
  discarded: [{ from: string; reason: string }];
}

class PeerSession {
  transmitTimer?: TimerHandle;
  detectionTimer?: TimerHandle;
  /** The periodic interval before jitter, in microseconds; 0: none. */
  interval = 0;

  constructor(
    readonly peer: BfdPeer,
    public session: BfdSession,
  ) {}
}

export class BfdPeers extends EventEmitter<BfdPeersEvents> {
  private readonly sessions: PeerSession[];
  private readonly receive = ({ from, packet }: { from: string; packet: BfdControlPacket }) => this.received(from, packet);
  private running = false;

  /** `random` is uniform in [0, 1), for the jitter (tests fix it). */
  constructor(
    private readonly channel: ControlChannel,
    peers: readonly BfdPeer[],
    timing: BfdTiming,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {
    super();
    const interval = Math.round(timing.intervalMs * 1000);
    const discriminators = new Set<number>();
    this.sessions = peers.map((peer) => {
      let localDiscr: number;
      // RFC 5880 6.8.1: nonzero and unique among this system's sessions.
      do localDiscr = randomInt(1, 2 ** 32 - 1);
      while (discriminators.has(localDiscr));
      discriminators.add(localDiscr);
      return new PeerSession(peer, newSession({ localDiscr, desiredMinTxInterval: interval, requiredMinRxInterval: interval, detectMult: timing.multiplier }));
    });
  }

  /** Each peer's session state. */
  get states(): Map<string, BfdState> {
    return new Map(this.sessions.map(({ peer, session }) => [peer.address, session.sessionState]));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.channel.on('control', this.receive);
    for (const peer of this.sessions) {
      this.send(peer);
      this.schedule(peer, transmitInterval(peer.session));
    }
  }

  /** A planned stop: every session goes AdminDown and says so at once (RFC 5880 6.8.16), the periodic packets going on. */
  adminDown(): void {
    for (const peer of this.sessions) this.apply(peer, { type: 'admin-down' });
  }

  stop(): void {
    this.running = false;
    this.channel.off('control', this.receive);
    for (const peer of this.sessions) {
      this.clock.clearTimeout(peer.transmitTimer);
      this.clock.clearTimeout(peer.detectionTimer);
    }
  }

  private received(from: string, packet: BfdControlPacket): void {
    const peer =
      packet.yourDiscriminator !== 0 ? this.sessions.find(({ session }) => session.localDiscr === packet.yourDiscriminator) : this.sessions.find(({ peer: candidate }) => candidate.address === from);
    if (peer === undefined) {
      this.emit('discarded', { from, reason: packet.yourDiscriminator !== 0 ? `Your Discriminator ${packet.yourDiscriminator} names no session here (RFC 5880 6.8.6)` : `${from} is not a BFD peer here` });
      return;
    }
    if (peer.peer.address !== from) {
      this.emit('discarded', { from, reason: `the session with ${peer.peer.address} received a packet from ${from}` });
      return;
    }
    this.apply(peer, { type: 'packet-received', packet });
  }

  private apply(peer: PeerSession, event: BfdEvent): void {
    const { next, actions, reason } = step(peer.session, event);
    peer.session = next;
    for (const action of actions) this.execute(peer, action, reason);
  }

  private execute(peer: PeerSession, action: BfdAction, reason: string): void {
    switch (action.type) {
      case 'send':
        this.channel.send(peer.peer.local, peer.peer.address, action.packet);
        break;
      case 'arm-detection-timer':
        this.clock.clearTimeout(peer.detectionTimer);
        peer.detectionTimer = this.clock.setTimeout(() => this.apply(peer, { type: 'detection-timer-expired' }), action.microseconds / 1000);
        break;
      case 'set-transmit-interval':
        if (action.microseconds !== peer.interval) this.schedule(peer, action.microseconds);
        break;
      case 'state-changed':
        this.emit('state', { peer: peer.peer.address, from: action.from, to: action.to, diagnostic: action.diagnostic, remoteState: peer.session.remoteSessionState, reason });
        break;
    }
  }

  /** The next periodic packet, `interval` µs less the jitter from now (RFC 5880 6.8.7); none for 0. */
  private schedule(peer: PeerSession, interval: number): void {
    this.clock.clearTimeout(peer.transmitTimer);
    peer.interval = interval;
    peer.transmitTimer = undefined;
    if (interval === 0 || !this.running) return;
    const delayMs = jitteredInterval(interval, peer.session.detectMult, this.random()) / 1000;
    peer.transmitTimer = this.clock.setTimeout(() => {
      this.send(peer);
      this.schedule(peer, transmitInterval(peer.session));
    }, delayMs);
  }

  private send(peer: PeerSession): void {
    this.channel.send(peer.peer.local, peer.peer.address, controlPacket(peer.session));
  }
}
