/**
 * Option values every BGP command reads (bgp-peer, announce): AS numbers, router
 * ids, peer addresses, ports and address families. Each parser fits commander's
 * `argParser`: it returns the value or throws InvalidArgumentError with one sentence.
 */
import { InvalidArgumentError } from 'commander';
import { isIP, isIPv4 } from 'node:net';
import { isLinkLocal, listInterfaces } from '../link/interfaces.js';
import { addressValue, familyOf, formatAddress, notUnicast } from '../pools/address-range.js';
import { IPV4_UNICAST, IPV6_UNICAST, type Family } from '../wire/bgp/registry.js';

const MAX_ASN = 4_294_967_295;

/**
 * An AS number in asplain (`64800`, `4200000000`) or asdot (`1.10` = 65546, RFC 5396);
 * 1 to 4294967295 (0 is reserved, RFC 7607).
 */
export function parseAsn(value: string): number {
  const text = value.trim();
  const asdot = /^(\d{1,5})\.(\d{1,5})$/.exec(text);
  let asn = NaN;
  if (asdot) {
    const [high, low] = [Number(asdot[1]), Number(asdot[2])];
    if (high <= 0xffff && low <= 0xffff) asn = high * 65536 + low;
  } else if (/^\d{1,10}$/.test(text)) {
    asn = Number(text);
  }
  if (!(asn >= 1 && asn <= MAX_ASN)) {
    throw new InvalidArgumentError(`"${value}" is not an AS number: expected 1 to 4294967295 (asplain) or 0.1 to 65535.65535 (asdot).`);
  }
  return asn;
}

/** A BGP identifier: a non-zero dotted-quad IPv4 address (RFC 6286 2.1). */
export function parseRouterId(value: string): string {
  if (!isIPv4(value) || value === '0.0.0.0') throw new InvalidArgumentError(`"${value}" is not a router id: expected a non-zero IPv4 address such as 192.0.2.11.`);
  return value;
}

/** A peer or local address: IPv4, or IPv6 with or without brackets (`[2001:db8::1]`). */
export function parseAddress(value: string): string {
  const address = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(address) === 0) throw new InvalidArgumentError(`"${value}" is not an IP address.`);
  // Canonical text, so that it equals what a socket reports for the same peer (2001:DB8::1, 0:0::1).
  const family = familyOf(address);
  return family === undefined ? address : formatAddress(family, addressValue(address));
}

/** A BGP peer's address: unicast, loopback included (a daemon on this host); link-local with its %zone. */
export function parsePeerAddress(value: string): string {
  const address = parseAddress(value);
  const family = familyOf(address);
  if (family === undefined) return address;
  const special = notUnicast(family, addressValue(address), { loopbackAllowed: true });
  if (special !== undefined) throw new InvalidArgumentError(`${address} is ${special}: a BGP peer has a unicast address.`);
  // Every interface has fe80::/10: without a zone the kernel cannot tell which link (EINVAL).
  if (family === 6 && isLinkLocal(address)) throw new InvalidArgumentError(`${address} is link-local: name its interface, as in ${address}%eth0.`);
  return address;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port < 1 || port > 65535) throw new InvalidArgumentError(`"${value}" is not a TCP port: expected 1 to 65535.`);
  return port;
}

/** RFC 4271 4.2: a hold time is 0 (no keepalives) or 3 to 65535 seconds. */
export function parseHoldTime(value: string): number {
  const seconds = Number(value);
  if (!/^\d{1,5}$/.test(value) || seconds > 65535 || seconds === 1 || seconds === 2) {
    throw new InvalidArgumentError(`"${value}" is not a hold time: expected 0 or 3 to 65535 seconds.`);
  }
  return seconds;
}

const FAMILIES: Record<string, Family> = { ipv4: IPV4_UNICAST, 'ipv4-unicast': IPV4_UNICAST, ipv6: IPV6_UNICAST, 'ipv6-unicast': IPV6_UNICAST };

/** `ipv4`, `ipv6`, `ipv4,ipv6` (or the `-unicast` names): the address families to negotiate. */
export function parseFamilies(value: string): Family[] {
  const families: Family[] = [];
  for (const name of value.split(',').map((item) => item.trim().toLowerCase())) {
    const family = Object.hasOwn(FAMILIES, name) ? FAMILIES[name] : undefined;
    if (!family) throw new InvalidArgumentError(`"${name}" is not an address family: expected ipv4, ipv6 or both, comma-separated.`);
    if (!families.includes(family)) families.push(family);
  }
  return families;
}

/**
 * The router id to use when none was given: `preferred` if it is IPv4 (the session's
 * source address), else the first IPv4 address of this host that is not loopback.
 */
export function defaultRouterId(preferred?: string): string | undefined {
  if (preferred !== undefined && isIPv4(preferred)) return preferred;
  for (const iface of listInterfaces()) {
    const address = iface.loopback ? undefined : iface.ipv4[0];
    if (address) return address.address;
  }
  return undefined;
}
