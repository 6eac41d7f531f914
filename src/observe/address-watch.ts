/**
 * Who owns which IP on a segment, from ARP and NDP alone (after arpwatch): a pure engine,
 * fed decoded frames with their capture times, returning events. It reads no clock, so a
 * live capture and a capture file give the same events for the same frames.
 *
 * What a frame claims and asks is read by l2/claims.ts.
 */
import { readClaims, type ClaimKind } from '../l2/claims.js';
import type { DecodedFrame } from '../wire/frame.js';

export interface AddressWatchOptions {
  /** Two MACs claiming one IP this close together are both answering. */
  dupWindowNs: bigint;
  /** Requests unanswered for longer than this make the IP dark. */
  silenceNs: bigint;
  /** Only these IPs are watched; absent: every IP seen. */
  targets?: { has(ip: string): boolean };
  /** MACs of the watching host: replies to its requests always reach it. */
  ownMacs?: ReadonlySet<string>;
}

interface EventContext {
  at: bigint;
  interfaceName?: string;
  vlan?: number;
  ip: string;
}

export type AddressEvent = EventContext &
  (
    | { event: 'owner'; mac: string }
    /** `gapNs`: from the old MAC's last claim to the new one's first; absent when both had been answering. */
    | { event: 'moved'; from: string; to: string; gapNs?: bigint }
    | { event: 'duplicate'; mac: string; macs: string[] }
    | { event: 'gratuitous'; mac: string; changedOwner: boolean }
    | { event: 'unanswered'; since: bigint; requests: number }
    | { event: 'ethernet-mismatch'; mac: string; ethernetSource: string }
  );

export interface AddressMove {
  at: bigint;
  from: string;
  to: string;
  gapNs?: bigint;
}

/** What the summary at exit reports per IP. */
export interface AddressHistory {
  ip: string;
  interfaceName?: string;
  vlan?: number;
  /** In the order first seen. */
  owners: string[];
  owner?: string;
  lastClaimAt?: bigint;
  moves: AddressMove[];
  duplicates: number;
  darkNs: bigint;
  /** The current state, for the live table. */
  state: 'owned' | 'duplicate' | 'dark' | 'unknown';
}


interface Claim {
  at: bigint;
  /** For a reply: the number of the request it answered (1 = the first seen for this IP). */
  answeredRequest?: number;
}

/** Requests for an IP since its last claim. */
interface Silence {
  since: bigint;
  lastRequestAt: bigint;
  requests: number;
  /** When the stretch first counted as evidence (see `qualifies`). */
  qualifiedAt?: bigint;
  reported: boolean;
}

interface AddressState extends AddressHistory {
  claims: Map<string, Claim>;
  requestsSeen: number;
  duplicateMacs?: Set<string>;
  silence?: Silence;
  mismatches: Set<string>;
}

/**
 * A request answered out of our sight (replies are unicast) looks unanswered, so one
 * request alone proves nothing unless this host sent it. Linux retries an unanswered
 * request every second (neigh retrans_time); requests further apart than this are not
 * retries, and start a new stretch.
 */
const RETRY_GAP_NS = 3_000_000_000n;

export class AddressWatch {
  private readonly states = new Map<string, AddressState>();
  private readonly silent = new Set<AddressState>();

  constructor(private readonly options: AddressWatchOptions) {}

  /** Every IP seen so far, in the order first seen. */
  get addresses(): AddressHistory[] {
    return [...this.states.values()];
  }

  observe(decoded: DecodedFrame, at: bigint, interfaceName: string | undefined, events: AddressEvent[]): void {
    const context = { interfaceName, vlan: decoded.ethernet.vlan?.id };
    const { claims, asks } = readClaims(decoded);
    for (const { ip, mac, kind, ethernetSource } of claims) {
      const state = this.state(ip, context);
      if (!state) continue;
      if (mac !== ethernetSource) this.mismatch(state, mac, ethernetSource, at, events);
      this.claim(state, mac, kind, at, events);
    }
    for (const { ip, requester } of asks) {
      const target = this.state(ip, context);
      if (target) this.request(target, requester, at);
    }
  }

  /**
   * Reports addresses whose requests have gone unanswered for longer than `silence`.
   * Call with each frame's time before observing it, and with the clock when idle.
   */
  advance(now: bigint, events: AddressEvent[]): void {
    for (const state of this.silent) {
      const silence = state.silence!;
      if (silence.reported || silence.qualifiedAt === undefined) continue;
      if (now - silence.since <= this.options.silenceNs) continue;
      silence.reported = true;
      state.state = 'dark';
      const darkAt = silence.since + this.options.silenceNs;
      const at = silence.qualifiedAt > darkAt ? silence.qualifiedAt : darkAt;
      events.push({ ...this.context(state, at), event: 'unanswered', since: silence.since, requests: silence.requests });
    }
  }

  /** At the end of a watch: dark stretches still open count up to `end`. */
  finish(end: bigint, events: AddressEvent[]): void {
    this.advance(end, events);
    for (const state of this.silent) {
      if (state.silence!.reported) state.darkNs += end - state.silence!.since;
    }
    this.silent.clear();
  }

  private state(ip: string, context: Omit<EventContext, 'at' | 'ip'>): AddressState | undefined {
    if (this.options.targets && !this.options.targets.has(ip)) return undefined;
    const key = `${context.interfaceName ?? ''}|${context.vlan ?? ''}|${ip}`;
    let state = this.states.get(key);
    if (state === undefined) {
      state = { ip, ...context, owners: [], moves: [], duplicates: 0, darkNs: 0n, state: 'unknown', claims: new Map(), requestsSeen: 0, mismatches: new Set() };
      this.states.set(key, state);
    }
    return state;
  }

  private context(state: AddressState, at: bigint): EventContext {
    const context: EventContext = { at, ip: state.ip };
    if (state.interfaceName !== undefined) context.interfaceName = state.interfaceName;
    if (state.vlan !== undefined) context.vlan = state.vlan;
    return context;
  }

  private request(state: AddressState, requester: string, at: bigint): void {
    state.requestsSeen++;
    let silence = state.silence;
    if (silence === undefined || (!silence.reported && at - silence.lastRequestAt > RETRY_GAP_NS)) {
      silence = state.silence = { since: at, lastRequestAt: at, requests: 0, reported: false };
      this.silent.add(state);
    }
    silence.requests++;
    silence.lastRequestAt = at;
    if (silence.qualifiedAt === undefined && (silence.requests >= 2 || this.options.ownMacs?.has(requester))) silence.qualifiedAt = at;
  }

  private claim(state: AddressState, mac: string, kind: ClaimKind, at: bigint, events: AddressEvent[]): void {
    const answeredRequest = kind === 'reply' && state.requestsSeen > 0 ? state.requestsSeen : undefined;
    state.claims.set(mac, answeredRequest === undefined ? { at } : { at, answeredRequest });
    state.lastClaimAt = at;
    this.endSilence(state, at);
    if (!state.owners.includes(mac)) state.owners.push(mac);
    const ownerBefore = state.owner;
    this.decideOwner(state, mac, kind, at, events);
    state.state = state.duplicateMacs ? 'duplicate' : 'owned';
    if (kind === 'gratuitous') {
      events.push({ ...this.context(state, at), event: 'gratuitous', mac, changedOwner: state.owner !== ownerBefore });
    }
  }

  private decideOwner(state: AddressState, mac: string, kind: ClaimKind, at: bigint, events: AddressEvent[]): void {
    const owner = state.owner;
    if (owner === undefined) {
      state.owner = mac;
      events.push({ ...this.context(state, at), event: 'owner', mac });
      return;
    }
    if (state.duplicateMacs) {
      this.continueDuplicate(state, state.duplicateMacs, mac, at, events);
      return;
    }
    if (mac === owner) return;
    const ownerClaim = state.claims.get(owner)!;
    const claim = state.claims.get(mac)!;
    // Both answered one request: two speakers, or one node on several interfaces.
    const sameRequest = claim.answeredRequest !== undefined && claim.answeredRequest === ownerClaim.answeredRequest;
    // Without requests to tell answers apart, the window decides; an announcement is a takeover.
    const closeTogether = state.requestsSeen === 0 && kind !== 'gratuitous' && at - ownerClaim.at <= this.options.dupWindowNs;
    if (sameRequest || closeTogether) {
      state.duplicateMacs = new Set([owner, mac]);
      state.duplicates++;
      state.state = 'duplicate';
      events.push({ ...this.context(state, at), event: 'duplicate', mac, macs: [owner, mac] });
      return;
    }
    const gapNs = at - ownerClaim.at;
    this.move(state, { at, from: owner, to: mac, gapNs }, events);
  }

  /** While several MACs answer, a newcomer widens the duplicate; one left alone for a window ends it. */
  private continueDuplicate(state: AddressState, macs: Set<string>, mac: string, at: bigint, events: AddressEvent[]): void {
    if (!macs.has(mac)) {
      macs.add(mac);
      events.push({ ...this.context(state, at), event: 'duplicate', mac, macs: [...macs] });
      return;
    }
    const othersQuiet = [...macs].every((other) => other === mac || at - state.claims.get(other)!.at > this.options.dupWindowNs);
    if (!othersQuiet) return;
    state.duplicateMacs = undefined;
    state.state = 'owned';
    if (mac !== state.owner) this.move(state, { at, from: state.owner!, to: mac }, events);
  }

  private move(state: AddressState, move: AddressMove, events: AddressEvent[]): void {
    state.owner = move.to;
    state.moves.push(move);
    const { at, from, to, gapNs } = move;
    events.push(gapNs === undefined ? { ...this.context(state, at), event: 'moved', from, to } : { ...this.context(state, at), event: 'moved', from, to, gapNs });
  }

  private endSilence(state: AddressState, at: bigint): void {
    const silence = state.silence;
    if (silence === undefined) return;
    if (silence.reported) state.darkNs += at - silence.since;
    state.silence = undefined;
    this.silent.delete(state);
  }

  private mismatch(state: AddressState, mac: string, ethernetSource: string, at: bigint, events: AddressEvent[]): void {
    const pair = `${mac}>${ethernetSource}`;
    if (state.mismatches.has(pair)) return;
    state.mismatches.add(pair);
    events.push({ ...this.context(state, at), event: 'ethernet-mismatch', mac, ethernetSource });
  }
}
