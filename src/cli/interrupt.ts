const INTERRUPTS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Calls `handler` on the first SIGINT or SIGTERM, so that a command stops cleanly
 * (withdraws, sends its Cease, prints its summary) instead of dying. Each is listened to
 * once: a second Ctrl-C takes Node's default and ends the process at once. Returns the
 * function that stops listening.
 */
export function onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void {
  for (const signal of INTERRUPTS) process.once(signal, handler);
  return () => {
    for (const signal of INTERRUPTS) process.off(signal, handler);
  };
}
