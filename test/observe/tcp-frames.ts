import { EtherType, ethernet } from '../../src/wire/ethernet.js';
import { ipv4ToBytes } from '../../src/wire/ip-address.js';

export interface TcpFrameOptions {
  source?: string;
  sourcePort?: number;
  destination?: string;
  destinationPort?: number;
  sequence?: number;
  /** The IPv4 Flags and Fragment Offset field. */
  fragmentOffset?: number;
  /** Ethernet padding after the IP packet. */
  padding?: number;
}

/** An Ethernet frame of IPv4 and TCP (PSH+ACK) carrying `payload`; by default the speaker 192.0.2.11:40000 to the router's port 179. */
export function ipv4TcpFrame(payload: Buffer, options: TcpFrameOptions = {}): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(options.sourcePort ?? 40000, 0);
  tcp.writeUInt16BE(options.destinationPort ?? 179, 2);
  tcp.writeUInt32BE((options.sequence ?? 123456) >>> 0, 4);
  tcp.writeUInt8(5 << 4, 12);
  tcp.writeUInt8(0x18, 13);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + tcp.length + payload.length, 2);
  ip.writeUInt16BE(options.fragmentOffset ?? 0, 6);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(6, 9);
  ipv4ToBytes(options.source ?? '192.0.2.11').copy(ip, 12);
  ipv4ToBytes(options.destination ?? '192.0.2.1').copy(ip, 16);
  const packet = Buffer.concat([ip, tcp, payload, Buffer.alloc(options.padding ?? 0)]);
  return ethernet.encode({ destination: '02:00:00:00:00:01', source: '02:00:00:00:00:11', etherType: EtherType.IPv4, payload: packet });
}
