/**
 * `vipkit watch`'s analysis: frames with their capture times in, events out. The live
 * capture and `-r` feed it the same way, so they give the same events for the same
 * frames; it never reads a clock (DESIGN.md: timestamps come from the frames).
 */
import { DecodeError } from '../wire/decode-error.js';
import { decodeFrame, type DecodedFrame } from '../wire/frame.js';
import { AddressWatch, type AddressEvent, type AddressWatchOptions } from './address-watch.js';

export interface WatchFrame {
  data: Buffer;
  /** Capture time, nanoseconds since the Unix epoch. */
  at: bigint;
  interfaceName?: string;
}

/** What the engine made of the frames it was given; malformed ones are counted, never fatal. */
export interface FrameCounts {
  frames: number;
  arp: number;
  ndp: number;
  malformed: number;
  /** Frames of another VLAN than `--vlan`, or of no interest (neither ARP, NDP nor watched TCP). */
  ignored: number;
}

/** Another protocol's observer on the same frames (BGP over TCP). */
export interface FrameObserver<E> {
  /** True when it took the frame. */
  observe(decoded: DecodedFrame, at: bigint, interfaceName: string | undefined, events: E[]): boolean;
  finish(end: bigint, events: E[]): void;
}

export interface WatchEngineOptions extends AddressWatchOptions {
  /** Only frames tagged with this 802.1Q VLAN id. */
  vlan?: number;
}

/**
 * ARP and NDP traffic repeats itself (the same requests every second, the same answers),
 * and decoding is a pure function of the bytes: frames this short are decoded once.
 */
const MEMO_MAX_FRAME_LENGTH = 96;
const MEMO_ENTRIES = 4096;

export class WatchEngine<E = never> {
  readonly counts: FrameCounts = { frames: 0, arp: 0, ndp: 0, malformed: 0, ignored: 0 };
  private readonly recentlyDecoded = new Map<string, DecodedFrame>();
  readonly addresses: AddressWatch;
  /** The capture time of the latest frame or `advance`. */
  latest: bigint | undefined;

  constructor(
    private readonly options: WatchEngineOptions,
    readonly observers: FrameObserver<E>[] = [],
  ) {
    this.addresses = new AddressWatch(options);
  }

  observe(frame: WatchFrame): (AddressEvent | E)[] {
    const events: (AddressEvent | E)[] = [];
    this.counts.frames++;
    this.advanceTo(frame.at, events);
    let decoded: DecodedFrame;
    try {
      decoded = this.decode(frame.data);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.counts.malformed++;
      return events;
    }
    if (this.options.vlan !== undefined && decoded.ethernet.vlan?.id !== this.options.vlan) {
      this.counts.ignored++;
    } else if (decoded.arp || decoded.ndp) {
      if (decoded.arp) this.counts.arp++;
      else this.counts.ndp++;
      this.addresses.observe(decoded, frame.at, frame.interfaceName, events as AddressEvent[]);
    } else if (!this.observers.some((observer) => observer.observe(decoded, frame.at, frame.interfaceName, events as E[]))) {
      this.counts.ignored++;
    }
    return events;
  }

  /** Time passes without frames (live capture on a quiet wire): report what went dark. */
  advance(now: bigint): (AddressEvent | E)[] {
    const events: (AddressEvent | E)[] = [];
    this.advanceTo(now, events);
    return events;
  }

  /** The watch ends at `end`: open dark stretches are closed and observers flush. */
  finish(end: bigint): (AddressEvent | E)[] {
    const events: (AddressEvent | E)[] = [];
    this.addresses.finish(end, events as AddressEvent[]);
    for (const observer of this.observers) observer.finish(end, events as E[]);
    return events;
  }

  private decode(data: Buffer): DecodedFrame {
    if (data.length > MEMO_MAX_FRAME_LENGTH) return decodeFrame(data);
    const key = data.toString('latin1');
    let decoded = this.recentlyDecoded.get(key);
    if (decoded === undefined) {
      decoded = decodeFrame(data);
      if (this.recentlyDecoded.size >= MEMO_ENTRIES) this.recentlyDecoded.clear();
      this.recentlyDecoded.set(key, decoded);
    }
    return decoded;
  }

  private advanceTo(now: bigint, events: (AddressEvent | E)[]): void {
    // Capture files can hold frames slightly out of order; time never runs backwards here.
    if (this.latest !== undefined && now <= this.latest) return;
    this.latest = now;
    this.addresses.advance(now, events as AddressEvent[]);
  }
}
