/**
 * Exponential back-off with jitter between attempts to reach the API server, so a
 * restarted API server is not met by every speaker at the same instant. Delays grow from
 * `initialMs` by `factor` up to `maxMs`; each is drawn from [(1 - jitter) * d, d].
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0 (none) to 1 (anywhere from 0 to the delay). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.5;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0 && this.maxMs >= this.initialMs && this.factor >= 1 && this.jitter >= 0 && this.jitter <= 1)) {
      throw new RangeError('Backoff: need 0 < initialMs <= maxMs, factor >= 1 and 0 <= jitter <= 1');
    }
  }

  /** The delay before the next attempt; each call lengthens the next. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    if (ceiling < this.maxMs) this.attempt += 1;
    return Math.round(ceiling * (1 - this.jitter * this.random()));
  }

  /** After a success: the next failure waits `initialMs` again. */
  reset(): void {
    this.attempt = 0;
  }
}
