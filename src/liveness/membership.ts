/**
 * Member liveness beyond the full mesh. With N members a full mesh of BFD sessions costs
 * each node N-1 sessions (20 packets/s each at 50 ms): it grows with the cluster. On the
 * ring (ring.ts) each node runs BFD with its k neighbours on each side only — 2k sessions
 * whatever N — and what a session finds out is told to every member, so that all of them
 * place VIPs from the same view. The rules, and why:
 *
 * - The view: per member a record version, one counter for both states — 0 never heard
 *   of, odd live, even dead. A newer version wins everywhere (merging is taking the
 *   larger), so copies of a view converge whatever order messages arrive in, and a message
 *   that comes twice changes nothing. The version plays the part of an incarnation number.
 * - Evidence is BFD, and only a ring neighbour of X has any about X: reports about X from
 *   anyone else are discarded. A neighbour whose session with X goes Down sends everyone
 *   "suspect X at v"; one whose session with X comes Up sends "X up at v" (v+1 if X was not
 *   live: it proves X answers), which also takes back its own suspicion.
 * - X is dead (v+1) once two of its neighbours suspect it at v (one, when only one of its
 *   neighbours is live). One node that stalls loses every session it has at once and would
 *   otherwise take all its neighbours down everywhere; when X really dies, all of its
 *   neighbours' detection timers expire within one BFD interval of each other, so the
 *   second suspicion costs next to nothing. Every node counts the suspicions itself, from
 *   the same broadcasts: the decision is not sent again.
 * - Refutation: a node told that it is dead, while one of its own sessions is Up, answers
 *   with its next live version (it knows better; without an Up session it may be the one
 *   cut off). Two neighbours' false reports thus cost one round trip, not a stranded node.
 * - A planned stop: the neighbours' sessions hear AdminDown (RFC 5880 6.8.16) and their
 *   suspicions say so, so every member sees the node leaving at once (run's make before
 *   break); the stopping node's own AdminDown sessions say nothing of its neighbours.
 * - Repair: every second each node sends its whole view to its ring neighbours (and at
 *   once to a neighbour whose session comes Up, so a node that starts or comes back learns
 *   the cluster in one message). A lost broadcast is made good by the next digest of a
 *   neighbour that did get it.
 * - Limits: X's death is seen while one of its 2k neighbours lives; a member list or k
 *   that differs between nodes makes the ring's fingerprint differ, and their messages are
 *   discarded rather than misread.
 *
 * It runs beside the BFD sessions, on the data plane's thread (l2-plane.ts): the
 * suspicion leaves in the same turn that the detection timer fires, and a message's TTL
 * can only be read there, from the link.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../time.js';
import type { BfdState } from '../wire/bfd.js';
import type { MembershipEntry, MembershipMessage } from '../wire/membership.js';
import type { BfdStateChange } from './bfd-peers.js';
import { ringFingerprint, ringNeighbours, ringOrder } from './ring.js';

export interface RingMember {
  name: string;
  address: string;
}

export interface RingConfig {
  self: RingMember;
  /** The other members. */
  members: RingMember[];
  /** BFD runs with this many ring neighbours on each side. */
  neighbours: number;
  /** How often the whole view goes to the ring neighbours. */
  digestMs: number;
}

/** A member's liveness as this node's view has it, in the terms of a BFD state change. */
export interface MemberChange {
  /** The member's address. */
  peer: string;
  from: BfdState;
  to: BfdState;
  /** AdminDown: it left on purpose (RFC 5880 6.8.16). */
  remoteState: BfdState;
  reason: string;
}

/** How membership messages come and go: the UDP transport, or a simulated network. */
export interface MembershipChannel {
  send(to: string, message: MembershipMessage): void;
  on(event: 'message', listener: (received: { from: string; message: MembershipMessage }) => void): unknown;
  off(event: 'message', listener: (received: { from: string; message: MembershipMessage }) => void): unknown;
}

export interface MembershipEvents {
  member: [MemberChange];
  /** A message, or an entry of one, that was not taken, and why: counted, never fatal. */
  discarded: [{ from: string; reason: string }];
}

export type MemberView = 'unknown' | 'up' | 'down';

/** 150 entries of 8 bytes and the header: 1,208 bytes, within IPv6's 1,280-byte minimum MTU with the IPv6 and UDP headers. */
const DIGEST_ENTRIES_PER_MESSAGE = 150;

const isLive = (version: number) => version % 2 === 1;
const viewOf = (version: number): MemberView => (version === 0 ? 'unknown' : isLive(version) ? 'up' : 'down');

/** The ring, as every member computes it from the same list. */
class Ring {
  readonly members: RingMember[];
  readonly self: number;
  /** Per place, the places of its ring neighbours: those that watch it, and that it watches. */
  readonly neighbours: number[][];
  readonly fingerprint: number;
  private readonly places: Map<string, number>;

  constructor({ self, members, neighbours }: RingConfig) {
    const byName = new Map([self, ...members].map((member) => [member.name, member]));
    const order = ringOrder([...byName.keys()]);
    this.members = order.map((name) => byName.get(name)!);
    this.self = order.indexOf(self.name);
    this.neighbours = order.map((_, at) => ringNeighbours(order.length, at, neighbours));
    this.fingerprint = ringFingerprint(order, neighbours);
    this.places = new Map(this.members.map((member, at) => [member.address, at]));
  }

  placeOf(address: string): number | undefined {
    return this.places.get(address);
  }
}

/** The members this node runs BFD with: its ring neighbours. */
export function ringPeers(config: RingConfig): RingMember[] {
  const ring = new Ring(config);
  return ring.neighbours[ring.self]!.map((at) => ring.members[at]!);
}

export class Membership extends EventEmitter<MembershipEvents> {
  private readonly ring: Ring;
  private readonly versions: number[];
  private readonly leaving: boolean[];
  /** Per member, the neighbours that suspect it at its current version, and whether each saw it leave. */
  private readonly suspicions = new Map<number, Map<number, boolean>>();
  /** The neighbours whose BFD session with this node is Up. */
  private readonly sessionsUp = new Set<number>();
  private readonly receive = ({ from, message }: { from: string; message: MembershipMessage }) => this.received(from, message);
  private digestTimer?: TimerHandle;

  constructor(
    private readonly channel: MembershipChannel,
    private readonly config: RingConfig,
    private readonly clock: Clock,
  ) {
    super();
    this.ring = new Ring(config);
    this.versions = this.ring.members.map(() => 0);
    this.leaving = this.ring.members.map(() => false);
  }

  /** Each other member's liveness in this node's view, by address. */
  get states(): Map<string, MemberView> {
    return new Map(this.ring.members.flatMap((member, at) => (at === this.ring.self ? [] : [[member.address, viewOf(this.versions[at]!)]])));
  }

  start(): void {
    this.channel.on('message', this.receive);
    this.scheduleDigest();
  }

  stop(): void {
    this.channel.off('message', this.receive);
    this.clock.clearTimeout(this.digestTimer);
  }

  /** What a BFD session with a ring neighbour did: evidence about that neighbour. */
  sessionChanged({ peer, from, to, remoteState }: BfdStateChange): void {
    const at = this.ring.placeOf(peer);
    if (at === undefined || !this.ring.neighbours[this.ring.self]!.includes(at)) return;
    const self = this.ring.self;
    const version = this.versions[at]!;
    if (to === 'Up') {
      this.sessionsUp.add(at);
      if (!isLive(version)) {
        this.adopt(at, version + 1, false, `the BFD session of ${this.config.self.name} with it came Up`);
        this.broadcast([{ member: at, version: version + 1, suspect: false, up: true, leaving: false }]);
      } else if (this.suspicions.get(at)?.delete(self)) {
        this.broadcast([{ member: at, version, suspect: false, up: true, leaving: false }]);
      }
      this.sendDigest(peer);
    } else if (from === 'Up') {
      this.sessionsUp.delete(at);
      // This node's own planned stop says nothing about the neighbour.
      if (to === 'AdminDown') return;
      if (!isLive(version)) return;
      const leaving = remoteState === 'AdminDown';
      this.broadcast([{ member: at, version, suspect: true, up: false, leaving }]);
      this.suspect(at, self, leaving);
    }
  }

  private received(from: string, message: MembershipMessage): void {
    const sender = this.ring.placeOf(from);
    if (sender === undefined) return void this.emit('discarded', { from, reason: `${from} is not a member` });
    if (message.ring !== this.ring.fingerprint) return void this.emit('discarded', { from, reason: 'its member list or ring neighbour count differs from ours' });
    const senderName = this.ring.members[sender]!.name;
    for (const entry of message.entries) {
      const member = this.ring.members[entry.member];
      if (member === undefined) {
        this.emit('discarded', { from, reason: `member ${entry.member} is not on a ring of ${this.ring.members.length}` });
        continue;
      }
      const evidence = entry.suspect || entry.up;
      if (evidence && !this.ring.neighbours[entry.member]!.includes(sender)) {
        this.emit('discarded', { from, reason: `${senderName} is not a ring neighbour of ${member.name}: its report is no evidence` });
        continue;
      }
      this.adopt(entry.member, entry.version, entry.leaving, entry.up ? `${senderName} says its BFD session with it came Up` : `${senderName}'s view says so`);
      if (entry.version !== this.versions[entry.member]) continue;
      if (entry.suspect && isLive(entry.version)) this.suspect(entry.member, sender, entry.leaving);
      else if (entry.up) this.suspicions.get(entry.member)?.delete(sender);
    }
    this.refute();
  }

  /** `by` suspects `member` at its current version: dead once enough of its neighbours do. */
  private suspect(member: number, by: number, leaving: boolean): void {
    const suspecting = this.suspicions.get(member) ?? new Map<number, boolean>();
    this.suspicions.set(member, suspecting);
    suspecting.set(by, leaving);
    if (suspecting.size < this.quorum(member)) return;
    const names = [...suspecting.keys()].map((at) => this.ring.members[at]!.name).join(' and ');
    this.adopt(member, this.versions[member]! + 1, [...suspecting.values()].some(Boolean), `${names} lost their BFD sessions with it`);
  }

  /** Two neighbours' word, or one's when only one of them is live (this node counts as live). */
  private quorum(member: number): number {
    const live = this.ring.neighbours[member]!.filter((at) => at === this.ring.self || isLive(this.versions[at]!)).length;
    return Math.max(1, Math.min(2, live));
  }

  /** Told it is dead while a neighbour hears it: this node's next live version says otherwise. */
  private refute(): void {
    const self = this.ring.self;
    const version = this.versions[self]!;
    if (version === 0 || isLive(version) || this.sessionsUp.size === 0) return;
    this.adopt(self, version + 1, false, 'it refuted its death');
    this.broadcast([{ member: self, version: version + 1, suspect: false, up: false, leaving: false }]);
  }

  /** Takes `version` for `member` when it is newer than ours, and reports a change of liveness. */
  private adopt(member: number, version: number, leaving: boolean, reason: string): void {
    const before = this.versions[member]!;
    if (version <= before) return;
    this.versions[member] = version;
    this.leaving[member] = !isLive(version) && leaving;
    this.suspicions.delete(member);
    if (member === this.ring.self || viewOf(before) === viewOf(version)) return;
    const up = isLive(version);
    this.emit('member', {
      peer: this.ring.members[member]!.address,
      from: isLive(before) ? 'Up' : 'Down',
      to: up ? 'Up' : 'Down',
      remoteState: up ? 'Up' : this.leaving[member] ? 'AdminDown' : 'Down',
      reason,
    });
  }

  private broadcast(entries: MembershipEntry[]): void {
    const message = { ring: this.ring.fingerprint, entries };
    this.ring.members.forEach((member, at) => {
      if (at !== this.ring.self) this.channel.send(member.address, message);
    });
  }

  /** The whole view, in messages that IPv6's minimum MTU carries unfragmented (fragments are not read from the link). */
  private sendDigest(to: string): void {
    const entries = this.versions.flatMap((version, member) => (version === 0 ? [] : [{ member, version, suspect: false, up: false, leaving: this.leaving[member]! }]));
    for (let first = 0; first < Math.max(1, entries.length); first += DIGEST_ENTRIES_PER_MESSAGE) {
      this.channel.send(to, { ring: this.ring.fingerprint, entries: entries.slice(first, first + DIGEST_ENTRIES_PER_MESSAGE) });
    }
  }

  private scheduleDigest(): void {
    this.digestTimer = this.clock.setTimeout(() => {
      for (const at of this.ring.neighbours[this.ring.self]!) this.sendDigest(this.ring.members[at]!.address);
      this.scheduleDigest();
    }, this.config.digestMs);
  }
}
