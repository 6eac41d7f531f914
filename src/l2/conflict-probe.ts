import { isIP } from 'node:net';
import type { Link } from '../link/link.js';
import { sleep } from '../time.js';
import { Prober } from './prober.js';

export interface ConflictProbeOptions {
  probes: number;
  intervalMs: number;
  /** Listening after the last probe. */
  waitMs: number;
  signal?: AbortSignal;
}

/**
 * Before claiming addresses, ask whether anyone already answers for them, with
 * duplicate-address probes (RFC 5227 2.1.1 for ARP: sender 0.0.0.0; RFC 4862 5.4 for
 * IPv6: a solicitation from ::), so that a claim never hijacks a live address.
 * Returns each address someone answered for, with the MACs that answered.
 */
export async function probeForConflicts(link: Link, addresses: string[], options: ConflictProbeOptions): Promise<Map<string, string[]>> {
  const probers = { 4: new Prober({ link, family: 4 }), 6: new Prober({ link, family: 6 }) };
  const conflicts = new Map<string, string[]>();
  const stopListening = link.onFrame((frame) => {
    for (const prober of Object.values(probers)) {
      const result = prober.classify(frame);
      if (!('reply' in result)) continue;
      const macs = conflicts.get(result.reply.ip) ?? [];
      if (!macs.includes(result.reply.mac)) macs.push(result.reply.mac);
      conflicts.set(result.reply.ip, macs);
    }
  });
  for (let round = 0; round < options.probes && !options.signal?.aborted; round++) {
    if (round > 0) await sleep(options.intervalMs, options.signal);
    for (const address of addresses) probers[isIP(address) === 4 ? 4 : 6].probe(address);
  }
  await sleep(options.waitMs, options.signal);
  stopListening();
  return conflicts;
}

/** What the capture filter must pass for conflict probes: ARP and Neighbor Advertisements. */
export const CONFLICT_PROBE_FILTER = 'arp or (icmp6 and ip6[40] == 136)';
