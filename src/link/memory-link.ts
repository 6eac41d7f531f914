/**
 * A broadcast segment in memory for unit tests of engine logic: every frame a link sends
 * reaches every attached link, itself included, like a hub watched by tcpdump. Delivery is asynchronous (setImmediate)
 * because a real link never calls back from inside send().
 */
import { FrameListeners, type FrameListener, type Link } from './link.js';

export interface SentFrame {
  interfaceName: string;
  data: Buffer;
  sentAt: bigint;
}

class MemoryLink implements Link {
  readonly listeners = new FrameListeners();
  closed = false;

  constructor(
    private readonly segment: MemorySegment,
    readonly interfaceName: string,
    readonly mac: string,
  ) {}

  send(frame: Buffer): bigint {
    if (this.closed) throw new Error(`cannot send on ${this.interfaceName}: the link is closed`);
    return this.segment.carry(this, frame);
  }

  onFrame(listener: FrameListener): () => void {
    return this.listeners.add(listener);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }
}

export class MemorySegment {
  private readonly links: MemoryLink[] = [];
  /** Every frame sent on the segment, in order, for assertions. */
  readonly sent: SentFrame[] = [];

  attach(interfaceName: string, mac: string): Link {
    const link = new MemoryLink(this, interfaceName, mac.toLowerCase());
    this.links.push(link);
    return link;
  }

  /** @internal Called by MemoryLink.send. */
  carry(from: MemoryLink, frame: Buffer): bigint {
    const sentAt = process.hrtime.bigint();
    this.sent.push({ interfaceName: from.interfaceName, data: Buffer.from(frame), sentAt });
    // Like a capture on a real link, the sender sees its own frame too.
    for (const to of this.links) {
      // Copy now: the sender may reuse its buffer as soon as send() returns.
      const data = Buffer.from(frame);
      setImmediate(() => {
        if (to.closed) return;
        const received = { data, receivedAt: process.hrtime.bigint() };
        to.listeners.deliver(received);
      });
    }
    return sentAt;
  }
}
