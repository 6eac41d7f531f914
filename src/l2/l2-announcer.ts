import { isIP } from 'node:net';
import type { Link } from '../link/link.js';
import type { VlanTag } from '../wire/ethernet.js';
import { gratuitousArp, unsolicitedAdvertisement } from './gratuitous.js';
import type { Responder } from './responder.js';

export interface GratuitousSchedule {
  /** Frames in the burst sent when an address is taken over. */
  count: number;
  intervalMs: number;
  /** Repeat one frame per address this often, to keep switch tables warm; absent: never. */
  refreshMs?: number;
}

/**
 * Layer 2 announcing, declaratively: `set(addresses)` makes the responder answer for
 * exactly those, and every address newly taken over is announced at once with a burst of
 * gratuitous ARPs / unsolicited NAs, so that neighbours and switches move to our MAC
 * without waiting for their caches to expire (the failover time users feel).
 */
export class L2Announcer {
  private current = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private refresh?: NodeJS.Timeout;

  constructor(
    private readonly link: Link,
    private readonly responder: Responder,
    private readonly schedule: GratuitousSchedule,
    private readonly onGratuitous: (ip: string) => void = () => {},
    private readonly vlan?: VlanTag,
  ) {
    if (schedule.refreshMs !== undefined) {
      this.refresh = setInterval(() => this.current.forEach((ip) => this.announce(ip)), schedule.refreshMs);
    }
  }

  set(addresses: Iterable<string>): void {
    const next = new Set(addresses);
    this.responder.setAddresses(next);
    const taken = [...next].filter((ip) => !this.current.has(ip));
    this.current = next;
    for (const ip of taken) this.burst(ip);
  }

  stop(): void {
    clearInterval(this.refresh);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.set([]);
  }

  private burst(ip: string): void {
    this.announce(ip);
    for (let sent = 1; sent < this.schedule.count; sent++) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.current.has(ip)) this.announce(ip);
      }, sent * this.schedule.intervalMs);
      this.timers.add(timer);
    }
  }

  private announce(ip: string): void {
    const frame = isIP(ip) === 4 ? gratuitousArp(this.link.mac, ip, 'request', this.vlan) : unsolicitedAdvertisement(this.link.mac, ip, this.vlan);
    this.link.send(frame);
    this.onGratuitous(ip);
  }
}
