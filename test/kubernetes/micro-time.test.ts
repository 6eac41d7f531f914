import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMicroTime, formatTime } from '../../src/kubernetes/micro-time.js';

test('MicroTime has exactly six fractional digits, in UTC (Go RFC3339Micro)', () => {
  const date = new Date('2026-12-04T23:22:43.123Z');
  assert.equal(formatMicroTime(date), '2026-12-04T23:22:43.123000Z');
  assert.equal(formatMicroTime(date, 456), '2026-12-04T23:22:43.123456Z');
  assert.equal(formatMicroTime(new Date('2026-01-01T00:00:00Z'), 7), '2026-01-01T00:00:00.000007Z');
  assert.notEqual(formatMicroTime(date), date.toISOString(), "a Date's own ISO string has three digits, which the API server refuses");
});

test('MicroTime refuses an invalid Date and microseconds outside 0-999', () => {
  assert.throws(() => formatMicroTime(new Date('nonsense')), RangeError);
  for (const microseconds of [-1, 1000, 1.5]) assert.throws(() => formatMicroTime(new Date(0), microseconds), RangeError);
});

test('Time (first/lastTimestamp) is whole seconds', () => {
  assert.equal(formatTime(new Date('2026-12-04T23:22:43.999Z')), '2026-12-04T23:22:43Z');
});
