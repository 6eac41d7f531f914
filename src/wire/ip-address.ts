import { DecodeError } from './decode-error.js';
import { macFromBytes } from './mac.js';

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_TEXT = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const IPV6_GROUP = /^[0-9a-f]{1,4}$/i;

/** Dotted quad, no leading zeros (`010` is octal to some parsers, so it is refused). */
export function ipv4ToBytes(ip: string): Buffer {
  if (!IPV4_TEXT.test(ip)) {
    throw new DecodeError('ipv4-address', `not an IPv4 address: ${JSON.stringify(ip)}`);
  }
  return Buffer.from(ip.split('.').map(Number));
}

export function ipv4FromBytes(b: Buffer): string {
  if (b.length !== 4) {
    throw new DecodeError('ipv4-address', `an IPv4 address is 4 bytes, got ${b.length}`);
  }
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 4291 2.2 text forms: full, `::`-compressed, and with a trailing dotted quad. */
export function ipv6ToBytes(ip: string): Buffer {
  const refuse = (): never => {
    throw new DecodeError('ipv6-address', `not an IPv6 address: ${JSON.stringify(ip)}`);
  };
  const halves = ip.split('::');
  if (halves.length > 2) refuse();
  const groupsOf = (half: string, isLast: boolean): number[] => {
    if (half === '') return [];
    const texts = half.split(':');
    const groups: number[] = [];
    texts.forEach((text, index) => {
      if (isLast && index === texts.length - 1 && text.includes('.')) {
        if (!IPV4_TEXT.test(text)) refuse();
        const quad = ipv4ToBytes(text);
        groups.push(quad.readUInt16BE(0), quad.readUInt16BE(2));
      } else {
        if (!IPV6_GROUP.test(text)) refuse();
        groups.push(parseInt(text, 16));
      }
    });
    return groups;
  };
  const head = groupsOf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  const explicit = head.length + tail.length;
  // `::` stands for one or more zero groups (RFC 4291 2.2 item 2).
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) refuse();
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  return bytes;
}

/** RFC 5952 canonical text: lower case, no leading zeros, the longest (first) run of two or
 *  more zero groups as `::` (4.2), IPv4-mapped addresses with a dotted quad (5). */
export function ipv6FromBytes(b: Buffer): string {
  if (b.length !== 16) {
    throw new DecodeError('ipv6-address', `an IPv6 address is 16 bytes, got ${b.length}`);
  }
  if (b.subarray(0, 10).every((byte) => byte === 0) && b.readUInt16BE(10) === 0xffff) {
    return `::ffff:${ipv4FromBytes(b.subarray(12))}`;
  }
  const groups = Array.from({ length: 8 }, (_, index) => b.readUInt16BE(index * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end === start ? start + 1 : end;
  }
  const text = (part: number[]): string => part.map((group) => group.toString(16)).join(':');
  if (bestStart < 0) return text(groups);
  return `${text(groups.slice(0, bestStart))}::${text(groups.slice(bestStart + bestLength))}`;
}

/** ff02::1:ffXX:XXXX from the low 24 bits of `ip` (RFC 4291 2.7.1). */
export function solicitedNodeMulticast(ip: string): string {
  const address = ipv6ToBytes(ip);
  const group = ipv6ToBytes('ff02::1:ff00:0');
  address.copy(group, 13, 13);
  return ipv6FromBytes(group);
}

/** 33:33 and the low 32 bits of an IPv6 multicast address (RFC 2464 7). */
export function ipv6MulticastMac(ip: string): string {
  const address = ipv6ToBytes(ip);
  if (address[0] !== 0xff) {
    throw new DecodeError('ipv6-address', `${ip} is not a multicast address (ff00::/8)`);
  }
  return macFromBytes(Buffer.concat([Buffer.from([0x33, 0x33]), address.subarray(12)]));
}
