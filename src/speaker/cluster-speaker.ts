/**
 * `vipkit run` in Layer 2 mode: a Speaker whose desired state follows the cluster. The
 * members' BFD sessions (on the data plane's thread) say who is live; every change of
 * liveness recomputes the placement (election.ts) and the desired state (desired-state.ts),
 * and Speaker.set puts the difference on the wire: answers and gratuitous frames for the
 * VIPs this node takes over, silence for those it gives up. What it decides is logged
 * with MetalLB's event names, which users grep their speakers' logs for.
 */
import { EventEmitter } from 'node:events';
import type { BfdStateChange, BfdTiming } from '../liveness/bfd-peers.js';
import type { GratuitousSchedule } from '../l2/l2-announcer.js';
import { NO_ROUTES } from '../bgp/announcer.js';
import type { TimerHandle } from '../time.js';
import type { ClusterConfig } from './cluster-config.js';
import { desiredOf, layer2DesiredState, type Layer2Decision, type Layer2Service } from './desired-state.js';
import { placementOrder, type ElectionNode } from './election.js';
import type { LivenessConfig } from './l2-plane.js';
import { Speaker, SpeakerConfigError, SYSTEM_ENVIRONMENT, type SpeakerEnvironment } from './speaker.js';

export interface ClusterOptions {
  /** The interface a VIP is answered on here; undefined: this node cannot announce it. */
  interfaceFor(ip: string): string | undefined;
  /** The interface towards a member's address, and our address on it. */
  memberPath(address: string): { interfaceName: string; local: string } | undefined;
  schedule: GratuitousSchedule;
  timing: BfdTiming;
  /**
   * How long a starting node waits for its members' sessions before it claims anything:
   * it claims once every member is Up, or when this has passed (a member not heard from
   * by then is dead). Claiming earlier would answer beside owners already answering — a
   * node that rejoins would take its VIPs back while their current owner still holds them.
   */
  startupGraceMs: number;
  /** A planned stop keeps answering this long after telling the members, so that the next owner answers first. */
  handoverMs: number;
}

/** One log line: MetalLB's field and event names where they apply. */
export interface ClusterLog {
  level: 'info' | 'warn';
  event: string;
  msg: string;
  [field: string]: unknown;
}

type MemberState = 'unknown' | 'up' | 'down';

/** What `vipkit status` shows: the members, and per IP its placement and this node's part in it. */
export interface ClusterStatus {
  node: string;
  members: { name: string; address: string; state: MemberState }[];
  addresses: {
    ip: string;
    service: string;
    pool: string;
    owner?: string;
    order: string[];
    /** Where this node answers for it; absent when it does not, with `reason`. */
    interface?: string;
    reason?: string;
    /** When this node last took it over or gave it up. */
    changed?: string;
  }[];
}

export interface ClusterSpeakerEvents {
  log: [ClusterLog];
  /** A request answered, and a gratuitous frame sent, for the per-IP counters. */
  answered: [{ ip: string }];
  gratuitous: [{ ip: string }];
  /** The data plane died (a bug): nothing is answered any more, so the speaker must stop. */
  failed: [string];
}

export class ClusterSpeaker extends EventEmitter<ClusterSpeakerEvents> {
  private readonly speaker: Speaker;
  /** Member address -> its name and what its session says. */
  private readonly members = new Map<string, { name: string; labels: Record<string, string>; state: MemberState; leaving?: boolean }>();
  private readonly interfaces: string[];
  private graceTimer?: TimerHandle;
  private graceOver = false;
  /** What this node announces now: ip -> its decision. */
  private announced = new Map<string, Layer2Decision>();
  private decisions: Layer2Decision[] = [];
  /** ip -> when this node last took it over or gave it up (ISO-8601). */
  private readonly changedAt = new Map<string, string>();
  /** Service -> the member address it was yielded to in a split brain. */
  private readonly yieldedTo = new Map<string, string>();
  private services: Layer2Service[];

  constructor(
    private readonly config: ClusterConfig,
    private readonly options: ClusterOptions,
    private readonly environment: SpeakerEnvironment = SYSTEM_ENVIRONMENT,
  ) {
    super();
    this.services = config.services;
    for (const member of config.members) this.members.set(member.address, { name: member.name, labels: member.labels, state: 'unknown' });
    const liveness = this.liveness();
    const answering = config.services.flatMap((service) => service.ips.map((ip) => options.interfaceFor(ip)).filter((name): name is string => name !== undefined));
    this.interfaces = [...new Set([...answering, ...(liveness ? [liveness.interfaceName] : [])])];
    this.speaker = new Speaker({ l2: { interfaces: this.interfaces, schedule: options.schedule, ...(liveness ? { liveness } : {}) } }, environment);
    this.speaker.on('member', (change) => this.memberChanged(change));
    this.speaker.on('conflict', (conflict) => this.conflict(conflict));
    this.speaker.on('answered', ({ ip }) => this.emit('answered', { ip }));
    this.speaker.on('gratuitous', ({ ip }) => this.emit('gratuitous', { ip }));
    this.speaker.on('send-failed', ({ interface: name, reason }) => this.log('warn', 'sendFailed', 'could not send a frame; retrying', { interface: name, reason }));
    this.speaker.on('failed', ({ reason }) => {
      this.log('warn', 'dataPlaneFailed', 'the data plane stopped', { reason });
      this.emit('failed', reason);
    });
  }

  get status(): ClusterStatus {
    return {
      node: this.config.self.name,
      members: [...this.members].map(([address, { name, state }]) => ({ name, address, state })),
      addresses: this.decisions.map((decision) => ({
        ip: decision.ip,
        service: decision.service,
        pool: decision.pool,
        ...(decision.placement.owner !== undefined ? { owner: decision.placement.owner } : {}),
        order: decision.placement.order,
        ...(decision.interface !== undefined ? { interface: decision.interface } : { reason: decision.notAnnounced }),
        ...(this.changedAt.has(decision.ip) ? { changed: this.changedAt.get(decision.ip) } : {}),
      })),
    };
  }

  async start(): Promise<void> {
    await this.speaker.start();
    for (const name of this.interfaces) this.log('info', 'createARPResponder', 'created ARP/NDP responder for interface', { interface: name });
    this.recompute();
    this.graceTimer = this.environment.clock.setTimeout(() => {
      this.graceOver = true;
      for (const [address, member] of this.members) {
        if (member.state === 'unknown') this.log('warn', 'memberDown', 'no BFD session came up with this member at start', { member: member.name, address });
      }
      this.recompute();
    }, this.options.startupGraceMs);
  }

  /**
   * A planned stop, make before break: the members hear AdminDown and take over at once
   * (announcing with gratuitous frames) while this node still answers, for handoverMs.
   */
  async stop(): Promise<void> {
    this.environment.clock.clearTimeout(this.graceTimer);
    this.speaker.adminDown();
    await new Promise<void>((resolve) => this.environment.clock.setTimeout(resolve, this.options.handoverMs));
    for (const [ip, decision] of this.announced) this.log('info', 'serviceWithdrawn', 'withdrawing service announcement', { ...fields(decision), ip, reason: 'stopping' });
    this.announced.clear();
    await this.speaker.stop('vipkit run stopped');
  }

  /**
   * The nodes as the election sees them. Until the startup grace is over, a member not
   * heard from yet counts as live, so that the placement shown while starting is the
   * whole cluster's.
   */
  private electionNodes(): ElectionNode[] {
    const members = [...this.members.values()].map(({ name, labels, state }) => ({ name, labels, live: state === 'up' || (state === 'unknown' && !this.graceOver) }));
    return [{ ...this.config.self, live: true }, ...members];
  }

  /** Still waiting for a member's first word, within the startup grace. */
  private get starting(): boolean {
    return !this.graceOver && [...this.members.values()].some((member) => member.state === 'unknown');
  }

  private recompute(): void {
    const computed = layer2DesiredState(this.services, this.config.self.name, this.electionNodes(), this.options.interfaceFor);
    const decisions = computed.decisions.map((decision) => this.heldBack(decision));
    const desired = desiredOf(decisions).l2;
    this.decisions = decisions;
    const now = new Map(decisions.filter((decision) => decision.interface !== undefined).map((decision) => [decision.ip, decision]));
    this.speaker.set({ l2: desired, bgp: NO_ROUTES });
    for (const ip of [...this.announced.keys(), ...now.keys()]) {
      if (this.announced.has(ip) !== now.has(ip)) this.changedAt.set(ip, new Date().toISOString());
    }
    for (const [ip, decision] of this.announced) {
      if (!now.has(ip)) this.log('info', 'serviceWithdrawn', 'withdrawing service announcement', { ...fields(decision), ip, reason: decisions.find((candidate) => candidate.ip === ip)?.notAnnounced ?? 'no longer a service' });
    }
    for (const [ip, decision] of now) {
      if (!this.announced.has(ip)) this.log('info', 'serviceAnnounced', 'service has IP, announcing', { ...fields(decision), ip, interface: decision.interface });
    }
    this.announced = now;
  }

  /**
   * New services (a re-read file): only what changed reaches the wire — new VIPs are
   * announced, removed ones withdrawn, the rest untouched.
   */
  updateServices(services: Layer2Service[]): void {
    const before = new Set(this.services.map((service) => service.key));
    const after = new Set(services.map((service) => service.key));
    this.log('info', 'configReloaded', 'services re-read', { added: [...after].filter((key) => !before.has(key)), removed: [...before].filter((key) => !after.has(key)) });
    this.services = services;
    this.recompute();
  }

  /** A decision to announce, held back while starting, or yielded to a member that also answers and comes first. */
  private heldBack(decision: Layer2Decision): Layer2Decision {
    if (decision.interface === undefined) return decision;
    const { interface: _answering, ...held } = decision;
    // The data plane opened its links at start.
    if (!this.interfaces.includes(decision.interface)) return { ...held, notAnnounced: `its interface ${decision.interface} was not in use at start; restart to answer there` };
    if (this.starting) return { ...held, notAnnounced: "starting: waiting for the members' BFD sessions" };
    const winner = this.yieldedTo.get(decision.service);
    if (winner !== undefined) return { ...held, notAnnounced: `${this.members.get(winner)!.name} answers for it too and comes first in its order (split brain)` };
    return decision;
  }

  /**
   * Another MAC claims a VIP this node answers for. When it is a member's, the same order
   * that places VIPs settles it: the one that comes first keeps it, the other yields until
   * their session changes state — both ends apply the rule, so exactly one keeps answering.
   */
  private conflict({ ip, mac, member: address }: { ip: string; mac: string; member?: string }): void {
    const decision = this.decisions.find((candidate) => candidate.ip === ip);
    const member = address === undefined ? undefined : this.members.get(address);
    this.log('warn', 'conflict', 'another MAC answers for an IP this node announces', { ip, mac, ...(member ? { member: member.name } : {}), ...(decision ? fields(decision) : {}) });
    // A member leaving on purpose answers on for a moment (make before break): never yield to it.
    if (!decision || !member || address === undefined || member.leaving) return;
    const service = this.services.find((candidate) => candidate.key === decision.service)!;
    if (placementOrder([this.config.self.name, member.name], service.ips[0]!)[0] !== member.name) return;
    this.yieldedTo.set(service.key, address);
    this.recompute();
  }

  private memberChanged(change: BfdStateChange): void {
    const member = this.members.get(change.peer);
    if (!member) return;
    // Whatever the session now says supersedes a split brain settled without it.
    for (const [service, address] of this.yieldedTo) if (address === change.peer) this.yieldedTo.delete(service);
    member.leaving = change.to !== 'Up' && change.remoteState === 'AdminDown';
    const state: MemberState = change.to === 'Up' ? 'up' : change.from === 'Up' || this.graceOver ? 'down' : member.state;
    if (state === member.state) return;
    member.state = state;
    this.log(state === 'up' ? 'info' : 'warn', state === 'up' ? 'memberUp' : 'memberDown', state === 'up' ? 'BFD session with member is Up' : 'BFD session with member went down', {
      member: member.name,
      address: change.peer,
      reason: change.reason,
    });
    this.recompute();
  }

  private liveness(): LivenessConfig | undefined {
    if (this.members.size === 0) return undefined;
    const paths = [...this.members.keys()].map((address) => {
      const path = this.options.memberPath(address);
      if (!path) throw new SpeakerConfigError(`no interface here has a subnet holding member ${this.members.get(address)!.name} (${address}); members are BFD peers on a directly connected link (RFC 5881).`);
      return { address, ...path };
    });
    const interfaces = new Set(paths.map((path) => path.interfaceName));
    if (interfaces.size > 1) throw new SpeakerConfigError(`the members are reached over ${[...interfaces].join(' and ')}; vipkit run watches them on one interface.`);
    return { interfaceName: paths[0]!.interfaceName, members: paths.map(({ address, local }) => ({ address, local })), timing: this.options.timing };
  }

  private log(level: ClusterLog['level'], event: string, msg: string, extra: Record<string, unknown>): void {
    this.emit('log', { level, event, msg, node: this.config.self.name, ...extra });
  }
}

function fields(decision: Layer2Decision): Record<string, unknown> {
  return { service: decision.service, pool: decision.pool, protocol: 'layer2' };
}
