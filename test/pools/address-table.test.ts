import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressTable } from '../../src/pools/address-table.js';

test('sets, gets and deletes agree with a map, across pages and at 128-bit values', () => {
  const table = new AddressTable<number>();
  const plain = new Map<bigint, number>();
  const base = 2n ** 127n;
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 700;
  for (let step = 0; step < 5000; step++) {
    const value = base + BigInt(random());
    if (step % 3 === 0) {
      table.delete(value);
      plain.delete(value);
    } else {
      table.set(value, step);
      plain.set(value, step);
    }
  }
  for (let offset = 0n; offset < 710n; offset++) assert.equal(table.get(base + offset), plain.get(base + offset), String(offset));
  const entries = [...table.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  assert.deepEqual(entries, [...plain].sort(([a], [b]) => (a < b ? -1 : 1)));
});
