import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { icmpv6 } from '../../src/wire/icmpv6.js';
import { ndp, type NdpMessage } from '../../src/wire/ndp.js';
import { assertRoundTrip } from './round-trip.js';

const solicitation: NdpMessage = { type: 'neighbor-solicitation', target: '2001:db8:2::11', sourceLinkLayer: '02:00:5e:10:00:0a' };
const advertisement: NdpMessage = {
  type: 'neighbor-advertisement',
  router: true,
  solicited: false,
  override: true,
  target: '2001:db8:2::11',
  targetLinkLayer: '02:00:5e:10:00:0b',
};
// RFC 7527 nonce option (type 14), as the kernel sends in DAD, and an MTU option (type 5).
const dadWithNonce: NdpMessage = {
  type: 'neighbor-solicitation',
  target: '2001:db8:2::20',
  otherOptions: [
    { type: 14, data: Buffer.from('417d3bcc850f', 'hex') },
    { type: 5, data: Buffer.from('0000000005dc', 'hex') },
  ],
};

describe('icmpv6', () => {
  it('round-trips', () => {
    assertRoundTrip(icmpv6, { type: 1, code: 4, checksum: 0x1ab7, body: Buffer.from('00000000', 'hex') });
  });

  it('refuses fewer than 4 bytes', () => {
    assert.throws(() => icmpv6.decode(Buffer.from('8700', 'hex')), { name: 'DecodeError', codec: 'icmpv6' });
  });
});

describe('ndp', () => {
  it('round-trips NS, NA, and options it does not interpret', () => {
    assert.deepEqual(assertRoundTrip(ndp, solicitation), solicitation);
    assert.deepEqual(assertRoundTrip(ndp, advertisement), advertisement);
    assert.deepEqual(assertRoundTrip(ndp, dadWithNonce), dadWithNonce);
    assertRoundTrip(ndp, { type: 'neighbor-advertisement', router: false, solicited: false, override: false, target: '::1' });
  });

  it('writes R|S|O as the top bits and leaves the checksum to the frame', () => {
    const bytes = ndp.encode(advertisement);
    assert.equal(bytes.toString('hex', 0, 8), '88000000a0000000');
    assert.equal(bytes.length, 32);
  });

  it('ignores reserved bits on receipt (RFC 4861 4.3, 4.4)', () => {
    const bytes = ndp.encode(solicitation);
    bytes.writeUInt32BE(0xffffffff, 4);
    assert.deepEqual(ndp.decode(bytes), solicitation);
  });

  it('refuses a code other than 0, other types, bad options', () => {
    const mutations: Array<[string, (bytes: Buffer) => void]> = [
      ['code 1', (bytes) => bytes.writeUInt8(1, 1)],
      ['type 134 (router advertisement)', (bytes) => bytes.writeUInt8(134, 0)],
      ['option length 0', (bytes) => bytes.writeUInt8(0, 25)],
      ['option longer than the message', (bytes) => bytes.writeUInt8(2, 25)],
    ];
    for (const [what, mutate] of mutations) {
      const bytes = ndp.encode(solicitation);
      mutate(bytes);
      assert.throws(() => ndp.decode(bytes), { name: 'DecodeError', codec: 'ndp' }, what);
    }
    const twice = Buffer.concat([ndp.encode(solicitation), ndp.encode(solicitation).subarray(24)]);
    assert.throws(() => ndp.decode(twice), { name: 'DecodeError', codec: 'ndp' }, 'source link-layer option twice');
    const sixteenByteAddress = Buffer.concat([ndp.encode(solicitation).subarray(0, 24), Buffer.from('0102', 'hex'), Buffer.alloc(14)]);
    assert.throws(() => ndp.decode(sixteenByteAddress), { name: 'DecodeError', codec: 'ndp' }, 'non-Ethernet link-layer address');
    assert.throws(() => ndp.decode(ndp.encode(solicitation).subarray(0, 20)), { name: 'DecodeError', codec: 'ndp' }, 'short target');
  });

  it('refuses to encode an option that is not a multiple of 8 bytes', () => {
    assert.throws(() => ndp.encode({ ...solicitation, otherOptions: [{ type: 14, data: Buffer.alloc(5) }] }), { name: 'DecodeError', codec: 'ndp' });
  });
});
