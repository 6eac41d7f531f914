import { isIP } from 'node:net';
import type { Link } from '../link/link.js';
import type { VlanTag } from '../wire/ethernet.js';
import { gratuitousArp, unsolicitedAdvertisement } from './gratuitous.js';
import { describeMalformed, describeRequest, Responder, type Answered } from './responder.js';

export interface L2AnnouncerEvents {
  answered?(answered: Answered): void;
  gratuitous?(ip: string): void;
  /** An ARP or NDP frame that could not be read: reported, never fatal. */
  malformed?(reason: string): void;
  /** Sending failed (the interface went away, say): the announcer has stopped. */
  failed?(error: unknown): void;
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

/** How often the paced queue of gratuitous frames is drained. */
const DRAIN_TICK_MS = 10;

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
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly refresh?: NodeJS.Timeout;
  /** Addresses waiting for a gratuitous frame, each once, in order. */
  private readonly pending = new Set<string>();
  private tokens: number;
  private lastDrain = performance.now();
  private drainer?: NodeJS.Timeout;
  private readonly stopListening: () => void;

  /** The link's capture filter must pass `Responder.captureFilter()`. */
  constructor(
    private readonly link: Link,
    private readonly schedule: GratuitousSchedule,
    private readonly events: L2AnnouncerEvents = {},
    private readonly vlan?: VlanTag,
  ) {
    Responder.warmUp();
    this.responder = new Responder(link.mac);
    this.tokens = this.burstSize;
    this.stopListening = link.onFrame((frame) => {
      const handling = this.responder.answer(frame);
      if ('reply' in handling) {
        if (this.send(handling.reply)) this.events.answered?.(describeRequest(frame.data));
      } else if (handling.ignored === 'malformed') {
        this.events.malformed?.(describeMalformed(frame.data));
      }
    });
    if (schedule.refreshMs !== undefined) {
      this.refresh = setInterval(() => this.enqueue([...this.current]), schedule.refreshMs);
    }
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
    clearInterval(this.refresh);
    clearInterval(this.drainer);
    this.drainer = undefined;
    this.pending.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.set([]);
  }

  private burst(addresses: string[]): void {
    this.enqueue(addresses);
    for (let round = 1; round < this.schedule.count; round++) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.enqueue(addresses);
      }, round * this.schedule.intervalMs);
      this.timers.add(timer);
    }
  }

  private enqueue(addresses: string[]): void {
    for (const ip of addresses) this.pending.add(ip);
    this.drain();
    if (this.pending.size > 0) this.drainer ??= setInterval(() => this.drain(), DRAIN_TICK_MS);
  }

  /** A token bucket: the rate over time, and never more saved up than one tick's worth. */
  private get burstSize(): number {
    return Math.max(1, (this.schedule.ratePerSecond * DRAIN_TICK_MS) / 1000);
  }

  /** Sends what the rate allows now; what is no longer ours by the time it is due is dropped. */
  private drain(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burstSize, this.tokens + ((now - this.lastDrain) * this.schedule.ratePerSecond) / 1000);
    this.lastDrain = now;
    for (const ip of this.pending) {
      if (this.tokens < 1) break;
      this.pending.delete(ip);
      if (!this.current.has(ip)) continue;
      this.tokens -= 1;
      this.announce(ip);
    }
    if (this.pending.size === 0) {
      clearInterval(this.drainer);
      this.drainer = undefined;
    }
  }

  private announce(ip: string): void {
    const frame = isIP(ip) === 4 ? gratuitousArp(this.link.mac, ip, 'request', this.vlan) : unsolicitedAdvertisement(this.link.mac, ip, this.vlan);
    if (this.send(frame)) this.events.gratuitous?.(ip);
  }

  /** Sends run from frame and timer callbacks: a failure is reported, never thrown into the event loop. */
  private send(frame: Buffer): boolean {
    try {
      this.link.send(frame);
      return true;
    } catch (error) {
      this.stop();
      this.events.failed?.(error);
      return false;
    }
  }
}
