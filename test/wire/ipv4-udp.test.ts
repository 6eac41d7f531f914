import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ethernet, EtherType } from '../../src/wire/ethernet.js';
import { DecodeError } from '../../src/wire/decode-error.js';
import { IpProtocol, ipv4 } from '../../src/wire/ipv4.js';
import { udp } from '../../src/wire/udp.js';
import { frameFixture } from './frame-fixtures.js';
import { assertRoundTrip } from './round-trip.js';

describe('IPv4 and UDP', () => {
  // The kernel's datagram `echo probe >/dev/udp/192.0.2.11/9` (test/fixtures/frames/README.md).
  it('decode what the kernel sent, and encode it back byte for byte, header checksum included', () => {
    const frame = ethernet.decode(frameFixture('kernel-udp-ipv4'));
    assert.equal(frame.etherType, EtherType.IPv4);
    const packet = ipv4.decode(frame.payload);
    assert.deepEqual(
      { ttl: packet.ttl, protocol: packet.protocol, source: packet.source, destination: packet.destination, flags: packet.flags, fragmentOffset: packet.fragmentOffset },
      { ttl: 64, protocol: IpProtocol.Udp, source: '192.0.2.10', destination: '192.0.2.11', flags: 0b010, fragmentOffset: 0 },
    );
    // Ethernet pads a short frame: what follows Total Length is not the packet's.
    assert.deepEqual(ipv4.encode(packet), frame.payload.subarray(0, ipv4.encodingLength(packet)));
    const datagram = udp.decode(packet.payload);
    assert.deepEqual({ destinationPort: datagram.destinationPort, payload: datagram.payload.toString() }, { destinationPort: 9, payload: 'probe\n' });
    assert.deepEqual(udp.encode(datagram), packet.payload);
  });

  it('round-trip with options and an empty payload', () => {
    assertRoundTrip(ipv4, { typeOfService: 0xb8, identification: 7, flags: 0, fragmentOffset: 100, ttl: 255, protocol: IpProtocol.Udp, source: '198.51.100.1', destination: '203.0.113.2', options: Buffer.from([1, 1, 1, 0]), payload: Buffer.alloc(0) });
    assertRoundTrip(udp, { sourcePort: 49152, destinationPort: 3784, checksum: 0, payload: Buffer.from('x') });
  });

  it('headers that lie are DecodeErrors with the reason', () => {
    const packet = ipv4.encode({ typeOfService: 0, identification: 1, flags: 0, fragmentOffset: 0, ttl: 255, protocol: IpProtocol.Udp, source: '192.0.2.1', destination: '192.0.2.2', options: Buffer.alloc(0), payload: Buffer.alloc(8) });
    const broken = (mutate: (bytes: Buffer) => void) => {
      const bytes = Buffer.from(packet);
      mutate(bytes);
      return bytes;
    };
    assert.throws(() => ipv4.decode(broken((bytes) => (bytes[0] = 0x65))), (error: Error) => error instanceof DecodeError && /version 6, expected 4/.test(error.message));
    assert.throws(() => ipv4.decode(broken((bytes) => (bytes[0] = 0x44))), (error: Error) => error instanceof DecodeError && /header length 16/.test(error.message));
    assert.throws(() => ipv4.decode(broken((bytes) => bytes.writeUInt16BE(40, 2))), DecodeError);
    assert.throws(() => ipv4.decode(broken((bytes) => bytes.writeUInt16BE(10, 2))), /total length 10 is shorter/);
    assert.throws(() => udp.decode(Buffer.from([0, 1, 0, 2, 0, 4, 0, 0])), /length 4 is shorter than the header/);
    assert.throws(() => udp.decode(Buffer.from([0, 1, 0, 2, 0, 20, 0, 0])), DecodeError);
  });
});
