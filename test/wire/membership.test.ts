import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from '../../src/wire/decode-error.js';
import { membershipMessage, type MembershipMessage } from '../../src/wire/membership.js';
import { prng } from '../helpers/prng.js';
import { assertRoundTrip } from './round-trip.js';

const SUSPICION: MembershipMessage = { ring: 0xdeadbeef, entries: [{ member: 7, version: 3, suspect: true, up: false, leaving: true }] };

describe('membership messages', () => {
  it('round-trips a suspicion, an Up report and a digest', () => {
    assertRoundTrip(membershipMessage, SUSPICION);
    assertRoundTrip(membershipMessage, { ring: 1, entries: [{ member: 0, version: 5, suspect: false, up: true, leaving: false }] });
    assertRoundTrip(membershipMessage, { ring: 2, entries: Array.from({ length: 100 }, (_, member) => ({ member, version: member * 2 + 1, suspect: false, up: false, leaving: false })) });
  });

  it('has the bytes of its diagram', () => {
    assert.equal(membershipMessage.encode(SUSPICION).toString('hex'), '01000001' + 'deadbeef' + '0007a000' + '00000003');
  });

  it('refuses another version, a count the bytes do not hold, and a member both suspected and Up', () => {
    const bytes = membershipMessage.encode(SUSPICION);
    assert.throws(() => membershipMessage.decode(Buffer.concat([Buffer.from([2]), bytes.subarray(1)])), /version 2/);
    assert.throws(() => membershipMessage.decode(bytes.subarray(0, 12)), /1 entries need 8 bytes, 4 follow/);
    const both = Buffer.from(bytes);
    both[10] = 0xc0;
    assert.throws(() => membershipMessage.decode(both), /both suspected and Up/);
  });

  it('throws only DecodeError on random bytes', () => {
    const random = prng(11);
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
      if (round % 2 === 0 && bytes.length > 0) bytes[0] = 1;
      try {
        membershipMessage.decode(bytes);
      } catch (error) {
        assert.ok(error instanceof DecodeError, String(error));
      }
    }
  });
});
