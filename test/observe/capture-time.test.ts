import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureTimeText } from '../../src/observe/capture-time.js';

const NS_PER_SECOND = 1_000_000_000n;
/** The last millisecond a Date holds, either side of 1970 (ECMA-262 21.4.1.1). */
const DATE_LIMIT_NS = 8_640_000_000_000_000n * 1_000_000n;

describe('capture times as text', () => {
  it('ISO-8601 with milliseconds where a Date holds the time, down to the millisecond it falls in', () => {
    assert.equal(captureTimeText(1_800_000_000_123_456_789n), '2027-01-15T08:00:00.123Z');
    assert.equal(captureTimeText(0n), '1970-01-01T00:00:00.000Z');
    assert.equal(captureTimeText(-1n), '1969-12-31T23:59:59.999Z');
    assert.equal(captureTimeText(-999_999_999_500_000_000n), '1938-04-24T22:13:20.500Z');
    assert.equal(captureTimeText(5_000_000_000n * NS_PER_SECOND), '2128-06-11T08:53:20.000Z');
    assert.equal(captureTimeText(DATE_LIMIT_NS), '+275760-09-13T00:00:00.000Z');
    assert.equal(captureTimeText(-DATE_LIMIT_NS), '-271821-04-20T00:00:00.000Z');
  });

  it('@ and the seconds since 1970 with milliseconds beyond, as date -d reads them', () => {
    assert.equal(captureTimeText(DATE_LIMIT_NS + 1_000_000n), '@8640000000000.001');
    assert.equal(captureTimeText(-DATE_LIMIT_NS - 1n), '@-8640000000000.001');
    assert.equal(captureTimeText(2n ** 50n * NS_PER_SECOND + 7_000_000n), '@1125899906842624.007');
    assert.equal(captureTimeText((2n ** 64n - 1n) * NS_PER_SECOND), '@18446744073709551615.000');
    assert.equal(captureTimeText(-(2n ** 63n) * NS_PER_SECOND - 1n), '@-9223372036854775808.001');
  });
});
