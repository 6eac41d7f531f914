/**
 * A cluster of members in memory, on a manual clock: each runs BFD (BfdPeers) with every
 * other member (full mesh) or with its ring neighbours plus the membership messages
 * (Membership), over a simulated network that delivers each packet 1 ms after it is sent
 * and counts the frames each node sends and receives. Nodes can be killed, restarted and
 * cut off from messages; for the unit tests (test/liveness/membership.test.ts) and the
 * simulation (bench/run-membership.ts).
 */
import { EventEmitter } from 'node:events';
import { BfdPeers, type BfdTiming, type ControlChannel } from '../../src/liveness/bfd-peers.js';
import { Membership, ringPeers, type MemberView, type RingConfig } from '../../src/liveness/membership.js';
import type { BfdControlPacket } from '../../src/wire/bfd.js';
import type { MembershipMessage } from '../../src/wire/membership.js';
import { ManualClock } from './manual-clock.js';
import { prng } from './prng.js';

export const LATENCY_MS = 1;
export const DEFAULT_TIMING: BfdTiming = { intervalMs: 50, multiplier: 3 };
export const DIGEST_MS = 1000;

export interface ClusterShape {
  size: number;
  /** Ring neighbours on each side; absent: a full mesh of BFD sessions and no membership messages. */
  neighbours?: number;
  timing?: BfdTiming;
  seed?: number;
}

/** A change of a member's liveness as one node saw it, and when. */
export interface Observed {
  at: number;
  on: string;
  member: string;
  up: boolean;
  /** Down on purpose (AdminDown). */
  leaving: boolean;
  reason: string;
}

export type Kind = 'bfd' | 'membership';

class SimulatedNode {
  sessions?: BfdPeers;
  membership?: Membership;
  readonly bfd = new EventEmitter();
  readonly messages = new EventEmitter();
  /** Frames sent and received, per kind. */
  sent = { bfd: 0, membership: 0 };
  received = { bfd: 0, membership: 0 };

  constructor(
    readonly name: string,
    readonly address: string,
  ) {}

  get alive(): boolean {
    return this.sessions !== undefined;
  }
}

export class SimulatedCluster {
  readonly clock = new ManualClock();
  readonly nodes: SimulatedNode[];
  readonly observed: Observed[] = [];
  /** A packet this returns true for is lost. */
  drop: (from: SimulatedNode, to: SimulatedNode, kind: Kind) => boolean = () => false;
  private readonly byAddress: Map<string, SimulatedNode>;
  private readonly random: () => number;

  constructor(private readonly shape: ClusterShape) {
    this.nodes = Array.from({ length: shape.size }, (_, index) => new SimulatedNode(`node${String(index + 1).padStart(3, '0')}`, `192.0.2.${10 + index}`));
    this.byAddress = new Map(this.nodes.map((node) => [node.address, node]));
    this.random = prng(shape.seed ?? 1);
  }

  node(name: string): SimulatedNode {
    const node = this.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  /** The ring configuration of `node`, as `vipkit run` builds it. */
  ringOf(node: SimulatedNode): RingConfig {
    const members = this.nodes.filter((other) => other !== node).map(({ name, address }) => ({ name, address }));
    return { self: { name: node.name, address: node.address }, members, neighbours: this.shape.neighbours!, digestMs: DIGEST_MS };
  }

  /** Starts `node` afresh: new sessions, and a view that knows nobody yet. */
  start(node: SimulatedNode): void {
    const ring = this.shape.neighbours === undefined ? undefined : this.ringOf(node);
    const watched = ring ? new Set(ringPeers(ring).map((member) => member.address)) : undefined;
    const peers = this.nodes.filter((other) => other !== node && (watched?.has(other.address) ?? true)).map((other) => ({ address: other.address, local: node.address }));
    node.sessions = new BfdPeers(this.bfdChannel(node), peers, this.shape.timing ?? DEFAULT_TIMING, this.clock, this.random);
    if (ring) {
      const membership = new Membership(this.membershipChannel(node), ring, this.clock);
      membership.on('member', ({ peer, to, remoteState, reason }) => this.observe(node, peer, to === 'Up', remoteState === 'AdminDown', reason));
      node.sessions.on('state', (change) => membership.sessionChanged(change));
      node.membership = membership;
      membership.start();
    } else {
      node.sessions.on('state', ({ peer, from, to, remoteState, reason }) => {
        if (to === 'Up' || from === 'Up') this.observe(node, peer, to === 'Up', remoteState === 'AdminDown', reason);
      });
    }
    node.sessions.start();
  }

  startAll(): void {
    for (const node of this.nodes) this.start(node);
  }

  /** `node` stops dead (SIGKILL): it sends nothing more and hears nothing. */
  kill(node: SimulatedNode): void {
    node.sessions?.stop();
    node.membership?.stop();
    node.sessions = undefined;
    node.membership = undefined;
  }

  /** `node`'s view of every other member. */
  view(node: SimulatedNode): Map<string, MemberView> {
    if (node.membership) return new Map([...node.membership.states].map(([address, state]) => [this.byAddress.get(address)!.name, state]));
    return new Map([...node.sessions!.states].map(([address, state]) => [this.byAddress.get(address)!.name, state === 'Up' ? 'up' : 'down']));
  }

  /** The live members as `node` sees them, itself included. */
  liveSet(node: SimulatedNode): string[] {
    return [node.name, ...[...this.view(node)].filter(([, state]) => state === 'up').map(([name]) => name)].sort();
  }

  /** Sends `message` from `from` to every other node, as its membership would. */
  broadcast(from: SimulatedNode, message: MembershipMessage): void {
    for (const to of this.nodes) if (to !== from) this.carry(from, to, 'membership', () => to.messages.emit('message', { from: from.address, message }));
  }

  /** Starts counting frames sent and received per node from zero. */
  resetCounts(): void {
    for (const node of this.nodes) [node.sent, node.received] = [{ bfd: 0, membership: 0 }, { bfd: 0, membership: 0 }];
  }

  private observe(on: SimulatedNode, address: string, up: boolean, leaving: boolean, reason: string): void {
    this.observed.push({ at: this.clock.now(), on: on.name, member: this.byAddress.get(address)!.name, up, leaving, reason });
  }

  private bfdChannel(node: SimulatedNode): ControlChannel {
    return Object.assign(node.bfd, {
      send: (_from: string, to: string, packet: BfdControlPacket) => {
        const peer = this.byAddress.get(to)!;
        this.carry(node, peer, 'bfd', () => peer.bfd.emit('control', { from: node.address, packet }));
      },
    }) as unknown as ControlChannel;
  }

  private membershipChannel(node: SimulatedNode) {
    return Object.assign(node.messages, {
      send: (to: string, message: MembershipMessage) => {
        const peer = this.byAddress.get(to)!;
        this.carry(node, peer, 'membership', () => peer.messages.emit('message', { from: node.address, message }));
      },
    });
  }

  /** One frame from `from` to `to`: counted, then delivered after the latency unless lost or `to` is dead. */
  private carry(from: SimulatedNode, to: SimulatedNode, kind: Kind, deliver: () => void): void {
    from.sent[kind]++;
    if (this.drop(from, to, kind)) return;
    this.clock.setTimeout(() => {
      if (!to.alive) return;
      to.received[kind]++;
      deliver();
    }, LATENCY_MS);
  }
}
