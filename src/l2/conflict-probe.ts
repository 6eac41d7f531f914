import { isIP } from 'node:net';
import type { Link } from '../link/link.js';
import { Prober } from './prober.js';
import { sweep } from './sweep.js';

export interface ConflictProbeOptions {
  /** Probes per second, across all addresses: a large set is not a broadcast storm. */
  rate: number;
  /** Probes per address that stays silent (RFC 5227 2.1.1: PROBE_NUM, 3). */
  attempts: number;
  /** Listening after the last probe; rounds are `timeoutMs / attempts` apart. */
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
}

/**
 * Before claiming addresses, ask whether anyone already answers for them, with
 * duplicate-address probes (RFC 5227 2.1.1 for ARP: sender 0.0.0.0; RFC 4862 5.4 for
 * IPv6: a solicitation from ::), so that a claim never hijacks a live address. The probes
 * are a paced sweep, one family after the other; an address that answered is not asked
 * again. Returns each address someone answered for, with the MACs that answered.
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
  try {
    const byFamily = ([4, 6] as const).map((family) => ({ family, of: addresses.filter((ip) => isIP(ip) === family) }));
    const total = addresses.length * options.attempts;
    let done = 0;
    for (const { family, of } of byFamily) {
      if (of.length === 0) continue;
      const onProgress = (sent: number) => options.onProgress?.(done + sent, total);
      done += await sweep(probers[family], of, (ip) => conflicts.has(ip), { ...options, onProgress });
    }
  } finally {
    stopListening();
  }
  return conflicts;
}

/** What the capture filter must pass for conflict probes: ARP and Neighbor Advertisements. */
export const CONFLICT_PROBE_FILTER = 'arp or (icmp6 and ip6[40] == 136)';
