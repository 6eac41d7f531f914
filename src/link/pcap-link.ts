/**
 * The real link: libpcap through `cap`. This is the only file that imports `cap`.
 *
 * What cap does and does not do (checked against its binding.cc), and what
 * patches/cap+0.2.1.patch changes:
 * - it turns on immediate mode via dlopen("libpcap.so") (Debian: libpcap-dev); without it
 *   TPACKET_V3 holds frames for up to the 1 s read timeout;
 * - it copies every frame into the one Buffer given to open() and emits only the length,
 *   so each frame is copied out before anyone else sees it;
 * - patched: it also emits the kernel's capture timestamp, and takes the snapshot length
 *   from that Buffer's size (unpatched: always 65535, which with offloads makes every
 *   capture-ring slot 64 KiB), and no longer prints a warning to stderr for an interface
 *   without IPv4;
 * - send() on a closed handle dereferences NULL, so this link refuses it first;
 * - when open() fails after pcap_create (bad filter, permission), the object keeps a
 *   half-initialised poll handle, and its destructor crashes the process (SIGSEGV or a
 *   libuv assertion) once the garbage collector reaches it. Such objects are kept alive
 *   for the life of the process, and the likely failures are checked before cap is called.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DEFAULT_CAPTURE_BUFFER_SIZE, FrameListeners, WALL_MINUS_MONOTONIC_NS, type FrameListener, type Link, type OpenLinkOptions } from './link.js';
import { LinkError } from './link-error.js';
import { findInterface, listInterfaces } from './interfaces.js';

interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  send(frame: Buffer, length: number): void;
  close(): boolean;
  /** The timestamp is added by patches/cap+0.2.1.patch: the kernel's, in µs since the epoch. */
  on(event: 'packet', listener: (nbytes: number, truncated: boolean, capturedAtMicros?: number) => void): void;
}

// cap is CommonJS without type declarations.
const { Cap } = createRequire(import.meta.url)('cap') as { Cap: new () => CapHandle };

/** The sending handle captures nothing: no Ethernet frame is shorter than 14 bytes. */
const MATCHES_NOTHING = 'less 1';
const SENDER_BUFFER_SIZE = 64 * 1024;
/** The sender captures nothing; the smallest snapshot keeps its ring small. */
const SENDER_SNAPSHOT_LENGTH = 64;
/** No captured frame exceeds 64 KiB (patches/cap+0.2.1.patch uses the buffer's size as snaplen). */
const MAX_SNAPSHOT_LENGTH = 65535;
/** capability(7): CAP_NET_RAW, needed for packet sockets. */
const CAP_NET_RAW = 13n;

/** Cap objects whose open() failed: collecting them would crash the process (see above). */
const failedHandles: CapHandle[] = [];

function hasNetRaw(): boolean {
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return effective !== undefined && ((BigInt(`0x${effective}`) >> CAP_NET_RAW) & 1n) === 1n;
}

function permissionError(interfaceName: string): LinkError {
  return new LinkError(
    'permission',
    `capturing on ${interfaceName} needs CAP_NET_RAW: run as root or \`setcap cap_net_raw,cap_net_admin+eip $(which node)\``,
  );
}

function openFailure(interfaceName: string, filter: string, error: unknown): LinkError {
  const message = error instanceof Error ? error.message : String(error);
  if (/permission|not permitted/i.test(message)) return permissionError(interfaceName);
  if (/filter/i.test(message)) {
    return new LinkError('open-failed', `capture filter "${filter}" for ${interfaceName} is invalid: ${message}`);
  }
  if (/not up/i.test(message)) {
    return new LinkError('interface-down', `${interfaceName} is down: bring it up with \`ip link set ${interfaceName} up\``);
  }
  return new LinkError('open-failed', `cannot capture on ${interfaceName}: ${message}`);
}

/** A mapped kernel timestamp further from now than this means the wall clock was stepped. */
const PLAUSIBLE_DELAY_NS = 1_000_000_000n;

/**
 * When the frame reached the kernel, on the process.hrtime scale. The kernel's capture
 * timestamp is what tcpdump reports too; taking hrtime here instead would add the time
 * the JavaScript thread took to wake up and be scheduled (about 0.1 ms on these machines).
 */
function arrivalTime(capturedAtMicros: number | undefined): bigint {
  const now = process.hrtime.bigint();
  if (capturedAtMicros === undefined) return now;
  const mapped = BigInt(Math.round(capturedAtMicros * 1000)) - WALL_MINUS_MONOTONIC_NS;
  return mapped <= now && now - mapped < PLAUSIBLE_DELAY_NS ? mapped : now;
}

class PcapLink implements Link {
  private readonly listeners = new FrameListeners();
  private closed = false;

  /**
   * Two handles: a packet socket never sees its own transmissions, so sending on a second
   * one lets the receiver see our frames leave, time-stamped by the kernel as tcpdump sees
   * them. That is what makes an RTT the wire's rather than the syscall's.
   */
  constructor(
    readonly interfaceName: string,
    readonly mac: string,
    private readonly receiver: CapHandle,
    private readonly sender: CapHandle,
    buffer: Buffer,
  ) {
    receiver.on('packet', (nbytes, _truncated, capturedAtMicros) => {
      const receivedAt = arrivalTime(capturedAtMicros);
      // cap reuses `buffer` for the next frame, possibly within this same event-loop turn.
      const frame = { data: Buffer.from(buffer.subarray(0, nbytes)), receivedAt };
      this.listeners.deliver(frame);
    });
  }

  send(frame: Buffer): bigint {
    if (this.closed) throw new LinkError('send-failed', `cannot send on ${this.interfaceName}: the link is closed`);
    const sentAt = process.hrtime.bigint();
    try {
      this.sender.send(frame, frame.length);
    } catch (error) {
      throw new LinkError('send-failed', `sending a ${frame.length}-byte frame on ${this.interfaceName} failed: ${(error as Error).message}`);
    }
    return sentAt;
  }

  onFrame(listener: FrameListener): () => void {
    return this.listeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.receiver.close();
    this.sender.close();
  }
}

/**
 * Opens `interfaceName` for capture (promiscuous, immediate mode) and sending. Checks the
 * interface first so that the usual mistakes get our sentence rather than libpcap's.
 */
export async function openPcapLink(options: OpenLinkOptions): Promise<Link> {
  const { interfaceName, filter, bufferSize = DEFAULT_CAPTURE_BUFFER_SIZE, snapshotLength = MAX_SNAPSHOT_LENGTH } = options;
  const info = findInterface(interfaceName);
  if (info === undefined) {
    const names = listInterfaces().map((candidate) => candidate.name).join(', ');
    throw new LinkError('no-such-interface', `no interface named ${interfaceName}; interfaces here: ${names}`);
  }
  if (!info.up) {
    throw new LinkError(
      'interface-down',
      `${interfaceName} is not up (administratively down or no carrier): see \`ip link show ${interfaceName}\``,
    );
  }
  if (!hasNetRaw()) throw permissionError(interfaceName);
  const buffer = Buffer.alloc(Math.min(snapshotLength, MAX_SNAPSHOT_LENGTH));
  const receiver = openCap(interfaceName, filter, bufferSize, buffer);
  let sender: CapHandle;
  try {
    sender = openCap(interfaceName, MATCHES_NOTHING, SENDER_BUFFER_SIZE, Buffer.alloc(SENDER_SNAPSHOT_LENGTH));
  } catch (error) {
    receiver.close();
    throw error;
  }
  // Loopback is Ethernet-framed with an all-zero address, which is what it sends from.
  return new PcapLink(interfaceName, info.mac ?? '00:00:00:00:00:00', receiver, sender, buffer);
}

function openCap(interfaceName: string, filter: string, bufferSize: number, buffer: Buffer): CapHandle {
  const cap = new Cap();
  let linkType: string;
  try {
    linkType = cap.open(interfaceName, filter, bufferSize, buffer);
  } catch (error) {
    failedHandles.push(cap);
    throw openFailure(interfaceName, filter, error);
  }
  if (linkType !== 'ETHERNET') {
    cap.close();
    throw new LinkError('open-failed', `${interfaceName} is not an Ethernet interface (link type ${linkType})`);
  }
  return cap;
}
