/**
 * In-memory TCP connections for BgpSession tests: the session gets one end as its
 * net.Socket, the test plays the peer on the other and reads what the session sent.
 */
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { BgpFramer } from '../../src/wire/bgp/header.js';
import { decodeMessage, encodeMessage, type BgpMessage } from '../../src/wire/bgp/message.js';
import { myAsField } from '../../src/wire/bgp/open.js';
import { BASE_CONTEXT, IPV4_UNICAST } from '../../src/wire/bgp/registry.js';

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

/** The peer's OPEN: AS 65002, IPv4 unicast, hold time 90. */
export function sendOpen(peer: Duplex, bgpIdentifier: string): void {
  peer.write(encodeMessage({ type: 'open', version: 4, myAs: myAsField(65002), holdTime: 90, bgpIdentifier, capabilities: [{ type: 'multiprotocol', afi: IPV4_UNICAST.afi, safi: IPV4_UNICAST.safi }] }, BASE_CONTEXT));
}

export function sendKeepalive(peer: Duplex): void {
  peer.write(encodeMessage({ type: 'keepalive' }, BASE_CONTEXT));
}

/** Lets the messages written so far be read and handled. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

export const isCollisionCease = (message: BgpMessage | undefined) => message?.type === 'notification' && message.code === 6 && message.subcode === 7;
