import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../src/kubernetes/backoff.js';

test('delays double up to the ceiling, and reset starts again', () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0 });
  assert.deepEqual(Array.from({ length: 7 }, () => backoff.next()), [100, 200, 400, 800, 1_000, 1_000, 1_000]);
  backoff.reset();
  assert.equal(backoff.next(), 100);
});

test('jitter draws each delay from [(1 - jitter) * d, d]', () => {
  const low = new Backoff({ initialMs: 1_000, maxMs: 8_000, jitter: 0.5, random: () => 0.999999 });
  const high = new Backoff({ initialMs: 1_000, maxMs: 8_000, jitter: 0.5, random: () => 0 });
  assert.deepEqual([low.next(), low.next()], [500, 1_000]);
  assert.deepEqual([high.next(), high.next()], [1_000, 2_000]);
  const random = new Backoff({ initialMs: 1_000, maxMs: 1_000, jitter: 1 });
  const delays = Array.from({ length: 200 }, () => random.next());
  assert.ok(delays.every((delay) => delay >= 0 && delay <= 1_000));
  assert.ok(new Set(delays).size > 50, 'spread, not one value');
});

test('nonsense options are refused', () => {
  for (const options of [{ initialMs: 0 }, { initialMs: 10, maxMs: 5 }, { factor: 0.5 }, { jitter: 2 }]) assert.throws(() => new Backoff(options), RangeError);
});
