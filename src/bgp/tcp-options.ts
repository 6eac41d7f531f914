/**
 * The socket options BGP needs and Node's `net` cannot set: the TTL (IPv4) / hop limit
 * (IPv6) of our segments, for eBGP multihop, and TCP-MD5 keys (RFC 2385), for BGP
 * passwords. A small native helper (native/tcp-options.c) sets them on a descriptor.
 *
 * Outgoing: the options must be on the socket before its SYN leaves, so the helper makes
 * an unconnected socket, sets them, and Node's own connect (libuv's uv_tcp_open, then
 * uv_tcp_connect on that descriptor) does the rest. Incoming: a listener's keys and TTL
 * are set after listen(); the kernel copies them to each connection it accepts.
 */
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { UserError } from '../user-error.js';
import type { Dial } from './session.js';

export interface TcpOptions {
  /** TTL / hop limit of our segments, 1-255 (255 for eBGP multihop); absent: the kernel's (64). */
  ttl?: number;
  /** The TCP-MD5 key (RFC 2385) shared with the peer, 1-80 bytes; absent: none. */
  password?: string;
}

export interface PeerKey {
  /** A peer's address, or a prefix (`192.0.2.0/24`) for every peer in it. */
  peer: string;
  /** The TCP-MD5 key; empty removes the peer's key. */
  password: string;
}

/** What a listener or an accepted connection gets: TTL, and a key per peer. */
export interface ListenerTcpOptions {
  ttl?: number;
  keys?: PeerKey[];
}

/** A TTL or key cannot be set: one sentence, for the user. */
export class TcpOptionsError extends UserError {}

interface NativeTcpOptions {
  socket(family: 4 | 6): number;
  setTtl(fd: number, ttl: number): void;
  setMd5Key(fd: number, address: string, prefixLength: number, key: Buffer): void;
}

/** Linux's TCP_MD5SIG_MAXKEYLEN. */
const MAX_KEY_BYTES = 80;

let loaded: NativeTcpOptions | undefined;

/** Loaded on first use, so that a vipkit without the helper still does everything else. */
function helper(): NativeTcpOptions {
  try {
    loaded ??= createRequire(import.meta.url)('../../../native/build/Release/tcp_options.node') as NativeTcpOptions;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? 'was not built' : `did not load (${(error as Error).message})`;
    throw new TcpOptionsError(`BGP passwords and TTLs need vipkit's native helper, which ${why}: run \`npm run build:native\` (it needs a C compiler, make and python3).`);
  }
  return loaded;
}

/**
 * A Dial for BgpSession whose connections carry `options` from their first segment on.
 * A failure to set them (e.g. a kernel without TCP-MD5) arrives as the socket's 'error',
 * as any connection failure does; assertTcpOptionsUsable finds it at start-up instead.
 */
export function dialWithTcpOptions(options: TcpOptions): Dial {
  checkOptions(options);
  return (connectOptions) => {
    let socket: net.Socket;
    try {
      const { host = '', family } = connectOptions as net.TcpNetConnectOpts;
      socket = new net.Socket({ fd: openSocket(host, family, options) });
    } catch (error) {
      const failed = new net.Socket();
      process.nextTick(() => failed.destroy(error as Error));
      return failed;
    }
    // In this same tick: the constructor already asked libuv to read, and a socket polled
    // before its connect() began reports ENOTCONN; once the SYN is out, it waits quietly.
    return socket.connect(connectOptions);
  };
}

/** Throws a TcpOptionsError if `options` cannot be set on a socket for `family` (a flag is never silently ignored). */
export function assertTcpOptionsUsable(options: TcpOptions, family: 4 | 6): void {
  checkOptions(options);
  // A socket that is never connected, keyed to a documentation address: nothing is sent.
  closeSync(openSocket(family === 4 ? '192.0.2.1' : '2001:db8::1', family, options));
}

/**
 * Sets the TTL and per-peer keys on a listening server (after listen) or a connected
 * socket. A server's connections inherit them from the listening socket; an accepted
 * socket may get another TTL (a multihop peer's) or a new key (a rollover).
 */
export function applyTcpOptions(target: net.Server | net.Socket, options: ListenerTcpOptions): void {
  checkTtl(options.ttl);
  for (const { password } of options.keys ?? []) if (password !== '') checkPassword(password);
  // Node keeps the descriptor on the libuv handle, which its types do not show.
  const fd = (target as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (fd === undefined || fd < 0) throw new TcpOptionsError('TCP options can be set only on a listening server or an open socket.');
  if (options.ttl !== undefined) setTtl(fd, options.ttl);
  for (const key of options.keys ?? []) setKey(fd, key.peer, key.password);
}

function openSocket(host: string, family: number | undefined, options: TcpOptions): number {
  const addressFamily = family || net.isIP(host);
  if (addressFamily !== 4 && addressFamily !== 6) throw new TcpOptionsError(`a BGP password or TTL needs the peer's IP address, not "${host}".`);
  const fd = helper().socket(addressFamily);
  try {
    if (options.ttl !== undefined) setTtl(fd, options.ttl);
    if (options.password !== undefined) setKey(fd, host, options.password);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

function setTtl(fd: number, ttl: number): void {
  try {
    helper().setTtl(fd, ttl);
  } catch (error) {
    throw new TcpOptionsError(`cannot set TTL ${ttl}: ${(error as Error).message}.`);
  }
}

function setKey(fd: number, peer: string, password: string): void {
  const [address = '', length] = peer.split('/');
  const full = net.isIPv4(address) ? 32 : 128;
  const prefixLength = length === undefined ? full : Number(length);
  if (!net.isIP(address) || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > full) {
    throw new TcpOptionsError(`"${peer}" is not an address or prefix to key TCP-MD5 to.`);
  }
  try {
    helper().setMd5Key(fd, address, prefixLength, Buffer.from(password));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Without CONFIG_TCP_MD5SIG the kernel does not know the option at all.
    if (code === 'ENOPROTOOPT') throw new TcpOptionsError('this kernel has no TCP-MD5 (CONFIG_TCP_MD5SIG), so BGP passwords cannot be used.');
    if (code === 'ENOENT') throw new TcpOptionsError(`there is no TCP-MD5 key for ${peer} to remove.`);
    throw new TcpOptionsError(`cannot set the TCP-MD5 key for ${peer}: ${(error as Error).message}.`);
  }
}

function checkOptions(options: TcpOptions): void {
  checkTtl(options.ttl);
  if (options.password !== undefined) checkPassword(options.password);
}

function checkTtl(ttl: number | undefined): void {
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= 255)) throw new TcpOptionsError(`TTL ${ttl} is not a whole number from 1 to 255.`);
}

function checkPassword(password: string): void {
  const bytes = Buffer.byteLength(password);
  if (bytes < 1 || bytes > MAX_KEY_BYTES) throw new TcpOptionsError(`a BGP password (TCP-MD5 key) is 1 to ${MAX_KEY_BYTES} bytes; this one is ${bytes}.`);
}
