const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * How a command that runs until stopped comes to an end: on the first SIGINT or SIGTERM,
 * when a bounded run is over (`after`), or when the command decides (`stop`). A stopped
 * command still finishes cleanly: withdraws, sends its Cease, prints its summary.
 *
 * Once stopped, the signals are no longer listened to: a second Ctrl-C while the command
 * winds down takes Node's default and ends the process at once.
 */
export class Stop {
  private readonly controller = new AbortController();
  /** Aborted on the stop, for whatever waits or loops until then (sleep, sweeps, probes). */
  readonly signal = this.controller.signal;
  /** Resolves on the stop. */
  readonly done: Promise<void>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly interrupt = (signal: NodeJS.Signals) => this.stop(signal);

  constructor() {
    this.done = new Promise((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }));
    for (const signal of INTERRUPTS) process.once(signal, this.interrupt);
  }

  /** Why the command stopped (the first reason given, a signal's name for a signal); undefined until then. */
  get reason(): string | undefined {
    return this.signal.aborted ? (this.signal.reason as string) : undefined;
  }

  /** Whether SIGINT or SIGTERM stopped the command, rather than the command itself or a bound. */
  get interrupted(): boolean {
    return this.reason !== undefined && INTERRUPTS.includes(this.reason as NodeJS.Signals);
  }

  /** Stops with `reason`, unless already stopped for another. */
  stop(reason: string): void {
    if (this.signal.aborted) return;
    this.controller.abort(reason);
    this.dispose();
  }

  /** Stops with `reason` `seconds` from now (a bounded run: --for, --timeout); 0 stops at once. */
  after(seconds: number, reason: string): void {
    if (seconds <= 0) return this.stop(reason);
    if (this.signal.aborted) return;
    const timer = setTimeout(() => this.stop(reason), seconds * 1000);
    this.timers.add(timer);
  }

  /** Stops listening to the signals and cancels the bounds, stopped or not; idempotent. */
  dispose(): void {
    for (const signal of INTERRUPTS) process.off(signal, this.interrupt);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
