/**
 * TCP stream reassembly for a passive observer: segments as captured (out of order,
 * retransmitted, overlapping, from both directions) in, each direction's bytes in order
 * out. Sequence numbers compare modulo 2^32 (RFC 9293 3.4). A hole the capture never
 * fills (a segment the capture missed) is skipped once too much data waits behind it, or
 * at the end, and reported, so that the consumer can resynchronise.
 */
import type { TcpSegment } from './tcp-segment.js';

/** One direction of one connection. */
export interface TcpStream {
  /** `source:port > destination:port`, IPv6 addresses in brackets. */
  readonly id: string;
  /** The same for both directions of a connection. */
  readonly connection: string;
  readonly source: string;
  readonly sourcePort: number;
  readonly destination: string;
  readonly destinationPort: number;
}

export interface StreamConsumer {
  /** In-order bytes of `stream`; `at` is the capture time of the segment that completed them. */
  data(stream: TcpStream, bytes: Buffer, at: bigint): void;
  /** `missing` bytes of `stream` were never captured; the next `data` follows the hole. */
  gap(stream: TcpStream, missing: number, at: bigint): void;
  /** The stream ended (FIN reached, or RST). */
  end(stream: TcpStream, at: bigint): void;
}

export interface ReassemblyCounts {
  segments: number;
  /** Segments holding only bytes already delivered. */
  retransmitted: number;
  /** Segments that arrived ahead of a hole and waited. */
  outOfOrder: number;
  gaps: number;
}

/** Data waiting behind a hole, per direction, before the hole is given up on. */
const MAX_WAITING_BYTES = 1024 * 1024;

interface Direction extends TcpStream {
  nextSequence?: number;
  finSequence?: number;
  /** Out-of-order segments by sequence number. */
  waiting: Map<number, Buffer>;
  waitingBytes: number;
  ended: boolean;
}

/** Signed distance from `from` to `to` in sequence space (RFC 9293 3.4). */
function distance(from: number, to: number): number {
  return (to - from) | 0;
}

/** `address:port`, an IPv6 address in brackets. */
export function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export class TcpReassembler {
  readonly counts: ReassemblyCounts = { segments: 0, retransmitted: 0, outOfOrder: 0, gaps: 0 };
  private readonly directions = new Map<string, Direction>();

  constructor(private readonly consumer: StreamConsumer) {}

  add(segment: TcpSegment, at: bigint): void {
    this.counts.segments++;
    const direction = this.direction(segment);
    if (segment.rst) {
      this.end(direction, at);
      return;
    }
    if (segment.syn) {
      // The SYN takes one sequence number (RFC 9293 3.4); a new SYN is a new connection.
      direction.nextSequence = (segment.sequence + 1) >>> 0;
      direction.waiting.clear();
      direction.waitingBytes = 0;
      direction.ended = false;
      direction.finSequence = undefined;
    }
    // Joined mid-stream: the first segment seen starts it.
    direction.nextSequence ??= segment.sequence;
    const dataSequence = segment.syn ? (segment.sequence + 1) >>> 0 : segment.sequence;
    if (segment.fin) direction.finSequence = (dataSequence + segment.payload.length) >>> 0;
    if (segment.payload.length > 0) this.accept(direction, dataSequence, segment.payload, at);
    this.endAtFin(direction, at);
  }

  /** The capture is over: deliver what waits behind holes, in order. */
  finish(at: bigint): void {
    for (const direction of this.directions.values()) {
      while (direction.waiting.size > 0) this.skipHole(direction, at);
    }
  }

  private direction(segment: TcpSegment): Direction {
    const from = endpoint(segment.source, segment.sourcePort);
    const to = endpoint(segment.destination, segment.destinationPort);
    const id = `${from} > ${to}`;
    let direction = this.directions.get(id);
    if (direction === undefined) {
      direction = {
        id,
        connection: from < to ? `${from} ${to}` : `${to} ${from}`,
        source: segment.source,
        sourcePort: segment.sourcePort,
        destination: segment.destination,
        destinationPort: segment.destinationPort,
        waiting: new Map(),
        waitingBytes: 0,
        ended: false,
      };
      this.directions.set(id, direction);
    }
    return direction;
  }

  private accept(direction: Direction, sequence: number, payload: Buffer, at: bigint): void {
    const offset = distance(direction.nextSequence!, sequence);
    if (offset + payload.length <= 0) {
      this.counts.retransmitted++;
      return;
    }
    if (offset > 0) {
      this.counts.outOfOrder++;
      const already = direction.waiting.get(sequence);
      if (already === undefined || already.length < payload.length) {
        direction.waitingBytes += payload.length - (already?.length ?? 0);
        direction.waiting.set(sequence, Buffer.from(payload));
      }
      if (direction.waitingBytes > MAX_WAITING_BYTES) this.skipHole(direction, at);
      return;
    }
    // A retransmission that overlaps what was delivered brings only its tail.
    this.deliver(direction, payload.subarray(-offset), at);
    this.drain(direction, at);
  }

  private deliver(direction: Direction, bytes: Buffer, at: bigint): void {
    direction.nextSequence = (direction.nextSequence! + bytes.length) >>> 0;
    if (!direction.ended) this.consumer.data(direction, bytes, at);
  }

  /** Delivers waiting segments that now follow on, dropping those wholly delivered already. */
  private drain(direction: Direction, at: bigint): void {
    for (;;) {
      let nearest: { sequence: number; offset: number } | undefined;
      for (const [sequence, bytes] of direction.waiting) {
        const offset = distance(direction.nextSequence!, sequence);
        if (offset + bytes.length <= 0) {
          this.unwait(direction, sequence);
        } else if (nearest === undefined || offset < nearest.offset) {
          nearest = { sequence, offset };
        }
      }
      if (nearest === undefined || nearest.offset > 0) return;
      const bytes = this.unwait(direction, nearest.sequence);
      this.deliver(direction, bytes.subarray(-nearest.offset), at);
    }
  }

  private skipHole(direction: Direction, at: bigint): void {
    let nearest: number | undefined;
    for (const sequence of direction.waiting.keys()) {
      const offset = distance(direction.nextSequence!, sequence);
      if (nearest === undefined || offset < nearest) nearest = offset;
    }
    if (nearest === undefined) return;
    if (nearest > 0) {
      this.counts.gaps++;
      direction.nextSequence = (direction.nextSequence! + nearest) >>> 0;
      if (!direction.ended) this.consumer.gap(direction, nearest, at);
    }
    this.drain(direction, at);
    this.endAtFin(direction, at);
  }

  private unwait(direction: Direction, sequence: number): Buffer {
    const bytes = direction.waiting.get(sequence)!;
    direction.waiting.delete(sequence);
    direction.waitingBytes -= bytes.length;
    return bytes;
  }

  private endAtFin(direction: Direction, at: bigint): void {
    if (direction.finSequence !== undefined && direction.nextSequence === direction.finSequence) this.end(direction, at);
  }

  private end(direction: Direction, at: bigint): void {
    direction.waiting.clear();
    direction.waitingBytes = 0;
    if (direction.ended) return;
    direction.ended = true;
    this.consumer.end(direction, at);
  }
}
