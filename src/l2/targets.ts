import { isIP } from 'node:net';
import { formatAddress, notUnicast, parseAddressRange, rangeSize, type AddressRange } from '../pools/address-range.js';
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
