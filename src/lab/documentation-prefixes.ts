/**
 * The only address space a lab may use (DESIGN.md): the documentation ranges of RFC 5737
 * and RFC 3849, plus the benchmarking range of RFC 2544 for bulk prefixes. Anything else
 * could shadow a real network if a lab ever leaked out of its namespaces.
 */
import { IPv4CidrRange, IPv6CidrRange } from 'ip-num';
import { isIPv4, isIPv6 } from 'node:net';

const IPV4_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '198.18.0.0/15'].map((cidr) =>
  IPv4CidrRange.fromCidr(cidr),
);
const IPV6_RANGES = [IPv6CidrRange.fromCidr('2001:db8::/32')];

export const DOCUMENTATION_PREFIXES = '192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15, 2001:db8::/32';

/**
 * True when `cidr` (address/prefix-length) is well formed and its whole subnet lies inside
 * one of the ranges: 192.0.2.11/16 is refused because its subnet reaches beyond them.
 */
export function isDocumentationPrefix(cidr: string): boolean {
  const [address, length] = cidr.split('/');
  if (address === undefined || length === undefined || !/^\d{1,3}$/.test(length)) return false;
  if (isIPv4(address) && Number(length) <= 32) {
    const range = IPv4CidrRange.fromCidr(cidr);
    return IPV4_RANGES.some((allowed) => range.inside(allowed));
  }
  if (isIPv6(address) && Number(length) <= 128) {
    const range = IPv6CidrRange.fromCidr(cidr);
    return IPV6_RANGES.some((allowed) => range.inside(allowed));
  }
  return false;
}
