import { sleep } from '../time.js';
import type { Prober } from './prober.js';

export interface SweepOptions {
  /** Probes per second, across all targets. */
  rate: number;
  /** Probes per address that stays silent (arp-scan's --retry: total attempts). */
  attempts: number;
  /** How long to keep listening after the last probe. */
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
}

/**
 * Probe every address at a steady rate; addresses still silent after a round get the next
 * round, so a lost request or reply is retried without waiting for a timeout per host
 * (the reason arp-scan's back-off makes a /24 take seconds). A round starts no sooner
 * than `timeout / attempts` after the one before, so that a retry is never sent before
 * the first probe could have been answered. Replies are collected by the caller through
 * the prober's link; `answered` tells the sweep which addresses to skip. Resolves with the
 * number of probes sent, after the final listening window.
 */
export async function sweep(prober: Prober, addresses: string[], answered: (ip: string) => boolean, options: SweepOptions): Promise<number> {
  let sent = 0;
  const total = addresses.length * options.attempts;
  const intervalMs = 1000 / options.rate;
  const roundGapMs = options.timeoutMs / options.attempts;
  let previousRound = -Infinity;
  // When the next probe is due. It runs on across rounds, so that a round begun right after
  // the last one ended does not send two probes at once: the rate holds over any second.
  let nextProbeAt = -Infinity;
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    await sleep(previousRound + roundGapMs - performance.now(), options.signal);
    const silent = addresses.filter((ip) => !answered(ip));
    if (silent.length === 0 || options.signal?.aborted) break;
    previousRound = performance.now();
    nextProbeAt = Math.max(nextProbeAt, previousRound);
    for (const ip of silent) {
      if (options.signal?.aborted) return sent;
      // Pace against the clock rather than per-probe sleeps: timers are coarser than 1 ms.
      const wait = nextProbeAt - performance.now();
      if (wait >= 1) await sleep(wait, options.signal);
      prober.probe(ip);
      nextProbeAt += intervalMs;
      sent++;
      if (sent % 64 === 0) options.onProgress?.(sent, total);
    }
  }
  options.onProgress?.(sent, total);
  await sleep(options.timeoutMs, options.signal);
  return sent;
}
