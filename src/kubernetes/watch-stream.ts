/**
 * The body of a watch (GET ...?watch=true): one JSON event per line, `{"type": ...,
 * "object": ...}`, in chunks that split lines anywhere. The decoder is pure: bytes in,
 * events out, so partial lines, bookmarks, ERROR events and garbage are tested without a
 * server.
 */
import type { KubernetesObject, Status } from './api-objects.js';

export type WatchEvent<T extends KubernetesObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  /** Only metadata.resourceVersion is meaningful: the point the watch has reached. */
  | { type: 'BOOKMARK'; object: KubernetesObject }
  /** The server ends the watch with a reason, e.g. code 410 when the resourceVersion is too old. */
  | { type: 'ERROR'; object: Status };

export class WatchStreamError extends Error {}

/** A single event line longer than this is refused: no object vipkit reads comes near it. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function decodeLine<T extends KubernetesObject>(line: string): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new WatchStreamError(`a watch event is not JSON: ${(error as Error).message}`);
  }
  const event = parsed as { type?: unknown; object?: unknown };
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || !TYPES.has(event.type)) {
    throw new WatchStreamError(`a watch event has no known type: ${line.slice(0, 120)}`);
  }
  if (typeof event.object !== 'object' || event.object === null) throw new WatchStreamError(`a ${event.type} watch event has no object`);
  return event as WatchEvent<T>;
}

export class WatchDecoder<T extends KubernetesObject> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxEventBytes = MAX_EVENT_BYTES) {}

  /** The events completed by `chunk`, in order. Throws WatchStreamError on a bad line. */
  push(chunk: Buffer): WatchEvent<T>[] {
    const events: WatchEvent<T>[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      this.checkSize(this.pendingBytes + piece.length);
      const line = (this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece])).toString('utf8').trim();
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
      if (line !== '') events.push(decodeLine<T>(line));
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.checkSize(this.pendingBytes + rest.length);
      // Copied: the stream may reuse its buffer.
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
    return events;
  }

  /** At the end of the body: a last event without its newline, or nothing. */
  end(): WatchEvent<T>[] {
    const line = Buffer.concat(this.pending).toString('utf8').trim();
    this.pending = [];
    this.pendingBytes = 0;
    return line === '' ? [] : [decodeLine<T>(line)];
  }

  private checkSize(bytes: number): void {
    if (bytes > this.maxEventBytes) throw new WatchStreamError(`a watch event is longer than ${this.maxEventBytes} bytes`);
  }
}
