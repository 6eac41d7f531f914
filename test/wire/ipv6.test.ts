import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipv6 } from '../../src/wire/ipv6.js';
import { assertRoundTrip } from './round-trip.js';

const packet = {
  trafficClass: 0xb8,
  flowLabel: 0xfffff,
  nextHeader: 58,
  hopLimit: 255,
  source: '2001:db8:2::10',
  destination: 'ff02::1:ff00:11',
  payload: Buffer.from('8700', 'hex'),
};

describe('ipv6', () => {
  it('round-trips', () => {
    assertRoundTrip(ipv6, packet);
  });

  it('takes Payload Length bytes and ignores Ethernet padding after them', () => {
    assert.deepEqual(ipv6.decode(Buffer.concat([ipv6.encode(packet), Buffer.alloc(10)])), packet);
  });

  it('refuses a payload length past the end, a version other than 6, a short header', () => {
    const lying = ipv6.encode(packet);
    lying.writeUInt16BE(3, 4);
    assert.throws(() => ipv6.decode(lying), { name: 'DecodeError', codec: 'ipv6' });
    const version4 = ipv6.encode(packet);
    version4[0] = 0x45;
    assert.throws(() => ipv6.decode(version4), { name: 'DecodeError', codec: 'ipv6' });
    assert.throws(() => ipv6.decode(ipv6.encode(packet).subarray(0, 39)), { name: 'DecodeError', codec: 'ipv6' });
  });

  it('refuses to encode fields that do not fit', () => {
    assert.throws(() => ipv6.encode({ ...packet, flowLabel: 0x100000 }), { name: 'DecodeError', codec: 'ipv6' });
    assert.throws(() => ipv6.encode({ ...packet, payload: Buffer.alloc(65536) }), { name: 'DecodeError', codec: 'ipv6' });
  });
});
