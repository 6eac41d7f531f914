import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CaptureFileError, ethernetFrame, LINKTYPE_ETHERNET, PcapWriter, readCapture, type CaptureReadStats } from '../../src/observe/pcap-file.js';

const directory = mkdtempSync(join(tmpdir(), 'vipkit-pcap-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const FRAME_A = Buffer.from('ffffffffffff020000000011080600010800060400010200000000110c000002000000000000c0000264', 'hex');
const FRAME_B = Buffer.from('02000000001002000000001208060001080006040002020000000012c0000264020000000010c000020a', 'hex');

function read(path: string): { records: ReturnType<typeof collect>; stats: CaptureReadStats } {
  const stats = { records: 0, truncated: 0, skippedBlocks: 0 };
  return { records: collect(readCapture(path, stats)), stats };
}

function collect(records: ReturnType<typeof readCapture>) {
  return [...records].map((record) => ({ ...record, data: Buffer.from(record.data).toString('hex') }));
}

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

function pcapng(littleEndian: boolean, tsresol: number): Buffer {
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
  const option = (code: number, value: Buffer) => Buffer.concat([u16(code), u16(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  const sectionHeader = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]), littleEndian);
  const interfaceBlock = block(1, Buffer.concat([u16(1), u16(0), u32(262144), option(2, Buffer.from('eth0')), option(9, Buffer.from([tsresol])), option(0, Buffer.alloc(0))]), littleEndian);
  // 1800000000.123456789 s in units of 10^-tsresol.
  const units = (1_800_000_000_123_456_789n * 10n ** BigInt(tsresol)) / 1_000_000_000n;
  const packet = (data: Buffer) =>
    block(6, Buffer.concat([u32(0), u32(Number(units >> 32n)), u32(Number(units & 0xffffffffn)), u32(data.length), u32(data.length), data]), littleEndian);
  const statistics = block(5, Buffer.concat([u32(0), u32(0), u32(0)]), littleEndian);
  return Buffer.concat([sectionHeader, interfaceBlock, packet(FRAME_A), statistics, packet(FRAME_B)]);
}

describe('capture files', () => {
  it('writes pcap that reads back with microsecond timestamps', () => {
    const path = join(directory, 'written.pcap');
    const writer = new PcapWriter(path);
    writer.write(FRAME_A, 1_800_000_000_123_456_789n);
    writer.write(FRAME_B, 1_800_000_001_000_000_000n);
    writer.close();
    const { records, stats } = read(path);
    assert.deepEqual(records, [
      { data: FRAME_A.toString('hex'), timestampNs: 1_800_000_000_123_456_000n, linkType: 1 },
      { data: FRAME_B.toString('hex'), timestampNs: 1_800_000_001_000_000_000n, linkType: 1 },
    ]);
    assert.deepEqual(stats, { records: 2, truncated: 0, skippedBlocks: 0 });
  });

  for (const littleEndian of [true, false]) {
    for (const tsresol of [6, 9]) {
      it(`reads pcapng (${littleEndian ? 'little' : 'big'}-endian, 10^-${tsresol} s), skipping other blocks`, () => {
        const path = join(directory, `hand-${littleEndian}-${tsresol}.pcapng`);
        writeFileSync(path, pcapng(littleEndian, tsresol));
        const { records, stats } = read(path);
        const timestampNs = tsresol === 9 ? 1_800_000_000_123_456_789n : 1_800_000_000_123_456_000n;
        assert.deepEqual(records, [
          { data: FRAME_A.toString('hex'), timestampNs, linkType: 1, interfaceName: 'eth0' },
          { data: FRAME_B.toString('hex'), timestampNs, linkType: 1, interfaceName: 'eth0' },
        ]);
        assert.deepEqual(stats, { records: 2, truncated: 0, skippedBlocks: 1 });
      });
    }
  }

  it('a file cut short keeps what came before and counts the cut record', () => {
    for (const [name, bytes] of [
      ['cut.pcapng', pcapng(true, 6)],
      ['cut.pcap', (() => {
        const path = join(directory, 'whole.pcap');
        const writer = new PcapWriter(path);
        writer.write(FRAME_A, 0n);
        writer.write(FRAME_B, 0n);
        writer.close();
        return readFileSync(path);
      })()],
    ] as const) {
      const path = join(directory, name);
      writeFileSync(path, bytes.subarray(0, bytes.length - 10));
      const { records, stats } = read(path);
      assert.equal(records.length, 1, name);
      assert.equal(stats.truncated, 1, name);
    }
  });

  it('refuses a file that is neither pcap nor pcapng, a missing file, and a directory', () => {
    const path = join(directory, 'text.txt');
    writeFileSync(path, 'not a capture\n');
    assert.throws(() => read(path), CaptureFileError);
    assert.throws(() => read(join(directory, 'missing.pcap')), /cannot read the capture file .*ENOENT/);
    assert.throws(() => read(directory), (error: unknown) => error instanceof CaptureFileError && /cannot read the capture file .*EISDIR/.test(error.message));
  });
});

describe('Linux cooked frames (tcpdump -i any) as Ethernet', () => {
  // FRAME_A's source MAC, EtherType and payload behind a cooked header instead of its Ethernet one.
  const source = FRAME_A.subarray(6, 12);
  const etherTypeAndPayload = FRAME_A.subarray(12);
  const expected = Buffer.concat([Buffer.alloc(6), source, etherTypeAndPayload]).toString('hex');
  const sll = (hardwareType: number, addressLength: number) => {
    const header = Buffer.alloc(16);
    header.writeUInt16BE(1, 0); // packet type: broadcast
    header.writeUInt16BE(hardwareType, 2);
    header.writeUInt16BE(addressLength, 4);
    source.copy(header, 6);
    etherTypeAndPayload.copy(header, 14, 0, 2);
    return Buffer.concat([header, etherTypeAndPayload.subarray(2)]);
  };
  const sll2 = (hardwareType: number) => {
    const header = Buffer.alloc(20);
    etherTypeAndPayload.copy(header, 0, 0, 2);
    header.writeUInt32BE(2, 4); // interface index
    header.writeUInt16BE(hardwareType, 8);
    header[10] = 1;
    header[11] = 6;
    source.copy(header, 12);
    return Buffer.concat([header, etherTypeAndPayload.subarray(2)]);
  };
  const asEthernet = (data: Buffer, linkType: number) => ethernetFrame({ data, linkType, timestampNs: 0n })?.toString('hex');

  it('SLL and SLL2 from an Ethernet device keep the source MAC, the EtherType and the payload; the destination is zero', () => {
    assert.equal(asEthernet(sll(1, 6), 113), expected);
    assert.equal(asEthernet(sll2(1), 276), expected);
    assert.equal(asEthernet(FRAME_A, LINKTYPE_ETHERNET), FRAME_A.toString('hex'));
  });

  it('other devices, other link types and cut headers are not Ethernet', () => {
    assert.equal(asEthernet(sll(772, 6), 113), undefined); // ARPHRD_LOOPBACK
    assert.equal(asEthernet(sll(1, 0), 113), undefined);
    assert.equal(asEthernet(sll2(1).subarray(0, 19), 276), undefined);
    assert.equal(asEthernet(FRAME_A, 101), undefined); // LINKTYPE_RAW
  });
});
