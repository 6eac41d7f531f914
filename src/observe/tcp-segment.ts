/**
 * Just enough IPv4 and TCP to follow a TCP stream in a capture: addresses, ports,
 * sequence numbers, flags, payload. Checksums are not verified: a capture taken on the
 * sending host holds segments whose checksums the NIC fills in later (offload).
 */
import { EtherType } from '../wire/ethernet.js';
import type { DecodedFrame } from '../wire/frame.js';
import { ipv4FromBytes } from '../wire/ip-address.js';
import { Reader } from '../wire/reader.js';

export interface TcpSegment {
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
  sequence: number;
  syn: boolean;
  fin: boolean;
  rst: boolean;
  payload: Buffer;
}

export const PROTOCOL_TCP = 6;
const FLAG_FIN = 0x01;
const FLAG_SYN = 0x02;
const FLAG_RST = 0x04;

/**
 * The TCP segment in `decoded`, or undefined when it carries none (not IP, not TCP, or an
 * IPv4 fragment after the first). Throws DecodeError for a header that lies.
 */
export function tcpSegmentOf(decoded: DecodedFrame): TcpSegment | undefined {
  if (decoded.ipv6) {
    const { ipv6 } = decoded;
    return ipv6.nextHeader === PROTOCOL_TCP ? decodeTcp(ipv6.payload, ipv6.source, ipv6.destination) : undefined;
  }
  if (decoded.ethernet.etherType !== EtherType.IPv4) return undefined;
  /*
   * IPv4 header (RFC 791 3.1): Version (4) | IHL (4) | Type of Service (8) | Total Length (16)
   * Identification (16) | Flags (3) | Fragment Offset (13) | TTL (8) | Protocol (8) |
   * Header Checksum (16) | Source (32) | Destination (32) | Options (IHL > 5).
   */
  const reader = new Reader(decoded.ethernet.payload, 'ipv4');
  const versionAndLength = reader.u8('version and IHL');
  if (versionAndLength >> 4 !== 4) reader.fail(`version ${versionAndLength >> 4}, expected 4`);
  const headerLength = (versionAndLength & 0x0f) * 4;
  if (headerLength < 20) reader.fail(`header length ${headerLength} is under 20 bytes`);
  reader.skip(1, 'type of service');
  const totalLength = reader.u16('total length');
  if (totalLength < headerLength || totalLength > decoded.ethernet.payload.length) reader.fail(`total length ${totalLength} does not fit the frame`);
  reader.skip(2, 'identification');
  const fragment = reader.u16('flags and fragment offset');
  reader.skip(1, 'time to live');
  const protocol = reader.u8('protocol');
  reader.skip(2, 'header checksum');
  const source = ipv4FromBytes(reader.bytes(4, 'source address'));
  const destination = ipv4FromBytes(reader.bytes(4, 'destination address'));
  // Only a first fragment starts with the TCP header; the kernel does not fragment BGP's segments.
  if (protocol !== PROTOCOL_TCP || (fragment & 0x1fff) !== 0) return undefined;
  reader.skip(headerLength - 20, 'options');
  // Total Length ends the packet: what follows is Ethernet padding.
  return decodeTcp(reader.bytes(totalLength - headerLength, 'payload'), source, destination);
}

/*
 * TCP header (RFC 9293 3.1): Source Port (16) | Destination Port (16) | Sequence Number (32) |
 * Acknowledgment Number (32) | Data Offset (4) | Reserved (4) | Flags (8) | Window (16) |
 * Checksum (16) | Urgent Pointer (16) | Options (Data Offset > 5) | Data.
 */
function decodeTcp(bytes: Buffer, source: string, destination: string): TcpSegment {
  const reader = new Reader(bytes, 'tcp');
  const sourcePort = reader.u16('source port');
  const destinationPort = reader.u16('destination port');
  const sequence = reader.u32('sequence number');
  reader.skip(4, 'acknowledgment number');
  const dataOffset = (reader.u8('data offset') >> 4) * 4;
  if (dataOffset < 20) reader.fail(`data offset ${dataOffset} is under 20 bytes`);
  const flags = reader.u8('flags');
  reader.skip(dataOffset - 14, 'window, checksum, urgent pointer and options');
  return {
    source,
    sourcePort,
    destination,
    destinationPort,
    sequence,
    syn: (flags & FLAG_SYN) !== 0,
    fin: (flags & FLAG_FIN) !== 0,
    rst: (flags & FLAG_RST) !== 0,
    payload: reader.rest(),
  };
}
