import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CaptureFileError, ethernetFrame, LINKTYPE_ETHERNET, PcapWriter, readCapture, type CaptureReadStats } from '../../src/observe/pcap-file.js';
import { tsharkFields } from '../helpers/capture.js';
import { FRAME_A, FRAME_B, pcapng } from './hand-made-captures.js';

const directory = mkdtempSync(join(tmpdir(), 'vipkit-pcap-'));
after(() => rmSync(directory, { recursive: true, force: true }));


function read(path: string): { records: ReturnType<typeof collect>; stats: CaptureReadStats } {
  const stats = { records: 0, truncated: 0, skippedBlocks: 0 };
  return { records: collect(readCapture(path, stats)), stats };
}

function collect(records: ReturnType<typeof readCapture>) {
  return [...records].map((record) => ({ ...record, data: Buffer.from(record.data).toString('hex') }));
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

const NS_PER_SECOND = 1_000_000_000n;

/** tshark's frame.time_epoch in nanoseconds. It prints the seconds and nanoseconds fields
 *  of its time as they are, so a time before 1970 reads "-1000000000.500000000" for
 *  -999999999.5 s: the fraction is added to the seconds, whatever their sign. */
function tsharkTimesNs(file: string): bigint[] {
  return tsharkFields(file, ['frame.time_epoch']).map((frame) => {
    const [seconds, fraction] = frame['frame.time_epoch']!.split('.');
    return BigInt(seconds!) * NS_PER_SECOND + BigInt(fraction!.padEnd(9, '0'));
  });
}

describe('capture times outside what a Date or pcap holds', () => {
  const times = (path: string) => [...readCapture(path)].map((record) => record.timestampNs);

  it('pcapng times before 1970, after 2106 and beyond a Date read exactly, as tshark reads them', () => {
    const cases = [
      // if_tsoffset -10^9 s (pcapng 4.2) puts the packets in 1938; the second one 0.5 s later.
      { name: 'before-1970', tsresol: 9, tsoffset: -1_000_000_000n, units: [0n, 500_000_000n], expected: [-1_000_000_000n * NS_PER_SECOND, -999_999_999_500_000_000n] },
      { name: 'after-2106', tsresol: 9, units: [5_000_000_000_123_456_789n], expected: [5_000_000_000_123_456_789n] },
      // if_tsresol 0: whole seconds, so 64 bits of them reach far past a Date.
      { name: 'beyond-a-date', tsresol: 0, units: [2n ** 50n], expected: [2n ** 50n * NS_PER_SECOND] },
      { name: 'long-before-a-date', tsresol: 0, tsoffset: -(2n ** 62n), units: [0n], expected: [-(2n ** 62n) * NS_PER_SECOND] },
    ];
    for (const { name, tsresol, tsoffset, units, expected } of cases) {
      const path = join(directory, `${name}.pcapng`);
      writeFileSync(path, pcapng(true, tsresol, units, tsoffset));
      assert.deepEqual(times(path), expected, name);
      assert.deepEqual(tsharkTimesNs(path), expected, `${name}, as tshark reads it`);
    }
  });

  it('the largest pcapng time, 2^64 - 1 seconds, reads as it is (tshark wraps it to -1 s)', () => {
    const path = join(directory, 'largest.pcapng');
    writeFileSync(path, pcapng(false, 0, [2n ** 64n - 1n]));
    assert.deepEqual(times(path), [(2n ** 64n - 1n) * NS_PER_SECOND]);
  });

  it('writing pcap, a time its 32-bit unsigned seconds cannot hold is written at the nearest one it can, and counted', () => {
    const path = join(directory, 'clamped.pcap');
    const writer = new PcapWriter(path);
    const lastMicrosecond = (2n ** 32n - 1n) * NS_PER_SECOND + 999_999_000n;
    const written = [-1n, -999_999_999_500_000_000n, 0n, (2n ** 32n - 1n) * NS_PER_SECOND + 999_999_999n, 2n ** 32n * NS_PER_SECOND, (2n ** 64n - 1n) * NS_PER_SECOND];
    for (const at of written) writer.write(FRAME_A, at);
    writer.close();
    const expected = [0n, 0n, 0n, lastMicrosecond, lastMicrosecond, lastMicrosecond];
    assert.deepEqual(times(path), expected);
    assert.deepEqual(tsharkTimesNs(path), expected, 'as tshark reads it');
    assert.equal(writer.clampedRecords, 4);
    assert.equal(writer.records, written.length);
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
