import { isIP } from 'node:net';
import { formatAddress, parseAddressRange, rangeSize, type AddressRange } from '../pools/address-range.js';
import { UserError } from '../user-error.js';

/** The addresses one run probes; all of one family (ARP and NDP never mix in a run). */
export interface TargetList {
  family: 4 | 6;
  addresses: string[];
  /** One plain address: arping's iputils mode. Anything else is a sweep. */
  single: boolean;
}

/** Thrown for a target the user wrote wrongly; the command turns it into exit 2. */
export class TargetError extends UserError {
  override readonly name = 'TargetError';
}

/** Sweeps are bounded (the issue: IPv6 ranges of at most 65,536 addresses; IPv4 likewise). */
export const MAX_SWEEP_ADDRESSES = 65_536;

export function parseTargets(specs: string[], limit = MAX_SWEEP_ADDRESSES): TargetList {
  const ranges = specs.map(sweepRange);
  const families = new Set(ranges.map((range) => range.family));
  if (families.size > 1) throw new TargetError('IPv4 and IPv6 targets cannot be mixed in one run; run arping once per family.');
  const total = ranges.reduce((sum, range) => sum + rangeSize(range), 0n);
  if (total > BigInt(limit)) {
    throw new TargetError(`the targets hold ${total} addresses; a sweep is limited to ${limit}: split it into smaller ranges.`);
  }
  const family = ranges[0]!.family;
  const seen = new Set<string>();
  const addresses: string[] = [];
  for (const range of ranges) {
    for (let value = range.first; value <= range.last; value++) {
      const text = formatAddress(family, value);
      const special = notUnicast(family, value);
      if (special !== undefined) throw new TargetError(`${text} is ${special}: ARP and NDP are for the unicast addresses hosts hold.`);
      if (!seen.has(text)) {
        seen.add(text);
        addresses.push(text);
      }
    }
  }
  const single = specs.length === 1 && isIP(specs[0]!) !== 0;
  return { family, addresses, single };
}

/** An IPv4 subnet's network and broadcast addresses are never a host's (RFC 919; RFC 3021 for /31). */
function sweepRange(spec: string): AddressRange {
  const range = parseAddressRange(spec);
  const isHostSubnet = range.family === 4 && range.prefixLength !== undefined && range.prefixLength < 31;
  return isHostSubnet ? { ...range, first: range.first + 1n, last: range.last - 1n } : range;
}

/**
 * What `value` is when no host can hold it: IPv4 0.0.0.0/8 ("this network", RFC 1122
 * 3.2.1.3), 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast) and 255.255.255.255 (limited
 * broadcast, RFC 919); IPv6 :: (unspecified), ::1 (loopback) and ff00::/8 (multicast,
 * RFC 4291 2.5.2, 2.5.3, 2.7). Undefined for a unicast address.
 */
function notUnicast(family: 4 | 6, value: bigint): string | undefined {
  if (family === 4) {
    const firstOctet = Number(value >> 24n);
    if (value === 0xffffffffn) return 'the limited broadcast address';
    if (firstOctet === 0) return 'in 0.0.0.0/8, "this network"';
    if (firstOctet === 127) return 'a loopback address';
    if (firstOctet >= 224 && firstOctet <= 239) return 'a multicast address';
    return undefined;
  }
  if (value === 0n) return 'the unspecified address';
  if (value === 1n) return 'the loopback address';
  if (value >> 120n === 0xffn) return 'a multicast address';
  return undefined;
}
