/** The longest delay setTimeout honours (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Wait `ms` (Infinity: until aborted), or less if `signal` aborts first; never rejects, so
 * callers just check the signal.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    // Even a zero wait yields to the event loop: a loop of sleeps must let signals and frames in.
    if (ms <= 0) return void setImmediate(resolve);
    const deadline = performance.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    // setTimeout treats anything beyond 2^31-1 ms as 1 ms: long waits go in steps.
    const arm = () => {
      const left = deadline - performance.now();
      if (left <= 0) return done();
      timer = Number.isFinite(left) ? setTimeout(arm, Math.min(left, MAX_TIMEOUT_MS)) : undefined;
    };
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
    arm();
  });
}

/**
 * Turns the event loop without ever blocking until `signal` aborts. With an immediate
 * always pending, libuv polls its descriptors with a zero timeout, so a frame is handled
 * as soon as it arrives instead of after the thread wakes from idle: lower latency for
 * one busy core.
 */
export async function busyPoll(signal: AbortSignal): Promise<void> {
  while (!signal.aborted) await new Promise((resolve) => setImmediate(resolve));
}

declare const timerHandle: unique symbol;

/** A timer set through a Clock, to be cleared through the same clock. */
export type TimerHandle = { readonly [timerHandle]: true };

/**
 * Time as engines see it: monotonic milliseconds and one-shot timers. Engines take a
 * Clock rather than reading performance.now() and Node's timers, so that tests drive
 * time (test/helpers/manual-clock.ts) instead of waiting for it on a loaded machine.
 */
export interface Clock {
  /** Monotonic milliseconds from an arbitrary origin. */
  now(): number;
  /** Calls `callback` once, `ms` from now (at most 2^31-1, as with Node's setTimeout). */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Ignores undefined and timers that already ran or were cleared. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** performance.now() and Node's timers, which keep the process alive while pending, as Node's own do. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout | undefined),
};

/**
 * `work` on request, coalesced and paced: a request made while one is pending is that
 * one, and a run starts no sooner than its predecessor's duration after that ended. Work
 * that got slow (a re-read of thousands of Services takes a second) so takes about half
 * of the thread at most, and what else runs there (a leader's status writes, the status
 * socket, metrics) keeps the other half.
 */
export class PacedWork {
  private timer: NodeJS.Timeout | undefined;
  private earliest = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly work: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  request(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const started = this.now();
      this.work();
      const ended = this.now();
      this.earliest = ended + (ended - started);
    }, Math.max(0, this.earliest - this.now()));
  }

  /** Drops a pending request. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
