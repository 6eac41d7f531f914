/** The longest delay setTimeout honours (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Wait `ms` (Infinity: until aborted), or less if `signal` aborts first; never rejects, so
 * callers just check the signal.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    // setTimeout treats anything beyond 2^31-1 ms (Infinity included) as 1 ms.
    const timer = Number.isFinite(ms) ? setTimeout(done, Math.min(ms, MAX_TIMEOUT_MS)) : undefined;
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
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
