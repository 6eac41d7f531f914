/**
 * Health-checked announcing, as ExaBGP's healthcheck and keepalived's track scripts do
 * it: a command run every interval decides whether a service is up. One result never
 * flips the state: `rise` passes in a row bring it up, `fall` failures in a row take it
 * down. `announce --check` and `run` both use this.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../time.js';

export type Health = 'up' | 'down';

/**
 * The rise/fall counter alone, without processes or timers. It starts down: a service
 * is announced only after it has passed `rise` checks in a row, at start as later.
 */
export class RiseFall {
  private current: Health = 'down';
  /** Results in a row that disagree with the current state. */
  private streak = 0;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
  ) {
    if (!(rise >= 1 && fall >= 1)) throw new RangeError('rise and fall must be at least 1');
  }

  get state(): Health {
    return this.current;
  }

  /** Results in a row towards a change of state (0 when the last result agreed with it). */
  get pending(): number {
    return this.streak;
  }

  /** Records one result; returns the new state when it changed. */
  record(passed: boolean): Health | undefined {
    if (passed === (this.current === 'up')) {
      this.streak = 0;
      return undefined;
    }
    this.streak++;
    if (this.streak < (passed ? this.rise : this.fall)) return undefined;
    this.current = passed ? 'up' : 'down';
    this.streak = 0;
    return this.current;
  }
}

export interface CheckResult {
  passed: boolean;
  /** The command's exit code; absent when it was killed or could not run. */
  code?: number;
  /** Why it failed when there is no exit code to tell: a timeout, a signal, a spawn error. */
  reason?: string;
  durationMs: number;
  state: Health;
  /** Results in a row towards a change of state. */
  pending: number;
}

/** Why a check failed, in words (undefined when it passed); /bin/sh exits 127 and 126 when it cannot run the command. */
export function whyFailed({ passed, code, reason }: Pick<CheckResult, 'passed' | 'code' | 'reason'>): string | undefined {
  if (passed) return undefined;
  if (reason !== undefined || code === undefined) return reason;
  if (code === 127) return 'exit 127: command not found';
  if (code === 126) return 'exit 126: command not executable';
  return `exit ${code}`;
}

export interface HealthCheckOptions {
  command: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  rise: number;
  fall: number;
}

export interface HealthCheckEvents {
  result: [CheckResult];
  change: [Health];
}

/**
 * Runs `command` through /bin/sh every interval (the first at once) until stopped. The
 * interval, the timeout and `durationMs` follow `clock`; the command runs for real.
 */
export class HealthCheck extends EventEmitter<HealthCheckEvents> {
  private readonly riseFall: RiseFall;
  private readonly clock: Clock;
  private timer?: TimerHandle;
  private running?: { kill(): void };
  private stopped = false;

  constructor(
    private readonly options: HealthCheckOptions,
    { clock = systemClock }: { clock?: Clock } = {},
  ) {
    super();
    this.riseFall = new RiseFall(options.rise, options.fall);
    this.clock = clock;
  }

  get state(): Health {
    return this.riseFall.state;
  }

  start(): void {
    void this.runOnce();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.running?.kill();
  }

  private async runOnce(): Promise<void> {
    const started = this.clock.now();
    const outcome = await this.execute();
    if (this.stopped) return;
    const change = this.riseFall.record(outcome.passed);
    this.emit('result', { ...outcome, durationMs: this.clock.now() - started, state: this.riseFall.state, pending: this.riseFall.pending });
    if (change) this.emit('change', change);
    // A handler of those events may have stopped the check.
    if (this.stopped) return;
    // The interval runs from the start of one check to the start of the next.
    this.timer = this.clock.setTimeout(() => void this.runOnce(), Math.max(0, this.options.intervalSeconds * 1000 - (this.clock.now() - started)));
  }

  private execute(): Promise<{ passed: boolean; code?: number; reason?: string }> {
    return new Promise((resolve) => {
      // detached: the shell leads its own process group, so a timeout kills what it started too.
      const child = spawn('/bin/sh', ['-c', this.options.command], { stdio: 'ignore', detached: true });
      const kill = (): void => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      let timedOut = false;
      const timer = this.clock.setTimeout(() => {
        timedOut = true;
        kill();
      }, this.options.timeoutSeconds * 1000);
      this.running = { kill };
      child.once('error', (error) => {
        this.clock.clearTimeout(timer);
        resolve({ passed: false, reason: error.message });
      });
      child.once('exit', (code, signal) => {
        this.clock.clearTimeout(timer);
        this.running = undefined;
        if (timedOut) resolve({ passed: false, reason: `timed out after ${this.options.timeoutSeconds} s` });
        else if (code === null) resolve({ passed: false, reason: `killed by ${signal}` });
        else resolve({ passed: code === 0, code });
      });
    });
  }
}
