import type { Clock, TimerHandle } from '../../src/time.js';

interface ManualTimer {
  dueAt: number;
  callback: () => void;
}

/**
 * A Clock whose time moves only when a test calls `advance`, so tests assert exact times
 * instead of waiting in real time. `advance(ms)` runs every timer that falls due by
 * now + ms, earliest first, each with `now()` reading its own due time, including timers
 * that callbacks set during the advance; then time stands at now + ms. As with Node's
 * timers, a delay below 1 ms counts as 1 ms, so a callback re-arming itself with 0
 * cannot make `advance` loop forever. A callback that throws ends `advance` with its error.
 */
export class ManualClock implements Clock {
  /** In the order they were set: timers due at the same time run in that order, as Node's do. */
  private readonly timers = new Set<ManualTimer>();

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { dueAt: this.time + Math.max(1, ms), callback };
    this.timers.add(timer);
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers.delete(handle as unknown as ManualTimer);
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    const until = this.time + ms;
    for (let timer = this.earliest(); timer !== undefined && timer.dueAt <= until; timer = this.earliest()) {
      this.timers.delete(timer);
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
    let earliest: ManualTimer | undefined;
    for (const timer of this.timers) {
      if (earliest === undefined || timer.dueAt < earliest.dueAt) earliest = timer;
    }
    return earliest;
  }
}
