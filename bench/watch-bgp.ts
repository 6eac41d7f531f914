/**
 * `vipkit watch -r --bgp` decoding rate beside tshark's, on one capture of --updates
 * (default 100,000) BGP UPDATEs: a session's two OPENs, then one UPDATE per TCP segment,
 * each a host route in 198.18.0.0/15 (RFC 2544's benchmarking range) with its own AS path
 * and community, so that no two messages share attributes. The capture is written here,
 * frame by frame; nothing is sent.
 *
 * Each tool reads the file as a whole process, the runs alternating: `vipkit watch -r file
 * --bgp --json` and `tshark -r file -Y bgp` (both to /dev/null). Wall time, UPDATEs per
 * second, and peak memory (VmHWM from /proc/<pid>/status, sampled until the process ends).
 *
 * Run after the build: node dist/bench/watch-bgp.js [--updates N] [--rounds N]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PcapWriter } from '../src/observe/pcap-file.js';
import { internetChecksum } from '../src/wire/checksum.js';
import { encodeMessage, IPV4_UNICAST, IPV6_UNICAST, type BgpMessage, type SessionCodecContext } from '../src/wire/bgp/index.js';
import { benchmarkAddress, parseRouteCount } from './benchmark-routes.js';

const VIPKIT = fileURLToPath(new URL('../../bin/vipkit.js', import.meta.url));
const { values } = parseArgs({ options: { updates: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } });
const UPDATES = parseRouteCount(values.updates);
const ROUNDS = Number(values.rounds);

const SPEAKER = { mac: '02:00:5e:10:00:0b', ip: '192.0.2.11', port: 40179, asn: 64800 };
const ROUTER = { mac: '02:00:5e:10:00:01', ip: '192.0.2.1', port: 179, asn: 65002 };
const CONTEXT: SessionCodecContext = { fourOctetAs: true, extendedMessage: false, families: [IPV4_UNICAST, IPV6_UNICAST] };

function octets(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** Ethernet, IPv4 and TCP (PSH, ACK) around `payload`, checksums included, as a capture of the segment holds it. */
function tcpFrame(from: typeof SPEAKER, to: typeof ROUTER, sequence: number, payload: Buffer): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(from.port, 0);
  tcp.writeUInt16BE(to.port, 2);
  tcp.writeUInt32BE(sequence >>> 0, 4);
  tcp.writeUInt32BE(1, 8);
  tcp.writeUInt8(5 << 4, 12);
  tcp.writeUInt8(0x18, 13);
  tcp.writeUInt16BE(65535, 14);
  const pseudo = Buffer.from([...octets(from.ip), ...octets(to.ip), 0, 6, (20 + payload.length) >> 8, (20 + payload.length) & 0xff]);
  tcp.writeUInt16BE(internetChecksum(Buffer.concat([pseudo, tcp, payload])), 16);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + 20 + payload.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(6, 9);
  Buffer.from(octets(from.ip)).copy(ip, 12);
  Buffer.from(octets(to.ip)).copy(ip, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  const ethernet = Buffer.concat([Buffer.from(to.mac.split(':').map((byte) => parseInt(byte, 16))), Buffer.from(from.mac.split(':').map((byte) => parseInt(byte, 16))), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([ethernet, ip, tcp, payload]);
}

function writeCapture(path: string): void {
  const writer = new PcapWriter(path);
  let at = 1_700_000_000_000_000_000n;
  const sequences = new Map<string, number>([
    [SPEAKER.ip, 1000],
    [ROUTER.ip, 5000],
  ]);
  const send = (from: typeof SPEAKER, to: typeof ROUTER, message: BgpMessage) => {
    const payload = encodeMessage(message, CONTEXT);
    const sequence = sequences.get(from.ip)!;
    writer.write(tcpFrame(from, to, sequence, payload), (at += 10_000n));
    sequences.set(from.ip, sequence + payload.length);
  };
  for (const [from, to] of [
    [SPEAKER, ROUTER],
    [ROUTER, SPEAKER],
  ] as const) {
    send(from, to, {
      type: 'open',
      version: 4,
      myAs: from.asn,
      holdTime: 90,
      bgpIdentifier: from.ip,
      capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', asn: from.asn }],
    });
  }
  for (let index = 0; index < UPDATES; index++) {
    send(SPEAKER, ROUTER, {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', value: 'igp' },
        { type: 'as-path', segments: [{ type: 'sequence', asns: [SPEAKER.asn, 65000 + (index % 500), 4200000000 + index] }] },
        { type: 'next-hop', value: SPEAKER.ip },
        { type: 'communities', value: [((SPEAKER.asn << 16) | (index & 0xffff)) >>> 0] },
      ],
      nlri: [`${benchmarkAddress(index)}/32`],
    });
  }
  writer.close();
}

/** Whole-process wall time and the peak of its resident memory. */
function measure(argv: string[]): Promise<{ seconds: number; peakMiB: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'] });
    let peakKiB = 0;
    const sample = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
      } catch {
        // Gone between two samples: the last one stands.
      }
    }, 10);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}`));
      else resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, peakMiB: peakKiB / 1024 });
    });
  });
}

const directory = mkdtempSync(join(tmpdir(), 'vipkit-bench-watch-bgp-'));
try {
  const file = join(directory, 'updates.pcap');
  writeCapture(file);
  const tools: Record<string, string[]> = {
    'vipkit watch -r --bgp': [process.execPath, VIPKIT, 'watch', '-r', file, '--bgp', '--json'],
    'tshark -r -Y bgp': ['tshark', '-r', file, '-Y', 'bgp'],
  };
  const runs: Record<string, { seconds: number; peakMiB: number }[]> = Object.fromEntries(Object.keys(tools).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, argv] of Object.entries(tools)) runs[name]!.push(await measure(argv));
  }
  const best = (name: string) => Math.min(...runs[name]!.map((run) => run.seconds));
  const peak = (name: string) => Math.max(...runs[name]!.map((run) => run.peakMiB));
  console.log(`Decoding ${UPDATES} BGP UPDATEs from one capture, ${ROUNDS} alternating rounds, whole-process wall time (best of ${ROUNDS})`);
  for (const name of Object.keys(tools)) {
    console.log(`${name.padEnd(22)} ${best(name).toFixed(2)} s  ${Math.round(UPDATES / best(name))} UPDATEs/s  peak ${peak(name).toFixed(0)} MiB  (all: ${runs[name]!.map((run) => run.seconds.toFixed(2)).join(', ')} s)`);
  }
  console.log(`ratio vipkit / tshark: time ${(best('vipkit watch -r --bgp') / best('tshark -r -Y bgp')).toFixed(2)}, peak memory ${(peak('vipkit watch -r --bgp') / peak('tshark -r -Y bgp')).toFixed(2)}`);
  console.log(`(node dist/bench/watch-bgp.js --updates ${UPDATES} --rounds ${ROUNDS})`);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
