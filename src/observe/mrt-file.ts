/**
 * MRT dumps (RFC 6396), as BIRD, GoBGP and the public route collectors write them: a
 * stream of records, each a common header (timestamp, type, subtype, length) and a body;
 * the _ET types add microseconds (RFC 6396 3). Files are read as a stream, plain, gzip
 * (Node's zlib) or bzip2 (the system's `bzip2`: no well-kept pure package streams it), so
 * a RIB dump of hundreds of megabytes is never held whole.
 */
import { spawn } from 'node:child_process';
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureFileError } from './pcap-file.js';

export const MrtType = { TableDump: 12, TableDumpV2: 13, Bgp4mp: 16, Bgp4mpEt: 17 } as const;

export interface MrtRecord {
  /** Nanoseconds since the epoch: seconds, and microseconds for the _ET types. */
  timestampNs: bigint;
  type: number;
  subtype: number;
  body: Buffer;
}

export interface MrtReadStats {
  records: number;
  /** The file ends in the middle of a record. */
  truncated: number;
}

const HEADER_LENGTH = 12;
/** The _ET types: a microsecond timestamp opens the body (RFC 6396 3). */
const EXTENDED_TIMESTAMP_TYPES = new Set([MrtType.Bgp4mpEt, 33, 49]);
/** Types RFC 6396 and its updates define; anything else at the start is not MRT. */
const KNOWN_TYPES = new Set([11, 12, 13, 16, 17, 32, 33, 48, 49]);
/** No record of a real dump comes near this; a larger length means the bytes are not MRT. */
const MAX_RECORD_LENGTH = 16 * 1024 * 1024;

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);

type Compression = 'gzip' | 'bzip2' | undefined;

function compressionOf(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return undefined;
}

function readHead(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new CaptureFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
  }
  try {
    const head = Buffer.alloc(HEADER_LENGTH);
    return head.subarray(0, readSync(fd, head, 0, HEADER_LENGTH, 0));
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` holds an MRT dump rather than a pcap or pcapng capture (compressed dumps included). */
export function isMrtFile(path: string): boolean {
  const head = readHead(path);
  if (compressionOf(head) !== undefined) return true;
  return head.length >= 4 && !PCAP_MAGICS.has(head.readUInt32BE(0));
}

/** The file's bytes, decompressed as they stream. */
function openStream(path: string): Readable {
  const compression = compressionOf(readHead(path));
  if (compression === 'gzip') return createReadStream(path).pipe(createGunzip());
  if (compression !== 'bzip2') return createReadStream(path);
  const bzip2 = spawn('bzip2', ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  bzip2.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  bzip2.on('error', (error: NodeJS.ErrnoException) =>
    bzip2.stdout.destroy(new CaptureFileError(error.code === 'ENOENT' ? `${basename(path)} is bzip2-compressed, and reading it needs the bzip2 program: install it (Debian: bzip2).` : `bzip2 failed on ${basename(path)}: ${error.message}.`)),
  );
  bzip2.on('close', (code) => {
    if (code !== 0 && code !== null) bzip2.stdout.destroy(new CaptureFileError(`bzip2 could not decompress ${basename(path)}: ${stderr.trim() || `exit ${code}`}.`));
  });
  return bzip2.stdout;
}

/** Every record of the dump at `path`, in order; a first record that is not MRT is refused in one sentence. */
export async function* readMrt(path: string, stats: MrtReadStats = { records: 0, truncated: 0 }): AsyncGenerator<MrtRecord> {
  let pending = Buffer.alloc(0);
  for await (const chunk of openStream(path)) {
    pending = pending.length === 0 ? (chunk as Buffer<ArrayBuffer>) : Buffer.concat([pending, chunk as Buffer]);
    let offset = 0;
    while (pending.length - offset >= HEADER_LENGTH) {
      const type = pending.readUInt16BE(offset + 4);
      const length = pending.readUInt32BE(offset + 8);
      if (length > MAX_RECORD_LENGTH || (stats.records === 0 && !KNOWN_TYPES.has(type))) throw notMrt(path, `its first record has type ${type} and length ${length}`);
      if (pending.length - offset < HEADER_LENGTH + length) break;
      yield recordAt(pending, offset, type, length);
      stats.records++;
      offset += HEADER_LENGTH + length;
    }
    pending = pending.subarray(offset);
  }
  if (pending.length > 0 && stats.records === 0) throw notMrt(path, `it holds ${pending.length} bytes, less than one record`);
  if (pending.length > 0) stats.truncated++;
}

function notMrt(path: string, why: string): CaptureFileError {
  return new CaptureFileError(`${basename(path)} is neither a pcap or pcapng capture nor an MRT dump (RFC 6396): ${why}.`);
}

function recordAt(bytes: Buffer, offset: number, type: number, length: number): MrtRecord {
  const seconds = BigInt(bytes.readUInt32BE(offset));
  let body = bytes.subarray(offset + HEADER_LENGTH, offset + HEADER_LENGTH + length);
  let microseconds = 0n;
  if (EXTENDED_TIMESTAMP_TYPES.has(type) && body.length >= 4) {
    microseconds = BigInt(body.readUInt32BE(0));
    body = body.subarray(4);
  }
  return { timestampNs: seconds * 1_000_000_000n + microseconds * 1000n, type, subtype: bytes.readUInt16BE(offset + 6), body };
}
