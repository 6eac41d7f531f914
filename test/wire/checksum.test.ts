import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { internetChecksum } from '../../src/wire/checksum.js';
import { decodeFrame } from '../../src/wire/frame.js';
import { sealIcmpv6, verifyIcmpv6Checksum } from '../../src/wire/icmpv6.js';
import { frameFixture } from './frame-fixtures.js';

describe('checksum', () => {
  it('computes the RFC 1071 example (sum ddf2) and pads an odd byte with zero', () => {
    assert.equal(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex')), 0x220d);
    assert.equal(internetChecksum(Buffer.from('0001f203f4f5f6', 'hex')), internetChecksum(Buffer.from('0001f203f4f5f600', 'hex')));
  });

  it("accepts the kernel's NS and recomputes its checksum", () => {
    const message = frameFixture('kernel-ndp-ns').subarray(54);
    verifyIcmpv6Checksum(message, '2001:db8:2::10', 'ff02::1:ff00:11');
    assert.deepEqual(sealIcmpv6(Buffer.from(message), '2001:db8:2::10', 'ff02::1:ff00:11'), message);
  });

  it('rejects a wrong checksum, a changed body and a changed pseudo-header address', () => {
    const frame = frameFixture('kernel-ndp-na');
    const message = frame.subarray(54);
    assert.throws(() => verifyIcmpv6Checksum(message, '2001:db8:2::11', '2001:db8:2::99'), { name: 'DecodeError', codec: 'icmpv6' });
    for (const offset of [54 + 2, 54 + 20, frame.length - 1]) {
      const corrupted = Buffer.from(frame);
      corrupted[offset]! ^= 0x01;
      assert.throws(() => decodeFrame(corrupted), { name: 'DecodeError', codec: 'icmpv6' }, `byte ${offset}`);
    }
  });
});
