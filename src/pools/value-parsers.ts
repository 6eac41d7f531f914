import { isIP, isIPv4 } from 'node:net';
import { isLinkLocal } from '../link/interfaces.js';
import { UserError } from '../user-error.js';
import { IPV4_UNICAST, IPV6_UNICAST, type Family as BgpFamily } from '../wire/bgp/registry.js';
import { addressRefusal, addressValue, familyOf, formatAddress, notUnicast, parseAddressRange } from './address-range.js';
import { PROTOCOLS, type Location, type PoolRange, type Problem, type Protocol } from './model.js';
import { suggestion } from './suggest.js';

/**
 * Values shared by every pools format and every command, in two layers:
 * - `parseX(text)`: the value, or a ValueError saying in one sentence what is wrong. No
 *   commander and no locations: cli/bgp-options.ts adapts them for commander's options,
 *   readValue for the pools formats, which report every problem where it was written.
 * - `readX(text, at, problems)`: the value, or undefined with a located Problem.
 */

/** A value written wrongly; its message is one sentence that says how to write it. */
export class ValueError extends UserError {
  override readonly name = 'ValueError';
}

/** A core parser's refusal as a problem at the value, so that a reader goes on to the next one. */
export function readValue<T>(parse: (text: string) => T, text: string, at: Location, problems: Problem[]): T | undefined {
  try {
    return parse(text);
  } catch (error) {
    // Every refusal is a UserError: a ValueError, or an AddressRangeError from parseAddressRange.
    if (!(error instanceof UserError)) throw error;
    problems.push({ severity: 'error', at, message: error.message });
    return undefined;
  }
}

/** Digits only (no sign, blank, fraction or exponent); 15 digits stay exact in a double. */
function wholeNumber(value: string): number | undefined {
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

export function parseInteger(value: string, min: number, max: number): number {
  const number = wholeNumber(value);
  if (number === undefined || number < min || number > max) throw new ValueError(`"${value}" is not a whole number from ${min} to ${max}.`);
  return number;
}

export function parseBoolean(value: string): boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ValueError(`"${value}" is not true or false.`);
}

export function parseProtocol(value: string): Protocol {
  if ((PROTOCOLS as readonly string[]).includes(value)) return value as Protocol;
  throw new ValueError(`protocol "${value}" is not layer2 or bgp${suggestion(value, PROTOCOLS, false)}`);
}

/** RFC 6793: four-octet AS numbers go up to 2^32 - 1. */
export const MAX_ASN = 4_294_967_295;

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
    throw new ValueError(`"${value}" is not an AS number: expected 1 to 4294967295 (asplain) or 0.1 to 65535.65535 (asdot).`);
  }
  return asn;
}

const MAX_HOLD_TIME = 65535;
/** RFC 4271 10: a KEEPALIVE at most every third of the hold time, so at most a third of the longest one. */
const MAX_KEEPALIVE_TIME = Math.floor(MAX_HOLD_TIME / 3);

/** RFC 4271 4.2: a hold time is 0 (no keepalives) or 3 to 65535 seconds. */
export function parseHoldTime(value: string): number {
  const seconds = wholeNumber(value);
  if (seconds === undefined || seconds > MAX_HOLD_TIME || seconds === 1 || seconds === 2) {
    throw new ValueError(`"${value}" is not a hold time: expected 0 or 3 to 65535 seconds.`);
  }
  return seconds;
}

/**
 * Seconds between KEEPALIVEs, 0 to 21845. Alone, only the bound can be checked: whether it
 * fits the hold time is checkKeepaliveTime's job, once both are known.
 */
export function parseKeepaliveTime(value: string): number {
  const seconds = wholeNumber(value);
  if (seconds === undefined || seconds > MAX_KEEPALIVE_TIME) {
    throw new ValueError(`"${value}" is not a keepalive time: expected 0 to ${MAX_KEEPALIVE_TIME} seconds (at most a third of the longest hold time, RFC 4271 10).`);
  }
  return seconds;
}

/**
 * RFC 4271 10: KEEPALIVEs at most a third of the hold time apart, so that two can be lost
 * before the peer's hold timer expires (and at least one: 0 would send none). With a hold
 * time of 0 no KEEPALIVE is sent at all (4.4), so every keepalive time fits.
 */
export function checkKeepaliveTime(keepaliveTime: number, holdTime: number): void {
  if (holdTime === 0 || (keepaliveTime >= 1 && keepaliveTime * 3 <= holdTime)) return;
  throw new ValueError(`a keepalive time of ${keepaliveTime} s does not fit a hold time of ${holdTime} s: give 1 to ${Math.floor(holdTime / 3)} seconds, at most a third of it (RFC 4271 10).`);
}

export function parsePort(value: string): number {
  const port = wholeNumber(value);
  if (port === undefined || port < 1 || port > 65535) throw new ValueError(`"${value}" is not a TCP port: expected 1 to 65535.`);
  return port;
}

/** A BGP identifier: a non-zero dotted-quad IPv4 address (RFC 6286 2.1). */
export function parseRouterId(value: string): string {
  if (!isIPv4(value) || value === '0.0.0.0') throw new ValueError(`"${value}" is not a router id: expected a non-zero IPv4 address such as 192.0.2.11.`);
  return value;
}

/** The address and its IPv6 zone (`%eth0`, or ''). */
function splitZone(address: string): [string, string] {
  const percent = address.indexOf('%');
  return percent < 0 ? [address, ''] : [address.slice(0, percent), address.slice(percent)];
}

/** IPv4, or IPv6 with or without brackets (`[2001:db8::1]`) and zone (`fe80::1%eth0`); canonical text. */
export function parseAddress(value: string): string {
  const text = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(text) === 0) throw new ValueError(`"${value}" is not an IP address.`);
  const [address, zone] = splitZone(text);
  // Canonical, so that it equals what a socket reports for the same peer (2001:DB8::1, 0:0::1).
  return formatAddress(familyOf(address)!, addressValue(address)) + zone;
}

/** Refuses what no host can hold (multicast, broadcast, unspecified, loopback unless allowed), naming who must be unicast. */
function refuseNotUnicast(address: string, who: string, loopbackAllowed: boolean): void {
  const [bare] = splitZone(address);
  const special = notUnicast(familyOf(bare)!, addressValue(bare), { loopbackAllowed });
  if (special !== undefined) throw new ValueError(`${address} is ${special}: ${who} has a unicast address.`);
}

/** A BGP peer's address: unicast, loopback included (a daemon on this host); link-local with its %zone. */
export function parsePeerAddress(value: string): string {
  const address = parseAddress(value);
  refuseNotUnicast(address, 'a BGP peer', true);
  // Every interface has fe80::/10: without a zone the kernel cannot tell which link (EINVAL).
  if (isIP(address) === 6 && !address.includes('%') && isLinkLocal(address)) throw new ValueError(`${address} is link-local: name its interface, as in ${address}%eth0.`);
  return address;
}

/**
 * The local address of a session to `peerAddress`: a socket cannot bind an IPv4 address
 * and connect to an IPv6 one, or the reverse.
 */
export function parseSourceAddress(value: string, peerAddress: string): string {
  const address = parseAddress(value);
  const [family, peerFamily] = [isIP(address), isIP(peerAddress)];
  if (family !== peerFamily) throw new ValueError(`source address ${address} is IPv${family} but the peer ${peerAddress} is IPv${peerFamily}; give an address of the peer's family.`);
  return address;
}

/**
 * An address other hosts of the cluster reach (a member, a service's requested IP): unicast,
 * not loopback, and without an IPv6 zone, which names a link of one host only.
 */
export function parseUnicastAddress(value: string, who: string): string {
  const address = parseAddress(value);
  if (address.includes('%')) throw new ValueError(`"${value}" ${addressRefusal(address)}.`);
  refuseNotUnicast(address, who, false);
  return address;
}

const FAMILIES: Record<string, BgpFamily> = { ipv4: IPV4_UNICAST, 'ipv4-unicast': IPV4_UNICAST, ipv6: IPV6_UNICAST, 'ipv6-unicast': IPV6_UNICAST };

/** `ipv4`, `ipv6`, `ipv4,ipv6` (or the `-unicast` names): the address families to negotiate. */
export function parseFamilies(value: string): BgpFamily[] {
  const families: BgpFamily[] = [];
  for (const name of value.split(',').map((item) => item.trim().toLowerCase())) {
    const family = Object.hasOwn(FAMILIES, name) ? FAMILIES[name] : undefined;
    if (!family) throw new ValueError(`"${name}" is not an address family: expected ipv4, ipv6 or both, comma-separated.`);
    if (!families.includes(family)) families.push(family);
  }
  return families;
}

/*
 * Kubernetes names ("Object Names and IDs") and labels ("Labels and Selectors: Syntax and
 * character set"): the API server refuses anything else, so a flag that would name or
 * select an object it cannot hold is refused here, where it was written.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const RFC_1123_LABEL_RULE = "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

/** A namespace name: an RFC 1123 label. */
export function parseNamespace(value: string): string {
  if (value.length > 63 || !DNS_LABEL.test(value)) throw new ValueError(`"${value}" is not a namespace name: ${RFC_1123_LABEL_RULE}.`);
  return value;
}

/** `namespace/name` of a Service, whose name is an RFC 1035 label (it becomes a DNS name, so it starts with a letter). */
export function parseServiceName(value: string): { namespace: string; name: string } {
  const [namespace = '', name = '', ...extra] = value.split('/');
  if (extra.length > 0 || !value.includes('/')) throw new ValueError(`"${value}" is not namespace/name of a Service, like shop/web.`);
  parseNamespace(namespace);
  if (name.length > 63 || !DNS_1035_LABEL.test(name)) {
    throw new ValueError(`"${name}" is not a Service name: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters.`);
  }
  return { namespace, name };
}

/** A Node name: an RFC 1123 subdomain (node1, node1.example.com). */
export function parseNodeName(value: string): string {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new ValueError(`"${value}" is not a node name: dot-separated parts of lower-case letters, digits and '-', each starting and ending with a letter or digit, at most 253 characters.`);
  }
  return value;
}

/** A label key: a name of at most 63 characters, optionally after a DNS subdomain prefix and '/' (example.com/zone). */
export function parseLabelKey(value: string): string {
  const slash = value.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, value] : [value.slice(0, slash), value.slice(slash + 1)];
  const prefixFits = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!prefixFits || name.length > 63 || !LABEL_NAME.test(name)) {
    throw new ValueError(`"${value}" is not a label key: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally after a prefix and '/' (example.com/zone).`);
  }
  return value;
}

/** A label value: empty, or like a label key's name. */
export function parseLabelValue(value: string): string {
  if (value !== '' && (value.length > 63 || !LABEL_NAME.test(value))) {
    throw new ValueError(`"${value}" is not a label value: empty, or up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.`);
  }
  return value;
}

export function readPoolRange(text: string, at: Location, problems: Problem[]): PoolRange | undefined {
  const range = readValue(parseAddressRange, text, at, problems);
  return range && { text, range, at };
}

export function readProtocol(text: string, at: Location, problems: Problem[]): Protocol | undefined {
  return readValue(parseProtocol, text, at, problems);
}

export function readAddress(text: string, what: string, at: Location, problems: Problem[]): string | undefined {
  const refusal = addressRefusal(text);
  if (refusal === undefined) return text;
  problems.push({ severity: 'error', at, message: `${what} "${text}" ${refusal}.` });
  return undefined;
}

const GO_DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration ("90s", "1m30s") as MetalLB writes them, in whole seconds (MetalLB rounds down). */
export function readDuration(text: string, what: string, at: Location, problems: Problem[]): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text === '0') return 0;
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) {
    problems.push({ severity: 'error', at, message: `${what} "${text}" is not a duration; write it like 90s or 1m30s.` });
    return undefined;
  }
  return Math.floor(parts.reduce((sum, part) => sum + Number(part[1]) * GO_DURATION_UNITS[part[2]!]!, 0));
}

/** Seconds back to MetalLB's Go duration text. */
export function formatDuration(seconds: number): string {
  return `${seconds}s`;
}

/** A standard community "65002:100" (two 16-bit halves) or a large one "large:65002:7:8" (RFC 8092). */
export function isCommunityValue(text: string): boolean {
  const standard = /^(\d+):(\d+)$/.exec(text);
  if (standard) return standard.slice(1).every((part) => Number(part) <= 0xffff);
  const large = /^large:(\d+):(\d+):(\d+)$/.exec(text);
  return large !== null && large.slice(1).every((part) => Number(part) <= 0xffff_ffff);
}

/**
 * A Kubernetes object name (RFC 1123 label): lower case, digits and '-', starting with a
 * letter, at most 63 characters — how MetalLB's configmaptocrs renames legacy pools.
 */
export function kubernetesName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^[^a-z]+/, '');
  return cleaned.slice(0, 63).replace(/-+$/, '');
}
