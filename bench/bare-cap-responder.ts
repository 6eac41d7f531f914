/**
 * The floor for any Node.js responder on cap: answers ARP requests for one address on eth0
 * straight from cap's packet event, with none of vipkit's layers (link, responder, events).
 * bench/announce-l2.ts times it beside vipkit and the kernel.
 *
 * Usage (inside a lab namespace): node dist/bench/bare-cap-responder.js <ipv4>
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  send(frame: Buffer, length: number): void;
  on(event: 'packet', listener: (nbytes: number) => void): void;
}
const { Cap } = createRequire(import.meta.url)('cap') as { Cap: new () => CapHandle };

const address = Buffer.from(process.argv[2]!.split('.').map(Number));
const mac = Buffer.from(readFileSync('/sys/class/net/eth0/address', 'utf8').trim().replaceAll(':', ''), 'hex');
const frame = Buffer.alloc(1522);
const receiver = new Cap();
receiver.open('eth0', 'arp', 16 * 1024 * 1024, frame);
const sender = new Cap();
sender.open('eth0', 'less 1', 64 * 1024, Buffer.alloc(64));
const reply = Buffer.alloc(42);
receiver.on('packet', (length) => {
  // An ARP request (operation 1 at byte 20) for our address (target IP at byte 38).
  if (length < 42 || frame.readUInt16BE(20) !== 1 || address.compare(frame, 38, 42) !== 0) return;
  frame.copy(reply, 0, 22, 28);
  mac.copy(reply, 6);
  frame.copy(reply, 12, 12, 20);
  reply.writeUInt16BE(2, 20);
  mac.copy(reply, 22);
  address.copy(reply, 28);
  frame.copy(reply, 32, 22, 32);
  sender.send(reply, reply.length);
});
console.log('ready');
