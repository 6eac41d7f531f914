import type { Clock, TimerHandle } from '../../src/time.js';

interface ManualTimer {
  dueAt: number;
  /** When it was set, among timers: equal due times run in this order. */
  order: number;
  callback: () => void;
  cleared: boolean;
}

/**
 * A Clock whose time moves only when a test calls `advance`, so tests assert exact times
 * instead of waiting in real time. `advance(ms)` runs every timer that falls due by
 * now + ms, earliest first, each with `now()` reading its own due time, including timers
 * that callbacks set during the advance; then time stands at now + ms. As with Node's
 * timers, a delay below 1 ms counts as 1 ms, so a callback re-arming itself with 0
 * cannot make `advance` loop forever. A callback that throws ends `advance` with its error.
 * The timers are a binary heap, so that simulations of a hundred nodes (thousands of
 * timers) stay fast; a cleared timer is dropped when it reaches the top.
 */
export class ManualClock implements Clock {
  private readonly heap: ManualTimer[] = [];
  private timersSet = 0;

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { dueAt: this.time + Math.max(1, ms), order: this.timersSet++, callback, cleared: false };
    this.heap.push(timer);
    this.up(this.heap.length - 1);
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) (handle as unknown as ManualTimer).cleared = true;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    const until = this.time + ms;
    for (let timer = this.earliest(); timer !== undefined && timer.dueAt <= until; timer = this.earliest()) {
      this.pop();
      timer.cleared = true;
      this.time = timer.dueAt;
      timer.callback();
    }
    this.time = until;
  }

  /** When the next timer falls due; undefined when none is pending (everything was cleared, say). */
  get nextDueAt(): number | undefined {
    return this.earliest()?.dueAt;
  }

  private earliest(): ManualTimer | undefined {
    while (this.heap[0]?.cleared) this.pop();
    return this.heap[0];
  }

  private before(a: ManualTimer, b: ManualTimer): boolean {
    return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.order < b.order);
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.down(0);
  }

  private up(at: number): void {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(this.heap[at]!, this.heap[parent]!)) return;
      [this.heap[at], this.heap[parent]] = [this.heap[parent]!, this.heap[at]!];
      at = parent;
    }
  }

  private down(at: number): void {
    for (;;) {
      const [left, right] = [2 * at + 1, 2 * at + 2];
      let first = at;
      if (left < this.heap.length && this.before(this.heap[left]!, this.heap[first]!)) first = left;
      if (right < this.heap.length && this.before(this.heap[right]!, this.heap[first]!)) first = right;
      if (first === at) return;
      [this.heap[at], this.heap[first]] = [this.heap[first]!, this.heap[at]!];
      at = first;
    }
  }
}
