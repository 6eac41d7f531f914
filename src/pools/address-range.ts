import { isIP } from 'node:net';
import { ipv6FromBytes, ipv6ToBytes } from '../wire/ip-address.js';
import { UserError } from '../user-error.js';

export type Family = 4 | 6;

/** A contiguous run of addresses of one family, as integers (IPv6 needs BigInt). */
export interface AddressRange {
  family: Family;
  first: bigint;
  last: bigint;
  /** Set when the range was written as a CIDR. */
  prefixLength?: number;
}

/** Thrown for an address, CIDR or range written wrongly; the message says how to fix it. */
export class AddressRangeError extends UserError {
  override readonly name = 'AddressRangeError';
}

/** An address, a CIDR (`192.0.2.64/27`) or a range of two addresses (`192.0.2.70-192.0.2.80`). */
export function parseAddressRange(spec: string): AddressRange {
  const text = spec.trim();
  const family = isIP(text);
  if (family !== 0) {
    const value = addressValue(text);
    return { family: family === 4 ? 4 : 6, first: value, last: value };
  }
  if (text.includes('/')) return parseCidr(text);
  if (text.includes('-')) return parseFirstLast(text);
  throw new AddressRangeError(`"${spec}" is not an IP address, a CIDR (192.0.2.64/27) or a range (192.0.2.70-192.0.2.80).`);
}

/** Computed from the prefix length, never enumerated: a /48 costs what a /24 does. */
function parseCidr(spec: string): AddressRange {
  const { range, hostBitsSet } = parseCidrNetwork(spec);
  // Host bits may mean a typo for another network; say which one the prefix names.
  if (hostBitsSet) throw new AddressRangeError(`"${spec}" has host bits set; did you mean ${formatCidr(range)}?`);
  return range;
}

/** A CIDR's network, as Go's net.ParseCIDR reads it, and whether the address written had host bits set (which Go drops). */
export function parseCidrNetwork(spec: string): { range: AddressRange; hostBitsSet: boolean } {
  const [address = '', length = '', ...extra] = spec.split('/');
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  if (family === 0 || extra.length > 0 || !/^\d{1,3}$/.test(length) || Number(length) > bits) {
    throw new AddressRangeError(`"${spec}" is not a valid CIDR; write it like 192.0.2.64/27 or 2001:db8::/120.`);
  }
  const size = 1n << BigInt(bits - Number(length));
  const written = addressValue(address);
  const network = written - (written % size);
  return { range: { family: family === 4 ? 4 : 6, first: network, last: network + size - 1n, prefixLength: Number(length) }, hostBitsSet: written !== network };
}

export function formatCidr(range: AddressRange): string {
  return `${formatAddress(range.family, range.first)}/${range.prefixLength}`;
}

function parseFirstLast(spec: string): AddressRange {
  const [from = '', to = '', ...extra] = spec.split('-').map((part) => part.trim());
  const family = isIP(from);
  if (extra.length > 0 || family === 0 || isIP(to) !== family) {
    throw new AddressRangeError(`"${spec}" is not a range of two addresses of one family, like 192.0.2.70-192.0.2.80.`);
  }
  const first = addressValue(from);
  const last = addressValue(to);
  if (first > last) throw new AddressRangeError(`"${spec}" is reversed; did you mean ${to}-${from}?`);
  return { family: family === 4 ? 4 : 6, first, last };
}

/** The integer value of an IPv4 or IPv6 address in text form. */
export function addressValue(address: string): bigint {
  // isIP has checked four decimal octets; reading them is much cheaper than ip-num's parser, which a re-read of thousands of services calls per address.
  if (isIP(address) === 4) return BigInt(address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0));
  let bytes: Buffer;
  try {
    bytes = ipv6ToBytes(address);
  } catch {
    throw new AddressRangeError(`"${address}" is not an IP address this tool can use (an IPv6 zone such as %eth0 has no place in a pool).`);
  }
  return (bytes.readBigUInt64BE(0) << 64n) | bytes.readBigUInt64BE(8);
}

/** Undefined for text that is not one address vipkit can use, an IPv6 address with a zone included. */
export function familyOf(address: string): Family | undefined {
  const family = isIP(address);
  if (family === 0 || address.includes('%')) return undefined;
  return family === 4 ? 4 : 6;
}

/**
 * Why text cannot be a pool, peer, node or service address, as the end of a sentence, or
 * undefined when it can. node's isIP accepts a zone (fe80::1%eth0), which names a link
 * of one host and has no meaning in a cluster's config.
 */
export function addressRefusal(address: string): string | undefined {
  if (familyOf(address) !== undefined) return undefined;
  if (isIP(address) === 6) return `has an IPv6 zone (${address.slice(address.indexOf('%'))}); zones are not allowed in pool, peer, node or service addresses, so write it without one`;
  return 'is not an IP address';
}

/**
 * What `value` is when no host can hold it: IPv4 0.0.0.0/8 ("this network", RFC 1122
 * 3.2.1.3), 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast) and 255.255.255.255 (limited
 * broadcast, RFC 919); IPv6 :: (unspecified), ::1 (loopback) and ff00::/8 (multicast,
 * RFC 4291 2.5.2, 2.5.3, 2.7). Undefined for a unicast address, and for loopback when
 * it is allowed (a daemon on this host).
 */
export function notUnicast(family: Family, value: bigint, { loopbackAllowed = false } = {}): string | undefined {
  if (family === 4) {
    const firstOctet = Number(value >> 24n);
    if (value === 0xffffffffn) return 'the limited broadcast address';
    if (firstOctet === 0) return 'in 0.0.0.0/8, "this network"';
    if (firstOctet === 127 && !loopbackAllowed) return 'a loopback address';
    if (firstOctet >= 224 && firstOctet <= 239) return 'a multicast address';
    return undefined;
  }
  if (value === 0n) return 'the unspecified address';
  if (value === 1n && !loopbackAllowed) return 'the loopback address';
  if (value >> 120n === 0xffn) return 'a multicast address';
  return undefined;
}

/** Reused by every IPv6 address formatted: ipv6FromBytes keeps nothing of it. */
const scratch = Buffer.alloc(16);

/** Canonical text: dotted quad, or RFC 5952 IPv6. */
export function formatAddress(family: Family, value: bigint): string {
  if (family === 4) {
    const number = Number(value);
    // join makes one flat string; from 13 characters on, a template makes a rope of three
    // objects, and every allocation keeps its addresses' text.
    return [number >>> 24, (number >>> 16) & 0xff, (number >>> 8) & 0xff, number & 0xff].join('.');
  }
  scratch.writeBigUInt64BE(value >> 64n, 0);
  scratch.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 8);
  return ipv6FromBytes(scratch);
}

/**
 * The shortest prefix length among the CIDRs that exactly cover the range, as MetalLB
 * splits a first-last range (ipaddr.Summarize, internal/config/config.go ParseCIDR).
 */
export function widestPrefixLength(range: AddressRange): number {
  if (range.prefixLength !== undefined) return range.prefixLength;
  const bits = range.family === 4 ? 32 : 128;
  let widest = bits;
  for (let start = range.first; start <= range.last; ) {
    // The largest block aligned at start that ends within the range.
    let size = 0;
    while (size < bits && start % (1n << BigInt(size + 1)) === 0n && start + (1n << BigInt(size + 1)) - 1n <= range.last) size++;
    widest = Math.min(widest, bits - size);
    start += 1n << BigInt(size);
  }
  return widest;
}

export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

/** As MetalLB's avoid-buggy-ips: IPv4 addresses ending in .0 or .255 confuse some clients' smurf protection. */
export function isBuggyAddress(family: Family, value: bigint): boolean {
  if (family !== 4) return false;
  const lastOctet = value & 0xffn;
  return lastOctet === 0n || lastOctet === 0xffn;
}

/** How many addresses in the range end in .0 or .255, counted without enumerating them. */
export function buggyAddressCount(range: AddressRange): bigint {
  if (range.family !== 4) return 0n;
  const endingIn = (octet: bigint) => countCongruent(range.first, range.last, octet);
  return endingIn(0n) + endingIn(255n);
}

/** Values v in [first, last] with v mod 256 == residue. */
function countCongruent(first: bigint, last: bigint, residue: bigint): bigint {
  const atOrBelow = (value: bigint) => (value < residue ? 0n : (value - residue) / 256n + 1n);
  return atOrBelow(last) - (first === 0n ? 0n : atOrBelow(first - 1n));
}
