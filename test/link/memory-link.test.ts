import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MemorySegment } from '../../src/link/memory-link.js';
import type { ReceivedFrame } from '../../src/link/link.js';

test('a memory segment delivers copies to every link, the sender too, asynchronously, and records what was sent', async () => {
  const segment = new MemorySegment();
  const a = segment.attach('a0', '02:00:00:00:00:0A');
  const b = segment.attach('b0', '02:00:00:00:00:0b');
  const c = segment.attach('c0', '02:00:00:00:00:0c');
  assert.equal(a.mac, '02:00:00:00:00:0a');
  const received: Record<string, ReceivedFrame[]> = { a: [], b: [], c: [] };
  a.onFrame((frame) => received.a!.push(frame));
  b.onFrame((frame) => received.b!.push(frame));
  c.onFrame((frame) => received.c!.push(frame));

  const frame = Buffer.from('ffffffffffff02000000000a0806', 'hex');
  const sentAt = a.send(frame);
  assert.equal(received.b!.length, 0, 'not delivered from inside send()');
  frame.fill(0); // the sender reusing its buffer must not change what was sent
  await nextTurn();

  for (const name of ['a', 'b', 'c']) {
    assert.equal(received[name]!.length, 1);
    assert.equal(received[name]![0]!.data.toString('hex'), 'ffffffffffff02000000000a0806');
    assert.ok(received[name]![0]!.receivedAt >= sentAt);
  }
  assert.notEqual(received.b![0]!.data, received.c![0]!.data, 'each link gets its own copy');
  assert.deepEqual(
    segment.sent.map((sent) => [sent.interfaceName, sent.data.toString('hex'), sent.sentAt]),
    [['a0', 'ffffffffffff02000000000a0806', sentAt]],
  );
});

test('a closed memory link neither receives nor sends, and close is idempotent', async () => {
  const segment = new MemorySegment();
  const a = segment.attach('a0', '02:00:00:00:00:0a');
  const b = segment.attach('b0', '02:00:00:00:00:0b');
  let heard = 0;
  b.onFrame(() => heard++);
  a.send(Buffer.from('00'));
  b.close();
  b.close();
  await nextTurn();
  assert.equal(heard, 0, 'a frame in flight is dropped when the receiver closes');
  assert.throws(() => b.send(Buffer.from('00')), /closed/);
});
