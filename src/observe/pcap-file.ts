/**
 * Capture files, read and written by vipkit itself (cap has no file support): classic
 * pcap as `tcpdump -w` writes it, and pcapng as `dumpcap` and `tshark -F pcapng` write it.
 *
 * Reading streams the file in chunks, so a capture of any size takes constant memory.
 * A record cut short at the end of the file (a capture interrupted mid-write) is counted
 * and ends the read; only a file that is neither format is an error.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { UserError } from '../user-error.js';

/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types). */
export const LINKTYPE_ETHERNET = 1;
/** ARPHRD_ETHER: the hardware type of an Ethernet device in a Linux cooked header. */
const ARPHRD_ETHER = 1;
const MAC_LENGTH = 6;

/**
 * Linux cooked headers, as `tcpdump -i any` writes them (LINKTYPE_LINUX_SLL 113 up to
 * tcpdump 4.98 or with -y LINUX_SLL, LINKTYPE_LINUX_SLL2 276 from 4.99): where the
 * device's hardware type, the sender's address and its length, and the EtherType are.
 */
const COOKED_HEADERS = new Map([
  [113, { length: 16, hardwareTypeAt: 2, addressLength: (data: Buffer) => data.readUInt16BE(4), addressAt: 6, etherTypeAt: 14 }],
  [276, { length: 20, hardwareTypeAt: 8, addressLength: (data: Buffer) => data[11]!, addressAt: 12, etherTypeAt: 0 }],
]);

export interface CaptureRecord {
  data: Buffer;
  /** Capture time in nanoseconds since the Unix epoch. */
  timestampNs: bigint;
  linkType: number;
  /** pcapng's if_name option; classic pcap has no interface names. */
  interfaceName?: string;
}

export interface CaptureReadStats {
  records: number;
  /** Records or blocks cut short by the end of the file (at most one: it ends the read). */
  truncated: number;
  /** pcapng blocks other than packets and headers (statistics, name resolution, ...). */
  skippedBlocks: number;
}

/** The file is not a capture vipkit can read; the CLI turns it into exit 2. */
export class CaptureFileError extends UserError {
  override readonly name = 'CaptureFileError';
}

/**
 * The record as an Ethernet frame, or undefined for a link type vipkit does not watch. A
 * cooked record from an Ethernet device keeps the sender's MAC and the EtherType (and a
 * VLAN tag libpcap put back) but not the destination MAC, which is left all zero: nothing
 * in watch reads it.
 */
export function ethernetFrame({ data, linkType }: CaptureRecord): Buffer | undefined {
  if (linkType === LINKTYPE_ETHERNET) return data;
  const header = COOKED_HEADERS.get(linkType);
  if (header === undefined || data.length < header.length) return undefined;
  if (data.readUInt16BE(header.hardwareTypeAt) !== ARPHRD_ETHER || header.addressLength(data) !== MAC_LENGTH) return undefined;
  const frame = Buffer.alloc(2 * MAC_LENGTH + 2 + data.length - header.length);
  data.copy(frame, MAC_LENGTH, header.addressAt, header.addressAt + MAC_LENGTH);
  data.copy(frame, 2 * MAC_LENGTH, header.etherTypeAt, header.etherTypeAt + 2);
  data.copy(frame, 2 * MAC_LENGTH + 2, header.length);
  return frame;
}

const CHUNK_SIZE = 1024 * 1024;
/** No Ethernet frame is larger; a bigger length field means the file is corrupt. */
const MAX_RECORD_LENGTH = 256 * 1024;

/** A read cursor over a file that fetches chunks on demand. */
class ChunkedFile {
  private buffer = Buffer.alloc(0);
  private offset = 0;
  private ended = false;

  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}

  /**
   * The next `length` bytes, or undefined when the file ends first. Each chunk is fresh,
   * so returned slices stay valid after later reads.
   */
  take(length: number): Buffer | undefined {
    while (this.buffer.length - this.offset < length && !this.ended) this.fill(length);
    if (this.buffer.length - this.offset < length) return undefined;
    const slice = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  get atEnd(): boolean {
    if (this.offset === this.buffer.length && !this.ended) this.fill(1);
    return this.offset === this.buffer.length;
  }

  private fill(wanted: number): void {
    const rest = this.buffer.subarray(this.offset);
    const size = Math.max(CHUNK_SIZE, wanted - rest.length);
    const chunk = Buffer.allocUnsafe(rest.length + size);
    rest.copy(chunk);
    let read: number;
    try {
      read = readSync(this.fd, chunk, rest.length, size, null);
    } catch (error) {
      // A directory opens fine and fails here (EISDIR); so does a disk error (EIO).
      throw new CaptureFileError(`cannot read the capture file ${this.path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    if (read === 0) this.ended = true;
    this.buffer = chunk.subarray(0, rest.length + read);
    this.offset = 0;
  }
}

/*
 * Classic pcap (draft-ietf-opsawg-pcap 4): a 24-byte file header, then records.
 *
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Magic 0xA1B2C3D4 (µs) or 0xA1B23C4D (ns), in writer's order |
 * | Major Version | Minor Version |  Reserved1  |  Reserved2  |  SnapLen  |  LinkType
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Record: Timestamp (s), Timestamp (µs or ns), Captured Length, Original Length, data.
 */
const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const PCAP_MAGIC_NANOS = 0xa1b23c4d;
const PCAP_HEADER_LENGTH = 24;
const PCAP_RECORD_HEADER_LENGTH = 16;
/** The upper bits of the LinkType field carry FCS information (draft 4, "LinkType"). */
const LINKTYPE_MASK = 0x0fffffff;

/*
 * pcapng (draft-ietf-opsawg-pcapng 3.1): a sequence of blocks, each
 * Block Type (32) | Block Total Length (32) | Body | Block Total Length (32),
 * in the byte order the Section Header Block's Byte-Order Magic reveals.
 */
const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
const BLOCK_INTERFACE_DESCRIPTION = 1;
const BLOCK_OBSOLETE_PACKET = 2;
const BLOCK_SIMPLE_PACKET = 3;
const BLOCK_ENHANCED_PACKET = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPTION_END = 0;
const OPTION_IF_NAME = 2;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;

interface PcapngInterface {
  linkType: number;
  snapLength: number;
  name?: string;
  /** Timestamp units per second. */
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

/** Reads `path` (pcap or pcapng, either byte order) record by record; `stats` fills in as it goes. */
export function* readCapture(path: string, stats: CaptureReadStats = { records: 0, truncated: 0, skippedBlocks: 0 }): Generator<CaptureRecord> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new CaptureFileError(`cannot read the capture file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const file = new ChunkedFile(fd, path);
    const head = file.take(4);
    const magicBE = head?.readUInt32BE(0);
    const magicLE = head?.readUInt32LE(0);
    if (magicBE === BLOCK_SECTION_HEADER) {
      yield* readPcapng(file, stats);
    } else if (magicBE === PCAP_MAGIC_MICROS || magicBE === PCAP_MAGIC_NANOS) {
      yield* readPcap(file, path, false, magicBE === PCAP_MAGIC_NANOS, stats);
    } else if (magicLE === PCAP_MAGIC_MICROS || magicLE === PCAP_MAGIC_NANOS) {
      yield* readPcap(file, path, true, magicLE === PCAP_MAGIC_NANOS, stats);
    } else {
      throw new CaptureFileError(`${path} is neither a pcap nor a pcapng file (as tcpdump -w or dumpcap write them)`);
    }
  } finally {
    closeSync(fd);
  }
}

function* readPcap(file: ChunkedFile, path: string, littleEndian: boolean, nanos: boolean, stats: CaptureReadStats): Generator<CaptureRecord> {
  const header = file.take(PCAP_HEADER_LENGTH - 4);
  if (header === undefined) throw new CaptureFileError(`${path} ends inside its pcap file header`);
  const u32 = (buffer: Buffer, offset: number) => (littleEndian ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset));
  const linkType = u32(header, 16) & LINKTYPE_MASK;
  const fractionNs = nanos ? 1n : 1000n;
  while (!file.atEnd) {
    const record = file.take(PCAP_RECORD_HEADER_LENGTH);
    const capturedLength = record === undefined ? 0 : u32(record, 8);
    const data = record === undefined || capturedLength > MAX_RECORD_LENGTH ? undefined : file.take(capturedLength);
    if (record === undefined || data === undefined) {
      stats.truncated++;
      return;
    }
    stats.records++;
    const timestampNs = BigInt(u32(record, 0)) * 1_000_000_000n + BigInt(u32(record, 4)) * fractionNs;
    yield { data, timestampNs, linkType };
  }
}

function* readPcapng(file: ChunkedFile, stats: CaptureReadStats): Generator<CaptureRecord> {
  let littleEndian = false;
  let interfaces: PcapngInterface[] = [];
  let type = BLOCK_SECTION_HEADER;
  for (;;) {
    const lengthBytes = file.take(4);
    if (lengthBytes === undefined) break;
    if (type === BLOCK_SECTION_HEADER) {
      // The length precedes the byte-order magic, so peek at the magic to read it.
      const magic = file.take(4);
      if (magic === undefined) break;
      if (magic.readUInt32LE(0) === BYTE_ORDER_MAGIC) littleEndian = true;
      else if (magic.readUInt32BE(0) === BYTE_ORDER_MAGIC) littleEndian = false;
      else throw new CaptureFileError('pcapng section header has no valid byte-order magic');
      interfaces = [];
    }
    const totalLength = littleEndian ? lengthBytes.readUInt32LE(0) : lengthBytes.readUInt32BE(0);
    const consumed = type === BLOCK_SECTION_HEADER ? 12 : 8;
    const body = totalLength % 4 !== 0 || totalLength < consumed + 4 || totalLength > MAX_RECORD_LENGTH ? undefined : file.take(totalLength - consumed);
    if (body === undefined) {
      stats.truncated++;
      return;
    }
    // The trailing copy of the length is the body's last 4 bytes.
    const block = new BlockView(body.subarray(0, body.length - 4), littleEndian);
    const record = decodeBlock(type, block, interfaces, stats);
    if (record !== undefined) {
      stats.records++;
      yield record;
    }
    const next = file.take(4);
    if (next === undefined) break;
    type = littleEndian ? next.readUInt32LE(0) : next.readUInt32BE(0);
  }
}

/** Bounds-checked reads within one block body; a short block reads as `undefined`. */
class BlockView {
  constructor(
    readonly bytes: Buffer,
    private readonly littleEndian: boolean,
  ) {}

  u16(offset: number): number | undefined {
    if (offset + 2 > this.bytes.length) return undefined;
    return this.littleEndian ? this.bytes.readUInt16LE(offset) : this.bytes.readUInt16BE(offset);
  }

  u32(offset: number): number | undefined {
    if (offset + 4 > this.bytes.length) return undefined;
    return this.littleEndian ? this.bytes.readUInt32LE(offset) : this.bytes.readUInt32BE(offset);
  }

  /** A signed 64-bit option value in the section's byte order. */
  int64(value: Buffer): bigint {
    return this.littleEndian ? value.readBigInt64LE(0) : value.readBigInt64BE(0);
  }

  /** Options (pcapng 3.5): code (16), length (16), value padded to 32 bits; opt_endofopt ends them. */
  *options(start: number): Generator<{ code: number; value: Buffer }> {
    let offset = start;
    for (;;) {
      const code = this.u16(offset);
      const length = this.u16(offset + 2);
      if (code === undefined || length === undefined || code === OPTION_END) return;
      if (offset + 4 + length > this.bytes.length) return;
      yield { code, value: this.bytes.subarray(offset + 4, offset + 4 + length) };
      offset += 4 + Math.ceil(length / 4) * 4;
    }
  }
}

function decodeBlock(type: number, block: BlockView, interfaces: PcapngInterface[], stats: CaptureReadStats): CaptureRecord | undefined {
  switch (type) {
    case BLOCK_SECTION_HEADER:
      return undefined;
    case BLOCK_INTERFACE_DESCRIPTION: {
      // LinkType (16), Reserved (16), SnapLen (32), options (pcapng 4.2).
      const described: PcapngInterface = {
        linkType: block.u16(0) ?? 0,
        snapLength: block.u32(4) ?? 0,
        unitsPerSecond: 1_000_000n,
        offsetSeconds: 0n,
      };
      for (const { code, value } of block.options(8)) {
        if (code === OPTION_IF_NAME) described.name = value.toString('utf8').replace(/\0+$/, '');
        if (code === OPTION_IF_TSRESOL && value.length >= 1) described.unitsPerSecond = timestampResolution(value[0]!);
        if (code === OPTION_IF_TSOFFSET && value.length >= 8) described.offsetSeconds = block.int64(value);
      }
      interfaces.push(described);
      return undefined;
    }
    case BLOCK_ENHANCED_PACKET:
      // Interface ID (32), Timestamp high/low (32+32), Captured and Original Length (pcapng 4.3).
      return packetRecord(interfaces[block.u32(0) ?? -1], block, block.u32(4), block.u32(8), block.u32(12), 20, stats);
    case BLOCK_OBSOLETE_PACKET:
      // Interface ID (16), Drops Count (16), then as the Enhanced Packet Block (pcapng appendix).
      return packetRecord(interfaces[block.u16(0) ?? -1], block, block.u32(4), block.u32(8), block.u32(12), 20, stats);
    case BLOCK_SIMPLE_PACKET: {
      // Original Packet Length (32), data up to the first interface's snap length (pcapng 4.4); no timestamp.
      const first = interfaces[0];
      const original = block.u32(0) ?? 0;
      const captured = Math.min(original, first?.snapLength || original, block.bytes.length - 4);
      return packetRecord(first, block, 0, 0, captured, 4, stats);
    }
    default:
      stats.skippedBlocks++;
      return undefined;
  }
}

function packetRecord(
  described: PcapngInterface | undefined,
  block: BlockView,
  timestampHigh: number | undefined,
  timestampLow: number | undefined,
  capturedLength: number | undefined,
  dataOffset: number,
  stats: CaptureReadStats,
): CaptureRecord | undefined {
  if (described === undefined || timestampHigh === undefined || timestampLow === undefined || capturedLength === undefined || dataOffset + capturedLength > block.bytes.length) {
    stats.truncated++;
    return undefined;
  }
  const units = (BigInt(timestampHigh) << 32n) | BigInt(timestampLow);
  const timestampNs = (units * 1_000_000_000n) / described.unitsPerSecond + described.offsetSeconds * 1_000_000_000n;
  const data = block.bytes.subarray(dataOffset, dataOffset + capturedLength);
  return described.name === undefined
    ? { data, timestampNs, linkType: described.linkType }
    : { data, timestampNs, linkType: described.linkType, interfaceName: described.name };
}

/** if_tsresol (pcapng 4.2): high bit clear, 10^-n seconds; set, 2^-n. */
function timestampResolution(value: number): bigint {
  return (value & 0x80) === 0 ? 10n ** BigInt(value) : 1n << BigInt(value & 0x7f);
}

/** The last nanosecond a pcap record's time can fall in: its seconds are 32-bit unsigned
 *  (draft-ietf-opsawg-pcap 5), 1970-01-01T00:00:00Z to 2106-02-07T06:28:15.999999999Z. */
const PCAP_LAST_NS = 2n ** 32n * 1_000_000_000n - 1n;

/**
 * Writes classic pcap with microsecond timestamps, as `tcpdump -w` does; buffered,
 * synchronous. A time pcap cannot hold (pcapng's times reach much further) is written as
 * the nearest one it can, in 1970 or 2106, and counted in `clampedRecords`: refusing would
 * lose the frame, or end the watch that records it.
 */
export class PcapWriter {
  private readonly fd: number;
  private buffer = Buffer.allocUnsafe(256 * 1024);
  private used = 0;
  records = 0;
  clampedRecords = 0;

  constructor(path: string, linkType = LINKTYPE_ETHERNET) {
    try {
      this.fd = openSync(path, 'w');
    } catch (error) {
      throw new CaptureFileError(`cannot write the capture file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const header = Buffer.alloc(PCAP_HEADER_LENGTH);
    header.writeUInt32LE(PCAP_MAGIC_MICROS, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(MAX_RECORD_LENGTH, 16);
    header.writeUInt32LE(linkType, 20);
    this.append(header);
  }

  write(data: Buffer, timestampNs: bigint): void {
    const record = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LENGTH);
    const writtenNs = timestampNs < 0n ? 0n : timestampNs > PCAP_LAST_NS ? PCAP_LAST_NS : timestampNs;
    if (writtenNs !== timestampNs) this.clampedRecords++;
    const micros = writtenNs / 1000n;
    record.writeUInt32LE(Number(micros / 1_000_000n), 0);
    record.writeUInt32LE(Number(micros % 1_000_000n), 4);
    record.writeUInt32LE(data.length, 8);
    record.writeUInt32LE(data.length, 12);
    this.append(record);
    this.append(data);
    this.records++;
  }

  /** Writes out what is buffered: the file is complete up to here. */
  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buffer, 0, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private append(bytes: Buffer): void {
    if (this.used + bytes.length > this.buffer.length) this.flush();
    if (bytes.length > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes.length);
    bytes.copy(this.buffer, this.used);
    this.used += bytes.length;
  }
}
