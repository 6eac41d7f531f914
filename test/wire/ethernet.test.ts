import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ethernet, EtherType } from '../../src/wire/ethernet.js';
import { assertRoundTrip } from './round-trip.js';

const untagged = { destination: 'ff:ff:ff:ff:ff:ff', source: '02:00:5e:10:00:0a', etherType: EtherType.ARP, payload: Buffer.from('0001', 'hex') };
const tagged = { ...untagged, vlan: { id: 4094, priority: 7, dropEligible: true } };

describe('ethernet', () => {
  it('round-trips untagged and 802.1Q-tagged frames', () => {
    assertRoundTrip(ethernet, untagged);
    assertRoundTrip(ethernet, tagged);
  });

  it('writes the 802.1Q tag control as PCP|DEI|VID and does not pad', () => {
    const bytes = ethernet.encode(tagged);
    assert.equal(bytes.toString('hex', 12, 18), '8100fffe0806');
    assert.equal(bytes.length, 20);
  });

  it('keeps trailing padding in the payload', () => {
    const padded = Buffer.concat([ethernet.encode(untagged), Buffer.alloc(44)]);
    assert.equal(ethernet.decode(padded).payload.length, 46);
  });

  it('refuses short headers and out-of-range fields', () => {
    for (const length of [0, 6, 13]) {
      assert.throws(() => ethernet.decode(Buffer.alloc(length)), { name: 'DecodeError', codec: 'ethernet' }, `${length} bytes`);
    }
    assert.throws(() => ethernet.decode(Buffer.from('ffffffffffff02005e10000a81000064', 'hex')), { name: 'DecodeError', codec: 'ethernet' });
    assert.throws(() => ethernet.encode({ ...tagged, vlan: { id: 4096, priority: 0, dropEligible: false } }), { name: 'DecodeError' });
    assert.throws(() => ethernet.encode({ ...tagged, vlan: { id: 1, priority: 8, dropEligible: false } }), { name: 'DecodeError' });
    assert.throws(() => ethernet.encode({ ...untagged, source: 'not-a-mac' }), { name: 'DecodeError', codec: 'mac' });
  });
});
