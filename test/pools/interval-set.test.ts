import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntervalSet } from '../../src/pools/interval-set.js';

test('adds and deletes agree with a plain set, and runs stay merged', () => {
  const set = new IntervalSet();
  const plain = new Set<number>();
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 200;
  for (let step = 0; step < 5000; step++) {
    const value = random();
    if (step % 3 === 0) {
      set.delete(BigInt(value));
      plain.delete(value);
    } else {
      set.add(BigInt(value));
      plain.add(value);
    }
    assert.equal(set.size, BigInt(plain.size));
  }
  for (let value = 0; value < 210; value++) {
    assert.equal(set.has(BigInt(value)), plain.has(value), String(value));
    let absent = value;
    while (plain.has(absent)) absent++;
    assert.equal(set.nextAbsent(BigInt(value)), BigInt(absent));
  }
});

test('a full run is one interval, however large the values', () => {
  const set = new IntervalSet();
  const base = 2n ** 127n;
  for (let i = 0n; i < 1000n; i++) set.add(base + i);
  const run = set.floor(base + 999n)!;
  assert.deepEqual([run.first, run.last], [base, base + 999n]);
  assert.equal(set.nextAbsent(base), base + 1000n);
});
