/**
 * A link sends and receives whole Ethernet frames on one interface. Engines (ARP/NDP
 * responder, prober, watch) only ever see this interface: `pcap-link.ts` is the real
 * thing, `memory-link.ts` a segment in memory for unit tests.
 */

export interface ReceivedFrame {
  /** The link's own copy of the frame, safe to keep. */
  data: Buffer;
  /** When the frame arrived, on the `process.hrtime.bigint()` scale: the kernel's capture timestamp where the link has one. */
  receivedAt: bigint;
}

export type FrameListener = (frame: ReceivedFrame) => void;

/**
 * The wall clock minus the monotonic one, in ns, read once per process: adding it to a
 * `receivedAt` gives nanoseconds since the epoch (for capture files and event times), and
 * subtracting it from a kernel capture timestamp puts that on the hrtime scale.
 */
export const WALL_MINUS_MONOTONIC_NS = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) - process.hrtime.bigint();

/** The listeners of one link; `add` returns the function that removes the listener again. */
export class FrameListeners {
  private listeners: FrameListener[] = [];

  add(listener: FrameListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((candidate) => candidate !== listener);
    };
  }

  deliver(frame: ReceivedFrame): void {
    for (const listener of this.listeners) listener(frame);
  }

  clear(): void {
    this.listeners = [];
  }
}

export interface Link {
  readonly interfaceName: string;
  /** Lower-case, colon-separated. */
  readonly mac: string;
  /**
   * Sends one complete Ethernet frame, synchronously. Returns `process.hrtime.bigint()`
   * taken immediately before the frame is handed to the kernel, so RTTs measured against
   * `ReceivedFrame.receivedAt` include as little JavaScript as possible.
   */
  send(frame: Buffer): bigint;
  /**
   * Every frame on the wire that passes the filter, the link's own transmissions included
   * (as tcpdump shows them), so that a sender can learn when its frame really left.
   */
  onFrame(listener: FrameListener): () => void;
  /** Idempotent. Frames arriving after close are not delivered. */
  close(): void;
}

/** An Ethernet frame with an 802.1Q tag (1518 + 4): room for any ARP or NDP frame. */
export const L2_SNAPSHOT_LENGTH = 1522;

export interface OpenLinkOptions {
  interfaceName: string;
  /** BPF filter in tcpdump syntax, e.g. `arp`; empty captures everything. */
  filter: string;
  /** Kernel capture buffer in bytes; default 16 MiB (with 1 MB a 50k frames/s burst lost a third). */
  bufferSize?: number;
  /**
   * Longest frame kept, in bytes; longer ones arrive cut. Default 65535 (everything, even
   * segments the kernel merged). The kernel sizes each capture-buffer slot by it, so
   * ARP/NDP-only links use L2_SNAPSHOT_LENGTH and fit 40 times as many frames.
   */
  snapshotLength?: number;
}

export const DEFAULT_CAPTURE_BUFFER_SIZE = 16 * 1024 * 1024;
