import { isIP } from 'node:net';
import { IPv4, IPv4CidrRange, IPv6, IPv6CidrRange, Validator } from 'ip-num';
import { ipv6FromBytes } from '../wire/ip-address.js';

/** The addresses one run probes; all of one family (ARP and NDP never mix in a run). */
export interface TargetList {
  family: 4 | 6;
  addresses: string[];
  /** One plain address: arping's iputils mode. Anything else is a sweep. */
  single: boolean;
}

/** Thrown for a target the user wrote wrongly; the command turns it into exit 2. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/** Sweeps are bounded (the issue: IPv6 ranges of at most 65,536 addresses; IPv4 likewise). */
export const MAX_SWEEP_ADDRESSES = 65_536;

export function parseTargets(specs: string[], limit = MAX_SWEEP_ADDRESSES): TargetList {
  const ranges = specs.map(parseRange);
  const families = new Set(ranges.map((range) => range.family));
  if (families.size > 1) throw new TargetError('IPv4 and IPv6 targets cannot be mixed in one run; run arping once per family.');
  const total = ranges.reduce((sum, range) => sum + range.last - range.first + 1n, 0n);
  if (total > BigInt(limit)) {
    throw new TargetError(`the targets hold ${total} addresses; a sweep is limited to ${limit}: split it into smaller ranges.`);
  }
  const family = ranges[0]!.family;
  const seen = new Set<string>();
  const addresses: string[] = [];
  for (const range of ranges) {
    for (let value = range.first; value <= range.last; value++) {
      const text = formatAddress(family, value);
      if (!seen.has(text)) {
        seen.add(text);
        addresses.push(text);
      }
    }
  }
  const single = specs.length === 1 && isIP(specs[0]!) !== 0;
  return { family, addresses, single };
}

interface NumericRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

function parseRange(spec: string): NumericRange {
  if (isIP(spec) === 4) {
    const value = new IPv4(spec).getValue();
    return { family: 4, first: value, last: value };
  }
  if (isIP(spec) === 6) {
    const value = new IPv6(spec).getValue();
    return { family: 6, first: value, last: value };
  }
  if (spec.includes('/')) return parseCidr(spec);
  if (spec.includes('-')) return parseFirstLast(spec);
  throw new TargetError(`"${spec}" is not an IP address, a CIDR (192.0.2.64/27) or a range (192.0.2.70-192.0.2.80).`);
}

function parseCidr(spec: string): NumericRange {
  const [address = '', length = ''] = spec.split('/');
  const family = isIP(address);
  const [valid] = family === 4 ? Validator.isValidIPv4CidrNotation(spec) : Validator.isValidIPv6CidrNotation(spec);
  if (family === 0 || !/^\d+$/.test(length) || !valid) {
    throw new TargetError(`"${spec}" is not a valid CIDR; write it like 192.0.2.64/27 or 2001:db8::/120.`);
  }
  const range = family === 4 ? IPv4CidrRange.fromCidr(spec) : IPv6CidrRange.fromCidr(spec);
  // ip-num quietly clears host bits; a user who wrote them may have meant something else.
  const written = family === 4 ? new IPv4(address).getValue() : new IPv6(address).getValue();
  const network = range.getFirst().getValue();
  if (written !== network) {
    throw new TargetError(`"${spec}" has host bits set; did you mean ${formatAddress(family === 4 ? 4 : 6, network)}/${length}?`);
  }
  const last = network + range.getSize() - 1n;
  // An IPv4 subnet's network and broadcast addresses are never a host's (RFC 919, RFC 3021 for /31).
  if (family === 4 && range.getSize() > 2n) return { family: 4, first: network + 1n, last: last - 1n };
  return { family: family === 4 ? 4 : 6, first: network, last };
}

function parseFirstLast(spec: string): NumericRange {
  const [from = '', to = '', ...extra] = spec.split('-');
  const family = isIP(from);
  if (extra.length > 0 || family === 0 || isIP(to) !== family) {
    throw new TargetError(`"${spec}" is not a range of two addresses of one family, like 192.0.2.70-192.0.2.80.`);
  }
  const first = family === 4 ? new IPv4(from).getValue() : new IPv6(from).getValue();
  const last = family === 4 ? new IPv4(to).getValue() : new IPv6(to).getValue();
  if (first > last) throw new TargetError(`"${spec}" is reversed; did you mean ${to}-${from}?`);
  return { family: family === 4 ? 4 : 6, first, last };
}

function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return new IPv4(value).toString();
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64BE(value >> 64n, 0);
  bytes.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 8);
  return ipv6FromBytes(bytes);
}
