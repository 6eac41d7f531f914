/**
 * Just enough IPv4 and TCP to follow a TCP stream in a capture: addresses, ports,
 * sequence numbers, flags, payload. Checksums are not verified: a capture taken on the
 * sending host holds segments whose checksums the NIC fills in later (offload).
 */
import { EtherType } from '../wire/ethernet.js';
import type { DecodedFrame } from '../wire/frame.js';
import { IpProtocol, ipv4 } from '../wire/ipv4.js';
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
    return ipv6.nextHeader === IpProtocol.Tcp ? decodeTcp(ipv6.payload, ipv6.source, ipv6.destination) : undefined;
  }
  if (decoded.ethernet.etherType !== EtherType.IPv4) return undefined;
  const packet = ipv4.decode(decoded.ethernet.payload);
  // Only a first fragment starts with the TCP header; the kernel does not fragment BGP's segments.
  if (packet.protocol !== IpProtocol.Tcp || packet.fragmentOffset !== 0) return undefined;
  return decodeTcp(packet.payload, packet.source, packet.destination);
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
