import { DecodeError } from '../decode-error.js';
import { ipv4FromBytes, ipv4ToBytes, ipv6FromBytes, ipv6ToBytes } from '../ip-address.js';
import { Reader } from '../reader.js';
import { checkUint } from '../uint-field.js';
import { Afi } from './registry.js';

/*
 * A prefix in NLRI (RFC 4271 4.3, RFC 4760 5) is a length in bits and only as many
 * octets as that length needs; trailing bits of the last octet are irrelevant:
 *
 * +---------------------------+
 * |   Length (1 octet)        |
 * +---------------------------+
 * |   Prefix (variable)       |
 * +---------------------------+
 *
 * With ADD-PATH (RFC 7911 3) each prefix is preceded by a 4-octet Path Identifier, in
 * the families and directions where it was negotiated.
 *
 * vipkit's model of a prefix is its text, "203.0.113.0/25" or "2001:db8:100::/48", host
 * bits zero: the form --json prints, and a natural Map key for the Adj-RIBs.
 */

export interface ParsedPrefix {
  afi: number;
  length: number;
  /** The full address, 4 or 16 bytes, host bits zero. */
  address: Buffer;
}

function addressBits(afi: number): number {
  return afi === Afi.Ipv4 ? 32 : 128;
}

function maskHostBits(address: Buffer, length: number): Buffer {
  const masked = Buffer.from(address);
  for (let bit = length; bit < masked.length * 8; bit++) masked[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return masked;
}

/** "203.0.113.0/25" -> afi, length, address. A bare address is a host route (/32, /128).
 *  Host bits must be zero: "203.0.113.5/24" is refused, it is not a prefix. */
export function parsePrefix(text: string): ParsedPrefix {
  const [addressText, lengthText, extra] = text.split('/');
  const afi = addressText!.includes(':') ? Afi.Ipv6 : Afi.Ipv4;
  const bits = addressBits(afi);
  const length = lengthText === undefined ? bits : /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (extra !== undefined || !(length >= 0 && length <= bits)) {
    throw new DecodeError('bgp-prefix', `not a prefix: ${JSON.stringify(text)}`);
  }
  const address = afi === Afi.Ipv4 ? ipv4ToBytes(addressText!) : ipv6ToBytes(addressText!);
  if (!maskHostBits(address, length).equals(address)) {
    throw new DecodeError('bgp-prefix', `${text} has host bits set (did you mean ${formatPrefix(afi, maskHostBits(address, length), length)}?)`);
  }
  return { afi, length, address };
}

export function formatPrefix(afi: number, address: Buffer, length: number): string {
  return `${afi === Afi.Ipv4 ? ipv4FromBytes(address) : ipv6FromBytes(address)}/${length}`;
}

/** The AFI of a prefix's text, without parsing all of it. */
export function prefixAfi(text: string): number {
  return text.includes(':') ? Afi.Ipv6 : Afi.Ipv4;
}

/** Bytes one prefix takes in NLRI: the length octet and ceil(length / 8). */
export function prefixEncodingLength(text: string): number {
  return 1 + Math.ceil(parsePrefix(text).length / 8);
}

/** Bytes one NLRI field takes; 4 more per prefix with path identifiers (RFC 7911 3). */
export function nlriEncodingLength(prefixes: readonly string[], addPath = false): number {
  return prefixes.reduce((sum, prefix) => sum + prefixEncodingLength(prefix) + (addPath ? 4 : 0), 0);
}

/** The prefixes of one NLRI field, and their Path Identifiers when the field carries them. */
export interface Nlri {
  prefixes: string[];
  /** RFC 7911 3, one per prefix, in the same order. */
  pathIds?: number[];
}

/** NLRI for prefixes that must all be of `afi` (IPv4 in the UPDATE's own fields, either
 *  family inside MP_REACH/MP_UNREACH); with `pathIds`, each prefix is preceded by its
 *  4-octet Path Identifier (RFC 7911 3). */
export function encodeNlri(afi: number, prefixes: readonly string[], pathIds?: readonly number[]): Buffer {
  if (pathIds !== undefined && pathIds.length !== prefixes.length) {
    throw new DecodeError('bgp-prefix', `${pathIds.length} path identifiers for ${prefixes.length} prefixes`);
  }
  const parts = prefixes.map((text, index) => {
    const prefix = parsePrefix(text);
    if (prefix.afi !== afi) throw new DecodeError('bgp-prefix', `${text} is not of AFI ${afi}`);
    const octets = Math.ceil(prefix.length / 8);
    const encoded = Buffer.concat([Buffer.from([prefix.length]), prefix.address.subarray(0, octets)]);
    if (pathIds === undefined) return encoded;
    const pathId = Buffer.alloc(4);
    pathId.writeUInt32BE(checkUint('bgp-prefix', 'path identifier', pathIds[index]!, 32));
    return Buffer.concat([pathId, encoded]);
  });
  return Buffer.concat(parts);
}

/**
 * Reads prefixes of `afi` until the reader is empty, each after a 4-octet Path Identifier
 * when `addPath` (RFC 7911 3). A length beyond the address size or octets past the end
 * throw (the caller decides which NOTIFICATION that is); trailing bits are cleared
 * (RFC 4271 4.3: irrelevant).
 */
export function decodeNlri(reader: Reader, afi: number, addPath = false): Nlri {
  const bits = addressBits(afi);
  const prefixes: string[] = [];
  const pathIds: number[] = [];
  while (reader.remaining > 0) {
    if (addPath) pathIds.push(reader.u32('path identifier'));
    const length = reader.u8('prefix length');
    if (length > bits) reader.fail(`prefix length ${length} exceeds ${bits}`);
    const address = Buffer.alloc(bits / 8);
    reader.bytes(Math.ceil(length / 8), `${length}-bit prefix`).copy(address);
    prefixes.push(formatPrefix(afi, maskHostBits(address, length), length));
  }
  return addPath ? { prefixes, pathIds } : { prefixes };
}

/**
 * A hint for an NLRI field that did not decode without path identifiers: whether it
 * decodes with them (RFC 7911 3), as when a peer sends ADD-PATH that was not negotiated.
 */
export function addPathHint(bytes: Buffer, afi: number): string {
  try {
    decodeNlri(new Reader(bytes, 'bgp-prefix'), afi, true);
  } catch (error) {
    if (error instanceof DecodeError) return '';
    throw error;
  }
  return ' (it reads as prefixes with ADD-PATH path identifiers, which this session did not negotiate)';
}
