import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stop } from '../../src/cli/interrupt.js';

/** The signal listeners Stop adds, counted so a test can see them go. */
const listening = () => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');

// process.emit runs the listeners as a delivered signal would, without risking the test
// process if a listener were missing.
test('the first SIGINT or SIGTERM stops, named by the signal; then the signals are no longer listened to', async () => {
  const before = listening();
  const stop = new Stop();
  assert.equal(listening(), before + 2);
  process.emit('SIGTERM', 'SIGTERM');
  await stop.done;
  assert.equal(stop.signal.aborted, true);
  assert.equal(stop.reason, 'SIGTERM');
  assert.equal(stop.interrupted, true);
  assert.equal(listening(), before, 'a second Ctrl-C takes Node\'s default');
});

test('the first reason wins', () => {
  const stop = new Stop();
  assert.equal(stop.reason, undefined);
  stop.stop('initial routes received');
  stop.stop('timeout');
  assert.equal(stop.reason, 'initial routes received');
  assert.equal(stop.interrupted, false);
});

test('after() bounds a run; 0 stops at once', async () => {
  const bounded = new Stop();
  const started = performance.now();
  bounded.after(0.05, '--for 0.05 s elapsed');
  await bounded.done;
  assert.ok(performance.now() - started >= 45);
  assert.equal(bounded.reason, '--for 0.05 s elapsed');
  const zero = new Stop();
  zero.after(0, '-w 0 s elapsed');
  assert.equal(zero.reason, '-w 0 s elapsed');
});

test('dispose() stops listening and cancels the bounds without stopping; it may be called again', async () => {
  const before = listening();
  const stop = new Stop();
  stop.after(0.02, 'too late');
  stop.dispose();
  stop.dispose();
  assert.equal(listening(), before);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(stop.signal.aborted, false);
});
