/**
 * The Layer 2 data plane of a speaker: a link per interface it answers on, an L2Announcer
 * on each (ARP/NDP answers, gratuitous frames), and the conflict probe. `LocalL2Plane` runs
 * it in the thread that creates it (tests give it memory links); worker-l2-plane.ts runs
 * the same class in a worker thread, so that answering keeps its deadlines while the main
 * event loop parses files, talks BGP or collects garbage — and because cap loads in one
 * thread per process only (DESIGN.md).
 *
 * A link whose interface goes down loses its capture for good (libpcap's poll fails), so
 * the plane watches each interface and opens its link again, with its addresses and BFD,
 * when the interface is back up.
 */
import { EventEmitter } from 'node:events';
import { CONFLICT_PROBE_FILTER, probeForConflicts, type ConflictProbeOptions } from '../l2/conflict-probe.js';
import { readClaims, type Claim } from '../l2/claims.js';
import { L2Announcer, type GratuitousSchedule } from '../l2/l2-announcer.js';
import { Responder, type Answered } from '../l2/responder.js';
import { L2_SNAPSHOT_LENGTH, type Link, type OpenLinkOptions } from '../link/link.js';
import { busyPoll, type Clock, type TimerHandle } from '../time.js';
import { DecodeError } from '../wire/decode-error.js';
import type { VlanTag } from '../wire/ethernet.js';
import { decodeFrame } from '../wire/frame.js';
import { BfdPeers, type BfdPeer, type BfdStateChange, type BfdTiming } from '../liveness/bfd-peers.js';
import { BFD_CAPTURE_FILTER, BfdTransport } from '../liveness/bfd-transport.js';
import { Membership, type MemberChange, type RingConfig } from '../liveness/membership.js';
import { MEMBERSHIP_CAPTURE_FILTER, MembershipTransport } from '../liveness/membership-transport.js';

export interface L2Config {
  /** The interfaces answered on; each is opened by `open`. */
  interfaces: string[];
  schedule: GratuitousSchedule;
  vlan?: VlanTag;
  /** Keep this plane's thread polling instead of sleeping: lower latency for one busy core (time.ts busyPoll). */
  busyPoll?: boolean;
  /** BFD with the other members (and routers), on the same thread as the answers: its deadlines are the data plane's. */
  liveness?: LivenessConfig;
}

export interface LivenessConfig {
  /** The interface the BFD peers are reached on; one of `interfaces`. */
  interfaceName: string;
  /** The members, and the routers that asked for BFD. */
  peers: BfdPeer[];
  timing: BfdTiming;
  /**
   * Beyond the full mesh: `peers` holds this node's ring neighbours only, and membership
   * messages tell every member what their sessions find (liveness/membership.ts).
   */
  ring?: RingConfig;
}

export interface L2PlaneEvents {
  answered: [Answered & { interface: string }];
  gratuitous: [{ interface: string; ip: string; mac: string }];
  /** An ARP or NDP frame that could not be read: reported, never fatal. */
  'malformed-frame': [{ interface: string; reason: string }];
  /** A frame the interface refused: reported, and a gratuitous frame retried. */
  'send-failed': [{ interface: string; reason: string }];
  /** The plane itself died (a bug): nothing is answered any more. */
  failed: [{ reason: string }];
  /** A BFD session (with a member, or a router) changed state. */
  bfd: [BfdStateChange];
  /** A BFD packet no session took, or not from this link, or such a membership message: counted, never fatal. */
  'bfd-discarded': [{ from?: string; reason: string }];
  /** On the ring: a member's liveness changed in this node's view. */
  member: [MemberChange];
  /**
   * Another MAC claims an address this plane answers for (split brain, or a host that
   * holds it): `member` names the member that MAC belongs to, when known.
   */
  conflict: [{ interface: string; ip: string; mac: string; member?: string }];
  /** An interface went down, or came back up and its link was opened again (`reason` when that failed). */
  link: [{ interface: string; up: boolean; reason?: string }];
}

export interface L2Plane extends EventEmitter<L2PlaneEvents> {
  /** Opens every interface of the configuration; rejects with the first failure, having closed the rest. */
  open(): Promise<void>;
  macOf(interfaceName: string): string | undefined;
  /** Answers for exactly `addresses` on `interfaceName`, announcing those newly taken over. */
  set(interfaceName: string, addresses: readonly string[]): void;
  /** Whoever already answers for `addresses` on `interfaceName`: ip -> MACs (conflict-probe.ts). */
  probe(interfaceName: string, addresses: string[], options: ConflictProbeOptions): Promise<Map<string, string[]>>;
  /** A planned stop: tell the members (BFD AdminDown, RFC 5880 6.8.16) while still answering. */
  adminDown(): void;
  /** Stops answering and closes every link; idempotent. */
  close(): Promise<void>;
}

/** A conflict goes on while both answer: reported once a second per address and MAC. */
const CONFLICT_REPORT_INTERVAL_MS = 1000;
/** How often each interface's state is looked at: a flap is noticed within this. */
const LINK_CHECK_MS = 250;

/** What the plane reaches the world through; `isUp` absent: interfaces never go down (memory links). */
export interface L2PlaneEnvironment {
  openLink(options: OpenLinkOptions): Promise<Link>;
  clock: Clock;
  isUp?(interfaceName: string): boolean;
}

/** The link filter: what the responder answers, and the answers a conflict probe listens for. */
const L2_FILTER = `(${CONFLICT_PROBE_FILTER} or ${Responder.captureFilter()})`;

export class LocalL2Plane extends EventEmitter<L2PlaneEvents> implements L2Plane {
  private readonly interfaces = new Map<string, { link: Link; announcer: L2Announcer }>();
  private readonly polling = new AbortController();
  private liveness?: { transport: BfdTransport; sessions: BfdPeers; membership?: { transport: MembershipTransport; view: Membership } };
  /** Member MAC -> its address, learnt from what its own address's frames claim. */
  private readonly memberMacs = new Map<string, string>();
  /** `ip mac` -> when that conflict was last reported: once a second, not once a frame. */
  private readonly conflictsReported = new Map<string, number>();
  /** Interfaces seen down, whose links are opened again once they are up. */
  private readonly down = new Set<string>();
  private linkCheck?: TimerHandle;
  private closed = false;

  constructor(
    private readonly config: L2Config,
    private readonly environment: L2PlaneEnvironment,
  ) {
    super();
  }

  async open(): Promise<void> {
    try {
      for (const name of this.config.interfaces) await this.openInterface(name);
      if (this.config.liveness) await this.startLiveness(this.config.liveness);
      if (this.config.busyPoll) void busyPoll(this.polling.signal);
      this.checkLinks();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  macOf(interfaceName: string): string | undefined {
    return this.interfaces.get(interfaceName)?.link.mac;
  }

  set(interfaceName: string, addresses: readonly string[]): void {
    this.entry(interfaceName).announcer.set(addresses);
  }

  probe(interfaceName: string, addresses: string[], options: ConflictProbeOptions): Promise<Map<string, string[]>> {
    return probeForConflicts(this.entry(interfaceName).link, addresses, options);
  }

  adminDown(): void {
    this.liveness?.sessions.adminDown();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.environment.clock.clearTimeout(this.linkCheck);
    this.polling.abort();
    this.stopLiveness();
    for (const { link, announcer } of this.interfaces.values()) {
      announcer.stop();
      link.close();
    }
    this.interfaces.clear();
  }

  /** Notes each interface that goes down, and opens its link again once it is back up. */
  private checkLinks(): void {
    const { isUp, clock } = this.environment;
    if (!isUp) return;
    for (const name of this.interfaces.keys()) {
      if (!isUp(name)) {
        if (!this.down.has(name)) this.emit('link', { interface: name, up: false });
        this.down.add(name);
      } else if (this.down.delete(name)) {
        void this.reopen(name);
      }
    }
    this.linkCheck = clock.setTimeout(() => this.checkLinks(), LINK_CHECK_MS);
  }

  /** A new link on `name`, answering for what the old one did; BFD starts again if it ran there. */
  private async reopen(name: string): Promise<void> {
    const old = this.entry(name);
    const addresses = old.announcer.addresses;
    const liveness = this.config.liveness?.interfaceName === name ? this.config.liveness : undefined;
    old.announcer.stop();
    old.link.close();
    if (liveness) this.stopLiveness();
    try {
      await this.openInterface(name);
      if (this.closed) return;
      this.entry(name).announcer.set(addresses);
      if (liveness) await this.startLiveness(liveness);
      this.emit('link', { interface: name, up: true });
    } catch (error) {
      // Down again already, most likely: the next check that finds it up tries again.
      this.down.add(name);
      this.emit('link', { interface: name, up: false, reason: error instanceof Error ? error.message : String(error) });
    }
  }

  private async startLiveness({ interfaceName, peers, timing, ring }: LivenessConfig): Promise<void> {
    const link = this.entry(interfaceName).link;
    const transport = await BfdTransport.open(link, [...new Set(peers.map((peer) => peer.local))]);
    const sessions = new BfdPeers(transport, peers, timing, this.environment.clock);
    this.liveness = { transport, sessions };
    transport.on('discarded', (discarded) => this.emit('bfd-discarded', discarded));
    sessions.on('discarded', (discarded) => this.emit('bfd-discarded', discarded));
    if (ring) {
      const membership = await MembershipTransport.open(link, ring.self.address);
      const view = new Membership(membership, ring, this.environment.clock);
      membership.on('discarded', (discarded) => this.emit('bfd-discarded', discarded));
      view.on('discarded', (discarded) => this.emit('bfd-discarded', discarded));
      view.on('member', (change) => this.emit('member', change));
      this.liveness.membership = { transport: membership, view };
      view.start();
    }
    // The suspicion leaves in the same turn as the detection (membership.ts).
    sessions.on('state', (change) => {
      this.emit('bfd', change);
      this.liveness?.membership?.view.sessionChanged(change);
    });
    sessions.start();
  }

  private stopLiveness(): void {
    this.liveness?.sessions.stop();
    this.liveness?.transport.close();
    this.liveness?.membership?.view.stop();
    this.liveness?.membership?.transport.close();
    this.liveness = undefined;
  }

  private async openInterface(name: string): Promise<void> {
    const { schedule, vlan, liveness } = this.config;
    const answering = vlan ? `vlan ${vlan.id} and ${L2_FILTER}` : L2_FILTER;
    const filter = liveness?.interfaceName === name ? `(${answering}) or ${BFD_CAPTURE_FILTER}${liveness.ring ? ` or ${MEMBERSHIP_CAPTURE_FILTER}` : ''}` : answering;
    const link = await this.environment.openLink({ interfaceName: name, filter, snapshotLength: L2_SNAPSHOT_LENGTH });
    const announcer = new L2Announcer(
      link,
      schedule,
      {
        answered: (answered) => this.emit('answered', { ...answered, interface: name }),
        gratuitous: (ip) => this.emit('gratuitous', { interface: name, ip, mac: link.mac }),
        malformed: (reason) => this.emit('malformed-frame', { interface: name, reason }),
        sendFailed: (error) => this.emit('send-failed', { interface: name, reason: error instanceof Error ? error.message : String(error) }),
      },
      { vlan, clock: this.environment.clock },
    );
    link.onFrame((frame) => this.checkClaims(name, link.mac, announcer, frame.data));
    this.interfaces.set(name, { link, announcer });
  }

  /** Every claim another MAC makes on an address answered here is a conflict; a member's own address teaches its MAC. */
  private checkClaims(interfaceName: string, ownMac: string, announcer: L2Announcer, frame: Buffer): void {
    let claims: Claim[];
    try {
      ({ claims } = readClaims(decodeFrame(frame)));
    } catch (error) {
      // The responder reports malformed frames; BFD datagrams are not ARP/NDP at all.
      if (error instanceof DecodeError) return;
      throw error;
    }
    const peers = this.config.liveness?.peers ?? [];
    for (const { ip, mac } of claims) {
      if (mac === ownMac) continue;
      if (peers.some((peer) => peer.address === ip)) this.memberMacs.set(mac, ip);
      if (!announcer.answersFor(ip)) continue;
      const key = `${ip} ${mac}`;
      const now = this.environment.clock.now();
      if (now - (this.conflictsReported.get(key) ?? -Infinity) < CONFLICT_REPORT_INTERVAL_MS) continue;
      this.conflictsReported.set(key, now);
      const member = this.memberMacs.get(mac);
      this.emit('conflict', { interface: interfaceName, ip, mac, ...(member !== undefined ? { member } : {}) });
    }
  }

  private entry(interfaceName: string): { link: Link; announcer: L2Announcer } {
    const entry = this.interfaces.get(interfaceName);
    if (!entry) throw new Error(`the L2 plane has no open link on ${interfaceName}`);
    return entry;
  }
}
