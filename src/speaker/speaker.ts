/**
 * The speaker core that `announce` and `run` share. A Speaker owns the wire — a link per
 * interface it answers on, a BGP session per peer, the listeners for the peers'
 * connections — from `start` to `stop`, and takes what it should announce as one
 * declarative desired state (`set`): which addresses to answer for on which interface at
 * Layer 2, which prefixes with which policy over BGP. Only differences reach the wire:
 * gratuitous frames for addresses taken over (L2Announcer), UPDATEs for changed prefixes
 * (each peer's Adj-RIB-Out). `announce` sets one fixed state (or two, behind a health
 * check: `followHealth`); `run` recomputes the state whenever an input changes.
 */
import { EventEmitter } from 'node:events';
import { BgpAnnouncer, NO_ROUTES, type AnnouncerEvents, type AnnouncerPeer, type Routes } from '../bgp/announcer.js';
import { BgpListener } from '../bgp/listener.js';
import type { Dial } from '../bgp/session.js';
import type { ConflictProbeOptions } from '../l2/conflict-probe.js';
import { listInterfaces } from '../link/interfaces.js';
import { systemClock, type Clock } from '../time.js';
import { UserError } from '../user-error.js';
import type { Family } from '../wire/bgp/registry.js';
import type { Health, HealthCheck } from './health-check.js';
import type { L2Config, L2Plane, L2PlaneEvents } from './l2-plane.js';
import { WorkerL2Plane } from './worker-l2-plane.js';

export interface DesiredState {
  /** Layer 2: interface name -> the addresses answered there. */
  l2: ReadonlyMap<string, Iterable<string>>;
  /** BGP: prefix -> its policy, for every peer the policy does not exclude. */
  bgp: Routes;
}

export const NOTHING: DesiredState = { l2: new Map(), bgp: NO_ROUTES };

export interface BgpConfig {
  peers: AnnouncerPeer[];
  families: Family[];
  /** Also take the connections the peers open to us, on their ports, at this address (absent: every address). */
  acceptIncoming?: { address?: string };
}

export interface SpeakerConfig {
  l2?: L2Config;
  bgp?: BgpConfig;
}

/**
 * What the speaker reaches the world through. By default the Layer 2 plane runs in a
 * worker thread over pcap links; tests give a LocalL2Plane over memory links, in-memory
 * sockets and a manual clock.
 */
export interface SpeakerEnvironment {
  l2Plane(config: L2Config): L2Plane;
  clock: Clock;
  dial?: Dial;
}

/** The real world: the Layer 2 plane in a worker thread over pcap links, Node's timers, TCP. */
export const SYSTEM_ENVIRONMENT: SpeakerEnvironment = { l2Plane: (l2) => new WorkerL2Plane(l2), clock: systemClock };

export interface SpeakerEvents extends AnnouncerEvents, L2PlaneEvents {
  /** A connection to us refused: from no peer of ours, or one its session did not take (RFC 4271 6.8). */
  rejected: [{ address: string; reason: string }];
}

/**
 * How a stop leaves the BGP peers: `withdraw` everything and close with a Cease, or close
 * without a word, as a restart (RFC 4724 4.2), so that routers keep forwarding meanwhile.
 */
export type ShutdownMode = 'withdraw' | 'restart';

/** Withdrawing and saying goodbye to a peer that no longer reads must not hold the stop. */
export const STOP_TIMEOUT_MS = 5000;

/** An address the speaker cannot announce as configured; the command turns it into exit 2. */
export class SpeakerConfigError extends UserError {
  override readonly name = 'SpeakerConfigError';
}

export class Speaker extends EventEmitter<SpeakerEvents> {
  private readonly l2?: L2Plane;
  private readonly bgp?: BgpAnnouncer;
  private readonly bgpListeners: BgpListener[] = [];
  private desired: DesiredState = NOTHING;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(
    private readonly config: SpeakerConfig,
    private readonly environment: SpeakerEnvironment = SYSTEM_ENVIRONMENT,
  ) {
    super();
    if (config.l2) {
      const l2 = environment.l2Plane(config.l2);
      l2.on('answered', (event) => this.emit('answered', event));
      l2.on('gratuitous', (event) => this.emit('gratuitous', event));
      l2.on('malformed-frame', (event) => this.emit('malformed-frame', event));
      l2.on('send-failed', (event) => this.emit('send-failed', event));
      l2.on('failed', (event) => this.emit('failed', event));
      l2.on('bfd', (event) => this.emit('bfd', event));
      l2.on('bfd-discarded', (event) => this.emit('bfd-discarded', event));
      l2.on('member', (event) => this.emit('member', event));
      l2.on('conflict', (event) => this.emit('conflict', event));
      l2.on('link', (event) => this.emit('link', event));
      this.l2 = l2;
    }
    if (config.bgp) {
      const bgp = new BgpAnnouncer(config.bgp.peers, config.bgp.families, environment.dial);
      bgp.on('state', (event) => this.emit('state', event));
      bgp.on('announced', (event) => this.emit('announced', event));
      bgp.on('withdrawn', (event) => this.emit('withdrawn', event));
      bgp.on('skipped', (event) => this.emit('skipped', event));
      bgp.on('notification', (event) => this.emit('notification', event));
      bgp.on('malformed', (event) => this.emit('malformed', event));
      bgp.on('configured', (event) => this.emit('configured', event));
      bgp.on('connect-failed', (event) => this.emit('connect-failed', event));
      this.bgp = bgp;
    }
  }

  /** Each BGP peer's session, as the user sees it. */
  get peers(): BgpAnnouncer['status'] {
    return this.bgp?.status ?? [];
  }

  /** True once any BGP session has reached Established. */
  get everEstablished(): boolean {
    return this.bgp?.everEstablished ?? false;
  }

  /** The MAC each L2 interface answers with. */
  macOf(interfaceName: string): string | undefined {
    return this.state === 'started' ? this.l2?.macOf(interfaceName) : undefined;
  }

  /** Opens every link and listener and starts the sessions; on failure, closes what it opened and throws. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('a speaker starts once');
    this.state = 'started';
    try {
      await this.l2?.open();
      if (this.bgp && this.config.bgp?.acceptIncoming) await this.listen(this.bgp, this.config.bgp.peers, this.config.bgp.acceptIncoming.address);
    } catch (error) {
      await this.stop('vipkit could not start');
      throw error;
    }
    this.set(this.desired);
    this.bgp?.start();
  }

  /**
   * Before claiming addresses: whoever already answers for them on `interfaceName`
   * (duplicate-address probes, conflict-probe.ts), as ip -> MACs.
   */
  probeForConflicts(interfaceName: string, addresses: string[], options: ConflictProbeOptions): Promise<Map<string, string[]>> {
    if (!this.l2 || this.state !== 'started') throw new Error('the speaker probes on its links once started');
    return this.l2.probe(interfaceName, addresses, options);
  }

  /** Brings the wire to `desired`; before start it is remembered and applied at start. */
  set(desired: DesiredState): void {
    for (const name of desired.l2.keys()) {
      if (!(this.config.l2?.interfaces ?? []).includes(name)) throw new Error(`the speaker was not configured to answer on ${name}`);
    }
    this.desired = desired;
    if (this.state !== 'started') return;
    for (const name of this.config.l2?.interfaces ?? []) this.l2!.set(name, [...(desired.l2.get(name) ?? [])]);
    this.bgp?.set(desired.bgp);
  }

  /** New peers while running: only sessions whose negotiated parameters change are reset (BgpAnnouncer.configure). */
  setPeers(peers: AnnouncerPeer[]): void {
    if (!this.bgp) throw new Error('the speaker was not configured for BGP');
    this.bgp.configure(peers);
  }

  /** BFD found the BGP peer at `address` unreachable: its session ends now rather than at its hold time (RFC 5882 4.3). */
  bfdDown(address: string, reason: string): void {
    this.bgp?.bfdDown(address, reason);
  }

  /** The first step of a planned stop: the members hear that this node leaves (BFD AdminDown) while it still answers. */
  adminDown(): void {
    this.l2?.adminDown();
  }

  /**
   * Stops answering and leaves the BGP peers as `mode` says: withdrawing every route and
   * closing each session with a Cease carrying `message` (RFC 8203), or closing as a
   * restart; within STOP_TIMEOUT_MS however the peers behave. Idempotent.
   */
  async stop(message: string, mode: ShutdownMode = 'withdraw'): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    await this.l2?.close();
    for (const listener of this.bgpListeners) listener.close();
    if (this.bgp) await this.bounded(mode === 'withdraw' ? this.bgp.stop(message) : this.bgp.closeForRestart(), STOP_TIMEOUT_MS);
  }

  /** One listener per peer port: a connection goes to the session of the peer it comes from. */
  private async listen(bgp: BgpAnnouncer, peers: AnnouncerPeer[], address: string | undefined): Promise<void> {
    for (const port of new Set(peers.map((peer) => peer.session.port))) {
      const keys = peers.flatMap(({ session }) => (session.port === port && session.password !== undefined ? [{ peer: session.peerAddress, password: session.password }] : []));
      const listener = new BgpListener({ address, port, keys, sessionFor: (from) => bgp.sessionOf(from) ?? `${from} is not a peer` });
      listener.on('rejected', (event) => this.emit('rejected', event));
      await listener.listen();
      this.bgpListeners.push(listener);
    }
  }

  private bounded(work: Promise<void>, ms: number): Promise<void> {
    const { clock } = this.environment;
    return new Promise((resolve) => {
      const timer = clock.setTimeout(resolve, ms);
      void work.then(() => {
        clock.clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * Keeps `speaker` at `up` while `health` is up and at `down` otherwise — ExaBGP's
 * healthcheck, keepalived's track scripts. It starts down, as the health check does.
 * Returns the function that stops following.
 */
export function followHealth(speaker: Speaker, health: HealthCheck, up: DesiredState, down: DesiredState): () => void {
  const apply = (state: Health) => speaker.set(state === 'up' ? up : down);
  apply(health.state);
  health.on('change', apply);
  return () => health.off('change', apply);
}

/** An address this host already holds is answered by its kernel: two answers would be a duplicate of our own making. */
export function refuseHostAddresses(addresses: Iterable<string>): void {
  const wanted = new Set(addresses);
  for (const iface of listInterfaces()) {
    const held = [...iface.ipv4, ...iface.ipv6].find((address) => wanted.has(address.address));
    if (held) throw new SpeakerConfigError(`${held.address} is configured on ${iface.name} of this host, whose kernel already answers for it; remove it there or do not announce it.`);
  }
}
