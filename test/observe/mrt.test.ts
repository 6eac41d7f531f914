import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runVipkit } from '../cli/run-vipkit.js';

/**
 * `vipkit watch -r` on MRT dumps (RFC 6396): from BIRD 2 (test/fixtures/mrt/make-mrt.sh),
 * and from RIPE RIS collectors and bgpdump's own tests (test/fixtures/mrt/ris/, source and
 * licence in its README): BGP4MP messages and state changes, and TABLE_DUMP_V2 RIB dumps
 * with and without ADD-PATH, checked against bgpdump's reading of the same files
 * (`bgpdump -m`), plain, gzip and bzip2.
 */
const FIXTURES = new URL('../../../test/fixtures/mrt/', import.meta.url).pathname;
const DUMPS = [
  'bird-bgp4mp.mrt',
  'bird-rib-ipv4.mrt',
  'bird-rib-ipv6.mrt',
  'ris/updates.20020722.2238.gz',
  'ris/updates.long_withdrawal.gz',
  'ris/bview.64k_stream_overflow.gz',
  'ris/bview.ipv4_unicast_add_path.gz',
  'ris/bview.ipv6_unicast_add_path.gz',
];

interface Event {
  event: string;
  [field: string]: unknown;
}

function watch(path: string): Event[] {
  const result = runVipkit(['watch', '-r', path, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event);
}

const STATES = ['', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/**
 * bgpdump -m's lines in a form both readers can be written in: A|peer|prefix[#path id]|as
 * path|next hop|med|communities, W|peer|prefix, STATE|peer|old|new. Its ADD-PATH lines
 * (TABLE_DUMP2_AP) have the path id after the prefix; a route without a next hop (an IPv6
 * one without MP_REACH_NLRI, a RIB entry without attributes) it writes as 255.255.255.255.
 */
function bgpdumpLines(path: string): string[] {
  const output = execFileSync('bgpdump', ['-m', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  return output
    .trim()
    .split('\n')
    .map((line) => line.split('|'))
    .map(([record, , kind, peer, , ...rest]) => {
      if (kind === 'W') return `W|${peer}|${rest[0]}`;
      if (kind === 'STATE') return `STATE|${peer}|${STATES[Number(rest[0])]}|${STATES[Number(rest[1])]}`;
      const pathId = record!.endsWith('_AP') ? rest.splice(1, 1)[0] : undefined;
      const [prefix, asPath, , nextHop, , med, communities] = rest;
      const shownNextHop = nextHop === '255.255.255.255' ? '' : nextHop;
      return `A|${peer}|${prefix}${pathId === undefined ? '' : `#${pathId}`}|${asPath}|${shownNextHop}|${med}|${communities}`;
    })
    .sort();
}

function vipkitLines(events: Event[]): string[] {
  return events
    .flatMap((event) => {
      if (event.event === 'bgp-state') return [`STATE|${event['from']}|${event['old_state']}|${event['new_state']}`];
      if (event.event !== 'bgp-update' && event.event !== 'bgp-rib') return [];
      const withdrawn = ((event['withdrawn'] as string[] | undefined) ?? []).map((prefix) => `W|${event['from']}|${prefix}`);
      const communities = ((event['communities'] as string[] | undefined) ?? []).join(' ');
      const pathIds = event['path_ids'] as number[] | undefined;
      const announced = ((event['announced'] as string[] | undefined) ?? []).map(
        (prefix, index) => `A|${event['from']}|${prefix}${pathIds === undefined ? '' : `#${pathIds[index]}`}|${event['as_path'] ?? ''}|${event['next_hop'] ?? ''}|${event['med'] ?? 0}|${communities}`,
      );
      return [...withdrawn, ...announced];
    })
    .sort();
}

describe('watch -r on MRT dumps', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'vipkit-mrt-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  for (const dump of DUMPS) {
    test(`${dump}: every route, withdrawal and state change as bgpdump reads them`, () => {
      const path = join(FIXTURES, dump);
      const lines = vipkitLines(watch(path));
      assert.ok(lines.length > 0);
      const expected = bgpdumpLines(path);
      assert.equal(lines.length, expected.length);
      assert.deepEqual(lines.filter((line, index) => line !== expected[index]).slice(0, 5), []);
    });
  }

  test('the BGP4MP dump gives the session as a capture would: the OPEN, the readings chosen, End-of-RIB, and the summary counts', () => {
    const events = watch(join(FIXTURES, 'bird-bgp4mp.mrt'));
    assert.ok(events.some((event) => event.event === 'bgp-open' && event['asn'] === 64800 && event['from'] === '192.0.2.11'));
    assert.deepEqual(events.filter((event) => event.event === 'bgp-update' && event['end_of_rib'] !== undefined).map((event) => event['end_of_rib']), ['ipv4-unicast', 'ipv6-unicast']);
    const route = events.find((event) => event.event === 'bgp-update' && (event['announced'] as string[] | undefined)?.includes('203.0.113.0/25'))!;
    assert.deepEqual(route['large_communities'], ['64800:7:8']);
    const summary = events.at(-1)!;
    assert.equal(summary.event, 'summary');
    assert.equal(summary['malformed_records'], 0);
    assert.equal(summary['unsupported_records'], 0);
  });

  test('gzip and bzip2 dumps read the same as the plain one', () => {
    const path = join(FIXTURES, 'bird-bgp4mp.mrt');
    const gz = join(scratch, 'dump.mrt.gz');
    writeFileSync(gz, gzipSync(readFileSync(path)));
    const bz2 = join(scratch, 'dump.mrt.bz2');
    writeFileSync(bz2, execFileSync('bzip2', ['-c', path]));
    const plain = vipkitLines(watch(path));
    assert.deepEqual(vipkitLines(watch(gz)), plain);
    assert.deepEqual(vipkitLines(watch(bz2)), plain);
  });

  test('a dump cut short is read up to the cut, with a warning; a file that is neither pcap nor MRT exits 2 in one sentence', () => {
    const whole = readFileSync(join(FIXTURES, 'bird-bgp4mp.mrt'));
    const cut = join(scratch, 'cut.mrt');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    const result = runVipkit(['watch', '-r', cut, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /cut\.mrt ends in the middle of a record/);
    const garbage = join(scratch, 'notes.txt');
    writeFileSync(garbage, 'these are not packets\n');
    const refused = runVipkit(['watch', '-r', garbage]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^vipkit: notes\.txt is neither a pcap or pcapng capture nor an MRT dump/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /);
  });
});

test('a reader that stops early (| head) ends the command quietly with exit 0, not a crash', async () => {
  const { spawn } = await import('node:child_process');
  const { VIPKIT } = await import('../cli/run-vipkit.js');
  const child = spawn(process.execPath, [VIPKIT, 'watch', '-r', join(FIXTURES, 'bird-bgp4mp.mrt')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
});

test('an UPDATE whose NLRI field does not parse is shown as bgp-malformed with the reason (RFC 7606 5.3: no prefix of it can be trusted), where bgpdump keeps the first prefix', () => {
  const path = join(FIXTURES, 'ris/updates.nlri_mask_trailing_bits.gz');
  const events = watch(path);
  const malformed = events.filter((event) => event.event === 'bgp-malformed');
  assert.equal(malformed.length, 1);
  assert.match(String(malformed[0]!['error']), /Invalid Network Field: NLRI: .*11-bit prefix needs 2 bytes, 0 left/);
  assert.equal(malformed[0]!['from'], '12.0.1.63');
  assert.deepEqual(bgpdumpLines(path), ['A|12.0.1.63|11.13.0.0/13|7018 3549 12389 48275 51044|12.0.1.63|0|6923:3339']);
});

test('BGP4MP_ET records carry microseconds (RFC 6396 3): the event is timed to them', async () => {
  const { readMrt } = await import('../../src/observe/mrt-file.js');
  const { MrtWatch } = await import('../../src/observe/mrt-watch.js');
  const { BgpWatch } = await import('../../src/observe/bgp-watch.js');
  // A NOTIFICATION (Cease / Administrative Shutdown) from 192.0.2.11 to 192.0.2.1, in a BGP4MP_ET / MESSAGE_AS4 record.
  const message = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 21, 3, 6, 2])]);
  const record = Buffer.concat([
    Buffer.from([0x65, 0x53, 0xf1, 0x00, 0, 17, 0, 4, 0, 0, 0, 0]), // 1700000000 s, type 17, subtype 4, length below
    Buffer.from([0x00, 0x01, 0xe2, 0x40]), // 123456 µs
    Buffer.from([0, 0, 0xfd, 0xe8, 0, 0, 0xfd, 0xea]), // peer AS 65000, local AS 65002
    Buffer.from([0, 0, 0, 1]), // interface index 0, AFI 1
    Buffer.from([192, 0, 2, 11, 192, 0, 2, 1]),
    message,
  ]);
  record.writeUInt32BE(record.length - 12, 8);
  const directory = mkdtempSync(join(tmpdir(), 'vipkit-mrt-et-'));
  const file = join(directory, 'et.mrt');
  writeFileSync(file, record);
  const events: { event: string; at: bigint; from: string; to: string }[] = [];
  const mrt = new MrtWatch(new BgpWatch());
  for await (const entry of readMrt(file)) mrt.record(entry, events as never);
  rmSync(directory, { recursive: true, force: true });
  assert.deepEqual(
    events.map(({ event, at, from, to }) => [event, at, from, to]),
    [['bgp-notification', 1_700_000_000_123_456_000n, '192.0.2.11', '192.0.2.1']],
  );
});
