/** Capture files made byte by byte, for what no tool writes on request. */

/** Two ARP frames: a request from 02:00:00:00:00:11 and a reply from 02:00:00:00:00:12. */
export const FRAME_A = Buffer.from('ffffffffffff020000000011080600010800060400010200000000110c000002000000000000c0000264', 'hex');
export const FRAME_B = Buffer.from('02000000001002000000001208060001080006040002020000000012c0000264020000000010c000020a', 'hex');

/** A pcapng block: type, total length, body padded to 32 bits, total length again. */
function block(type: number, body: Buffer, littleEndian: boolean): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const head = Buffer.alloc(8);
  const tail = Buffer.alloc(4);
  const length = padded.length + 12;
  if (littleEndian) {
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(length, 4);
    tail.writeUInt32LE(length, 0);
  } else {
    head.writeUInt32BE(type, 0);
    head.writeUInt32BE(length, 4);
    tail.writeUInt32BE(length, 0);
  }
  return Buffer.concat([head, padded, tail]);
}

/** 1800000000.123456789 s, in units of 10^-tsresol s. */
const unitsOf2027 = (tsresol: number) => (1_800_000_000_123_456_789n * 10n ** BigInt(tsresol)) / 1_000_000_000n;

/** A pcapng file: one interface (if_tsresol `tsresol`, and if_tsoffset when given), packets
 *  alternately FRAME_A and FRAME_B at `units`, and a statistics block after the first. */
export function pcapng(littleEndian: boolean, tsresol: number, units = [unitsOf2027(tsresol), unitsOf2027(tsresol)], tsoffset?: bigint): Buffer {
  const u16 = (value: number) => {
    const bytes = Buffer.alloc(2);
    if (littleEndian) bytes.writeUInt16LE(value);
    else bytes.writeUInt16BE(value);
    return bytes;
  };
  const u32 = (value: number) => {
    const bytes = Buffer.alloc(4);
    if (littleEndian) bytes.writeUInt32LE(value);
    else bytes.writeUInt32BE(value);
    return bytes;
  };
  const i64 = (value: bigint) => {
    const bytes = Buffer.alloc(8);
    if (littleEndian) bytes.writeBigInt64LE(value);
    else bytes.writeBigInt64BE(value);
    return bytes;
  };
  const option = (code: number, value: Buffer) => Buffer.concat([u16(code), u16(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  const sectionHeader = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]), littleEndian);
  const offset = tsoffset === undefined ? [] : [option(14, i64(tsoffset))];
  const interfaceBlock = block(1, Buffer.concat([u16(1), u16(0), u32(262144), option(2, Buffer.from('eth0')), option(9, Buffer.from([tsresol])), ...offset, option(0, Buffer.alloc(0))]), littleEndian);
  const packet = (data: Buffer, at: bigint) =>
    block(6, Buffer.concat([u32(0), u32(Number(at >> 32n)), u32(Number(at & 0xffffffffn)), u32(data.length), u32(data.length), data]), littleEndian);
  const statistics = block(5, Buffer.concat([u32(0), u32(0), u32(0)]), littleEndian);
  const packets = units.map((at, index) => packet(index % 2 === 0 ? FRAME_A : FRAME_B, at));
  return Buffer.concat([sectionHeader, interfaceBlock, packets[0]!, statistics, ...packets.slice(1)]);
}
