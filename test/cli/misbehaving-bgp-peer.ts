/**
 * A BGP peer that misbehaves on purpose, run inside a lab namespace:
 * `node misbehaving-bgp-peer.js <address> <asn>`. It listens on port 179, answers the OPEN,
 * and once it has our first UPDATE sends, on the first connection, an UPDATE with an
 * undefined ORIGIN (RFC 7606 7.1: treat-as-withdraw, the session stays up) and, a moment
 * later, a message with a broken marker (a session reset). On later connections it behaves.
 * Each message it receives is one JSON line on stdout: {"connection":n,"type":...,"nlri":[...]}.
 */
import net from 'node:net';
import { BgpFramer, decodeMessage, encodeMessage, type BgpMessage, type SessionCodecContext } from '../../src/wire/bgp/index.js';

const [address = '192.0.2.1', asn = '65002'] = process.argv.slice(2);
const CONTEXT: SessionCodecContext = { fourOctetAs: true, extendedMessage: false };

/** ORIGIN 7 (undefined), AS_PATH 65002, NEXT_HOP 192.0.2.1, NLRI 198.51.100.0/24. */
const BAD_ORIGIN = Buffer.from([
  ...Array(16).fill(0xff), 0x00, 0x2f, 0x02,
  0x00, 0x00, // withdrawn routes length
  0x00, 0x14, // total path attribute length 20
  0x40, 0x01, 0x01, 0x07, // ORIGIN = 7
  0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xea, // AS_PATH: AS_SEQUENCE 65002
  0x40, 0x03, 0x04, 192, 0, 2, 1, // NEXT_HOP 192.0.2.1
  24, 198, 51, 100, // NLRI 198.51.100.0/24
]);
/** A KEEPALIVE whose marker is not all ones: RFC 4271 6.1, Connection Not Synchronized. */
const BAD_MARKER = Buffer.from([...Array(15).fill(0xff), 0x00, 0x00, 0x13, 0x04]);

let connections = 0;
net
  .createServer((socket) => {
    const connection = ++connections;
    const framer = new BgpFramer();
    let misbehaved = false;
    const send = (message: BgpMessage) => socket.write(encodeMessage(message, CONTEXT));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      for (const bytes of framer.push(chunk)) {
        const message = decodeMessage(bytes, CONTEXT);
        process.stdout.write(JSON.stringify({ connection, type: message.type, ...(message.type === 'update' ? { nlri: message.nlri } : {}) }) + '\n');
        if (message.type === 'open') {
          send({ type: 'open', version: 4, myAs: Number(asn), holdTime: 90, bgpIdentifier: address, capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', asn: Number(asn) }] });
          send({ type: 'keepalive' });
        } else if (message.type === 'update' && message.nlri.length > 0 && connection === 1 && !misbehaved) {
          misbehaved = true;
          socket.write(BAD_ORIGIN);
          setTimeout(() => socket.write(BAD_MARKER), 500);
        }
      }
    });
  })
  .listen(179, address, () => process.stdout.write(JSON.stringify({ listening: address }) + '\n'));
