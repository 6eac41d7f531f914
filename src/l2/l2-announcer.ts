import { isIP } from 'node:net';
import type { Link, ReceivedFrame } from '../link/link.js';
import { systemClock, type Clock, type TimerHandle } from '../time.js';
import type { VlanTag } from '../wire/ethernet.js';
import { gratuitousArp, unsolicitedAdvertisement } from './gratuitous.js';
import { describeMalformed, describeRequest, Responder, type Answered } from './responder.js';

export interface L2AnnouncerEvents {
  answered?(answered: Answered): void;
  gratuitous?(ip: string): void;
  /** An ARP or NDP frame that could not be read: reported, never fatal. */
  malformed?(reason: string): void;
  /**
   * The link refused a frame (ENOBUFS, the interface briefly down): reported, never fatal.
   * A gratuitous frame is sent again after a back-off while `ip` is still ours; a reply is
   * not, because the asker asks again, as ARP and NDP clients do.
   */
  sendFailed?(error: unknown, frame: 'reply' | 'gratuitous', ip: string): void;
}

export interface GratuitousSchedule {
  /** Frames in the burst sent when an address is taken over. */
  count: number;
  intervalMs: number;
  /** Repeat one frame per address this often, to keep switch tables warm; absent: never. */
  refreshMs?: number;
  /** At most this many gratuitous frames per second, however many addresses are taken over at once. */
  ratePerSecond: number;
}

export interface L2AnnouncerOptions {
  vlan?: VlanTag;
  clock?: Clock;
}

/** How often the paced queue of gratuitous frames is drained. */
const DRAIN_TICK_MS = 10;

/**
 * After a failed gratuitous send the queue waits this long, doubling with each failure in
 * a row up to LAST_RETRY_MS. A transient error (ENOBUFS, a flapping interface) clears in
 * tens of ms, so the first retries keep a takeover close to on time; a link that stays
 * down costs one attempt (and one event) a second rather than a busy loop, and once it is
 * back the frames go out within a second, about an ARP client's own retry interval.
 */
const FIRST_RETRY_MS = 25;
const LAST_RETRY_MS = 1000;

/**
 * The token bucket counts thousandths of a frame, so that whole milliseconds times whole
 * frames per second add up exactly: tenths of a frame summed ten times fall short of one
 * and would hold a frame back by a tick.
 */
const CREDIT_PER_FRAME = 1000;

/**
 * Layer 2 announcing, declaratively: `set(addresses)` makes the responder answer for
 * exactly those, and every address newly taken over is announced at once with a burst of
 * gratuitous ARPs / unsolicited NAs, so that neighbours and switches move to our MAC
 * without waiting for their caches to expire (the failover time users feel). Gratuitous
 * frames go through one paced queue, so taking over thousands of addresses at once is
 * not a broadcast storm.
 */
export class L2Announcer {
  private current = new Set<string>();
  private readonly responder: Responder;
  private readonly clock: Clock;
  private readonly vlan?: VlanTag;
  private readonly burstTimers = new Set<TimerHandle>();
  private refresher?: TimerHandle;
  /** Addresses waiting for a gratuitous frame, each once, in order. */
  private readonly pending = new Set<string>();
  /** The token bucket's content, in CREDIT_PER_FRAME units. */
  private credit: number;
  private lastDrain: number;
  /** The queue's next drain: the pace's next tick, or the end of a failed send's back-off. */
  private drainer?: TimerHandle;
  private retryMs = FIRST_RETRY_MS;
  private readonly stopListening: () => void;

  /** The link's capture filter must pass `Responder.captureFilter()`. */
  constructor(
    private readonly link: Link,
    private readonly schedule: GratuitousSchedule,
    private readonly events: L2AnnouncerEvents = {},
    { vlan, clock = systemClock }: L2AnnouncerOptions = {},
  ) {
    Responder.warmUp();
    this.responder = new Responder(link.mac);
    this.vlan = vlan;
    this.clock = clock;
    this.credit = this.maxCredit;
    this.lastDrain = clock.now();
    this.stopListening = link.onFrame((frame) => this.answer(frame));
    if (schedule.refreshMs !== undefined) this.refreshEvery(schedule.refreshMs);
  }

  /** The addresses answered for now. */
  get addresses(): string[] {
    return [...this.current];
  }

  /** Whether `ip` is answered for now. */
  answersFor(ip: string): boolean {
    return this.current.has(ip);
  }

  set(addresses: Iterable<string>): void {
    const next = new Set(addresses);
    this.responder.setAddresses(next);
    const taken = [...next].filter((ip) => !this.current.has(ip));
    this.current = next;
    if (taken.length > 0) this.burst(taken);
  }

  stop(): void {
    this.stopListening();
    this.clock.clearTimeout(this.refresher);
    this.clock.clearTimeout(this.drainer);
    this.drainer = undefined;
    this.pending.clear();
    for (const timer of this.burstTimers) this.clock.clearTimeout(timer);
    this.burstTimers.clear();
    this.set([]);
  }

  private answer(frame: ReceivedFrame): void {
    const handling = this.responder.answer(frame);
    if ('ignored' in handling) {
      if (handling.ignored === 'malformed') this.events.malformed?.(describeMalformed(frame.data));
      return;
    }
    const failure = this.send(handling.reply);
    // Text comes after the reply has left: describing the request decodes the whole frame.
    const request = describeRequest(frame.data);
    if (failure) this.events.sendFailed?.(failure.error, 'reply', request.ip);
    else this.events.answered?.(request);
  }

  private refreshEvery(ms: number): void {
    this.refresher = this.clock.setTimeout(() => {
      this.refreshEvery(ms);
      this.enqueue([...this.current]);
    }, ms);
  }

  private burst(addresses: string[]): void {
    for (let round = 1; round < this.schedule.count; round++) {
      const timer = this.clock.setTimeout(() => {
        this.burstTimers.delete(timer);
        this.enqueue(addresses);
      }, round * this.schedule.intervalMs);
      this.burstTimers.add(timer);
    }
    // The first round goes last: an event handler may stop us during its sends, and stop() must find the others.
    this.enqueue(addresses);
  }

  private enqueue(addresses: string[]): void {
    for (const ip of addresses) this.pending.add(ip);
    // A drain already scheduled (the next tick, or a back-off) takes these in their turn.
    if (this.drainer === undefined) this.drain();
  }

  /** Never more credit saved up than one tick's worth of frames (at least one frame). */
  private get maxCredit(): number {
    return Math.max(CREDIT_PER_FRAME, this.schedule.ratePerSecond * DRAIN_TICK_MS);
  }

  /**
   * Sends what the rate allows now; what is no longer ours by the time it is due is
   * dropped. A failed send puts its address back in the queue and holds the whole queue
   * for the back-off: it is the link that failed, not the address.
   */
  private drain(): void {
    const now = this.clock.now();
    this.credit = Math.min(this.maxCredit, this.credit + (now - this.lastDrain) * this.schedule.ratePerSecond);
    this.lastDrain = now;
    let nextDrainMs = DRAIN_TICK_MS;
    for (const ip of this.pending) {
      if (this.credit < CREDIT_PER_FRAME) break;
      this.pending.delete(ip);
      if (!this.current.has(ip)) continue;
      this.credit -= CREDIT_PER_FRAME;
      if (this.announce(ip)) {
        this.retryMs = FIRST_RETRY_MS;
        continue;
      }
      // The event's handler may have given the address up, or stopped us.
      if (this.current.has(ip)) this.pending.add(ip);
      nextDrainMs = this.retryMs;
      this.retryMs = Math.min(2 * this.retryMs, LAST_RETRY_MS);
      break;
    }
    if (this.pending.size > 0) this.drainAfter(nextDrainMs);
  }

  /** Replaces any drain already scheduled: an event handler calling set() drains from inside a drain. */
  private drainAfter(ms: number): void {
    this.clock.clearTimeout(this.drainer);
    this.drainer = this.clock.setTimeout(() => {
      this.drainer = undefined;
      this.drain();
    }, ms);
  }

  /** Sends one gratuitous frame for `ip`; false when the link refused it (reported). */
  private announce(ip: string): boolean {
    const frame = isIP(ip) === 4 ? gratuitousArp(this.link.mac, ip, 'request', this.vlan) : unsolicitedAdvertisement(this.link.mac, ip, this.vlan);
    const failure = this.send(frame);
    if (failure) this.events.sendFailed?.(failure.error, 'gratuitous', ip);
    else this.events.gratuitous?.(ip);
    return failure === undefined;
  }

  /** Sends run from frame and timer callbacks: a failure is returned to be reported, never thrown into the event loop. */
  private send(frame: Buffer): { error: unknown } | undefined {
    try {
      this.link.send(frame);
      return undefined;
    } catch (error) {
      return { error };
    }
  }
}
