import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../../src/observe/pcap-file.js';
import { runVipkit } from '../cli/run-vipkit.js';
import { tsharkFields } from '../helpers/capture.js';
import { pcapng } from './hand-made-captures.js';

/** Made by capture.sh beside them; README.md there says how and what happens in them. */
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/pcap/', import.meta.url));
/** The same traffic: Ethernet pcap (µs and ns), pcapng, and tcpdump -i any's Linux cooked headers (SLL2 and SLL). */
const FILES = ['vip-lab.pcap', 'vip-lab-nanoseconds.pcap', 'vip-lab.pcapng', 'vip-lab-any.pcap', 'vip-lab-any-sll.pcap'];
/** Timestamps in nanoseconds (dumpcap writes them too); the others hold microseconds. */
const NANOSECOND_FILES = new Set(['vip-lab-nanoseconds.pcap', 'vip-lab.pcapng']);
const NODE1 = '02:00:5e:10:01:11';
const NODE2 = '02:00:5e:10:01:12';
const NODE3 = '02:00:5e:10:01:13';
const TARGETS = ['192.0.2.100', '192.0.2.200', '192.0.2.99'];

const scratch = mkdtempSync(join(tmpdir(), 'vipkit-watch-files-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Event = Record<string, unknown> & { event: string };

function watchFile(file: string, ...args: string[]): { code: number; events: Event[]; stderr: string } {
  const result = runVipkit(['watch', '--json', '-r', file, ...args]);
  const events = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Event);
  return { code: result.code, events, stderr: result.stderr };
}

/** The VIP's failover gap as tshark reads the file: node1's last reply to node2's first frame claiming the VIP. */
function tsharkGapMs(file: string): number {
  const frames = tsharkFields(file, ['frame.time_epoch', 'arp.src.hw_mac', 'arp.src.proto_ipv4'], 'arp.src.proto_ipv4 == 192.0.2.100');
  const times = (mac: string) => frames.filter((frame) => frame['arp.src.hw_mac'] === mac).map((frame) => Number(frame['frame.time_epoch']));
  return (Math.min(...times(NODE2)) - Math.max(...times(NODE1))) * 1000;
}

describe('vipkit watch -r on captures from a lab', () => {
  for (const name of FILES) {
    it(`${name}: the move with its gap, the duplicate, the dark address`, () => {
      const file = join(FIXTURES, name);
      const { code, events, stderr } = watchFile(file, ...TARGETS);
      assert.equal(code, 0, stderr);
      const shape = events.filter((event) => event.event !== 'summary').map((event) => [event.event, event.ip, event['mac'] ?? event['to']]);
      assert.deepEqual(shape, [
        ['owner', '192.0.2.100', NODE1],
        ['moved', '192.0.2.100', NODE2],
        ['gratuitous', '192.0.2.100', NODE2],
        ['owner', '192.0.2.200', NODE3],
        ['duplicate', '192.0.2.200', NODE2],
        ['unanswered', '192.0.2.99', undefined],
      ]);
      const moved = events.find((event) => event.event === 'moved')!;
      assert.equal(moved['from'], NODE1);
      assert.ok(Math.abs((moved['gap_ms'] as number) - tsharkGapMs(file)) < 0.002, `gap ${moved['gap_ms']} ms, tshark says ${tsharkGapMs(file)} ms`);
      assert.equal(events.find((event) => event.event === 'gratuitous')!['changed_owner'], true);
      assert.deepEqual(new Set(events.find((event) => event.event === 'duplicate')!['macs'] as string[]), new Set([NODE2, NODE3]));
      const summary = events.at(-1)!;
      assert.equal(summary.event, 'summary');
      assert.equal(summary['frames'], 91);
      assert.equal(summary['malformed'], 0);
      const dark = (summary['addresses'] as Event[]).find((address) => address['ip'] === '192.0.2.99')!;
      assert.ok((dark['dark_ms'] as number) > 1000, 'dark from the first request to the end');
    });
  }

  it('the five files give the same events, but for the interface name only pcapng keeps and durations below a microsecond', () => {
    const normalised = FILES.map((name) =>
      watchFile(join(FIXTURES, name), ...TARGETS).events.map((event) => {
        const { interface: _interface, ...rest } = event;
        if (event.event !== 'summary') return rest;
        const addresses = (rest['addresses'] as Event[]).map(({ interface: _ignored, ...address }) => address);
        return { ...rest, addresses };
      }),
    );
    // Durations from nanosecond timestamps may round to another last digit (their gaps are checked against tshark above).
    const withoutDurations = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value, (key, field: unknown) => (key.endsWith('_ms') ? undefined : field)));
    FILES.forEach((name, index) => {
      const [actual, expected] = NANOSECOND_FILES.has(name) ? [withoutDurations(normalised[index]), withoutDurations(normalised[0])] : [normalised[index], normalised[0]];
      assert.deepEqual(actual, expected, name);
    });
  });

  it('malformed frames and a truncated last record are counted and skipped, never fatal', () => {
    const original = readFileSync(join(FIXTURES, 'vip-lab.pcap'));
    const damaged = Buffer.from(original);
    // The first record's frame starts after the 24-byte file header and 16-byte record
    // header; its ARP hardware type (bytes 14-15 of the frame) becomes 6, not Ethernet.
    damaged.writeUInt16BE(6, 24 + 16 + 14);
    const file = join(scratch, 'damaged.pcap');
    writeFileSync(file, damaged.subarray(0, damaged.length - 20));
    const { code, events, stderr } = watchFile(file, ...TARGETS);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /ends in the middle of a record/);
    const summary = events.at(-1)!;
    assert.equal(summary['malformed'], 1);
    assert.equal(summary['truncated'], 1);
    assert.equal(summary['frames'], 90, 'all but the cut record');
    assert.ok(events.some((event) => event.event === 'moved'));
  });

  it('a file that is no capture is refused with exit 2', () => {
    const file = join(scratch, 'notes.txt');
    writeFileSync(file, 'hello\n');
    const { code, stderr } = watchFile(file);
    assert.equal(code, 2);
    assert.match(stderr, /notes\.txt is neither a pcap or pcapng capture nor an MRT dump \(RFC 6396\): it holds 6 bytes, less than one record\./);
  });

  it('-w writes what was read; tshark reads it back frame for frame', () => {
    const written = join(scratch, 'copy.pcap');
    assert.equal(watchFile(join(FIXTURES, 'vip-lab.pcapng'), '-w', written).code, 0);
    const copy = [...readCapture(written)].map((record) => [record.timestampNs / 1000n, record.data.toString('hex')]);
    const source = [...readCapture(join(FIXTURES, 'vip-lab.pcapng'))].map((record) => [record.timestampNs / 1000n, record.data.toString('hex')]);
    assert.deepEqual(copy, source);
    const frames = tsharkFields(written, ['arp.opcode']);
    assert.equal(frames.length, 91);
    assert.ok(frames.every((frame) => frame['_ws.malformed'] === ''));
  });
});

describe('vipkit watch on capture times outside 1970..2106', () => {
  const NS_PER_SECOND = 1_000_000_000n;

  it('-r reads frames from 1938 and 2128 and shows their times; -w writes them at the nearest times pcap holds', () => {
    const file = join(scratch, '1938-and-2128.pcapng');
    // if_tsoffset -10^9 s (pcapng 4.2): the first packet in 1938, the second 6 * 10^9 s later, in 2128.
    writeFileSync(file, pcapng(true, 9, [0n, 6_000_000_000n * NS_PER_SECOND], -1_000_000_000n));
    const written = join(scratch, '1938-and-2128.pcap');
    const { code, events, stderr } = watchFile(file, '-w', written);
    assert.equal(code, 0, stderr);
    assert.deepEqual(events.map((event) => [event.event, event['ts']]), [
      ['owner', '1938-04-24T22:13:20.000Z'],
      ['owner', '2128-06-11T08:53:20.000Z'],
      ['summary', '2128-06-11T08:53:20.000Z'],
    ]);
    assert.match(runVipkit(['watch', '-r', file]).stdout, /^1938-04-24T22:13:20\.000Z .* owner /m);
    const times = tsharkFields(written, ['frame.time_epoch']).map((frame) => frame['frame.time_epoch']);
    assert.deepEqual(times, ['0.000000000', '4294967295.999999000']);
  });

  it(
    '-w says how many frames it wrote at the ends of the range pcap holds',
    () => {
      const file = join(scratch, '1938-and-2128.pcapng');
      writeFileSync(file, pcapng(true, 9, [0n, 6_000_000_000n * NS_PER_SECOND], -1_000_000_000n));
      const { code, stderr } = watchFile(file, '-w', join(scratch, 'clamped.pcap'));
      assert.equal(code, 0, stderr);
      assert.match(stderr, /^warning: 2 frames are timed outside what pcap holds \(1970 to 2106\); clamped\.pcap has them at the nearest end of that range\.$/m);
    },
  );

  it(
    '-r shows a time beyond what a Date holds as @seconds, in --json and on the terminal alike',
    () => {
      const file = join(scratch, 'beyond-a-date.pcapng');
      // if_tsresol 0: whole seconds; 2^50 of them are some 35 million years.
      writeFileSync(file, pcapng(true, 0, [2n ** 50n]));
      const { code, events, stderr } = watchFile(file);
      assert.equal(code, 0, stderr);
      assert.deepEqual(events.map((event) => event['ts']), ['@1125899906842624.000', '@1125899906842624.000']);
      assert.match(runVipkit(['watch', '-r', file]).stdout, /^@1125899906842624\.000 .* owner /m);
    },
  );
});
