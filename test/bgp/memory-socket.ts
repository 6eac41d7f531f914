/**
 * In-memory TCP connections for BgpSession tests: the session gets one end as its
 * net.Socket, the test plays the peer on the other and reads what the session sent.
 */
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { BgpFramer } from '../../src/wire/bgp/header.js';
import { decodeMessage, encodeMessage, type BgpMessage } from '../../src/wire/bgp/message.js';
import { myAsField } from '../../src/wire/bgp/open.js';
import { BASE_CONTEXT, IPV4_UNICAST, type Family } from '../../src/wire/bgp/registry.js';
import type { Dial } from '../../src/bgp/session.js';

/** One end, shaped enough like net.Socket for BgpSession. */
class MemorySocket extends Duplex {
  other!: MemorySocket;
  remoteAddress?: string;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.other.push(chunk);
    done();
  }
  override _final(done: () => void): void {
    this.other.push(null);
    done();
  }
  setNoDelay(): this {
    return this;
  }
}

/** The session's end (as a net.Socket, from `remoteAddress`) and the peer's, which records the messages it receives. */
export function connection(remoteAddress = '192.0.2.1'): { ours: net.Socket; peer: MemorySocket; received: BgpMessage[] } {
  const ours = new MemorySocket();
  const peer = new MemorySocket();
  ours.other = peer;
  peer.other = ours;
  ours.remoteAddress = remoteAddress;
  const received: BgpMessage[] = [];
  const framer = new BgpFramer();
  peer.on('data', (chunk: Buffer) => received.push(...framer.push(chunk).map((bytes) => decodeMessage(bytes, BASE_CONTEXT))));
  // The peer closes its side when the session closes its own, as TCP would.
  peer.on('end', () => peer.end());
  return { ours: ours as unknown as net.Socket, peer, received };
}

/** The peer's OPEN: AS 65002 (or `asn`), IPv4 unicast (or `families`), hold time 90, no 4-octet AS. */
export function sendOpen(peer: Duplex, bgpIdentifier: string, { asn = 65002, families = [IPV4_UNICAST] }: { asn?: number; families?: Family[] } = {}): void {
  const capabilities = families.map((family) => ({ type: 'multiprotocol' as const, afi: family.afi, safi: family.safi }));
  peer.write(encodeMessage({ type: 'open', version: 4, myAs: myAsField(asn), holdTime: 90, bgpIdentifier, capabilities }, BASE_CONTEXT));
}

/**
 * A BgpSession `dial` that connects at once to an in-memory peer at `remoteAddress`;
 * `peers` holds each connection it made, newest last.
 */
export function memoryDialer(remoteAddress: string): { dial: Dial; peers: ReturnType<typeof connection>[] } {
  const peers: ReturnType<typeof connection>[] = [];
  const dial: Dial = () => {
    const made = connection(remoteAddress);
    peers.push(made);
    setImmediate(() => made.ours.emit('connect'));
    return made.ours;
  };
  return { dial, peers };
}

export function sendKeepalive(peer: Duplex): void {
  peer.write(encodeMessage({ type: 'keepalive' }, BASE_CONTEXT));
}

/** Lets the messages written so far be read and handled. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

export const isCollisionCease = (message: BgpMessage | undefined) => message?.type === 'notification' && message.code === 6 && message.subcode === 7;
