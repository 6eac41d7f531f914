import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { PacedWork } from '../src/time.js';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

/** A clock the test moves: work "takes" what it adds, timers fire as mock.timers ticks. */
function pacedWithCost(costMs: number) {
  let now = 0;
  const runs: number[] = [];
  const paced = new PacedWork(
    () => {
      runs.push(now);
      now += costMs;
    },
    () => now,
  );
  const tick = (ms: number) => {
    now += ms;
    mock.timers.tick(ms);
  };
  return { paced, runs, tick };
}

test('requests while one is pending are that one run', () => {
  const { paced, runs, tick } = pacedWithCost(0);
  for (let index = 0; index < 100; index++) paced.request();
  tick(1);
  assert.equal(runs.length, 1);
  paced.request();
  tick(1);
  assert.equal(runs.length, 2, 'a request after the run is a new run');
});

test('a run that took 1,000 ms keeps the next one waiting 1,000 ms after it ended, not longer', () => {
  const { paced, runs, tick } = pacedWithCost(1_000);
  paced.request();
  tick(1);
  assert.equal(runs.length, 1, 'the first run at once');
  paced.request();
  tick(999);
  assert.equal(runs.length, 1, 'the second waits while the thread gets as long as the first took');
  tick(1);
  assert.equal(runs.length, 2);
  assert.equal(runs[1]! - runs[0]!, 2_000, 'its own 1,000 ms, then 1,000 ms for the rest');
});

test('cancel drops the pending run', () => {
  const { paced, runs, tick } = pacedWithCost(0);
  paced.request();
  paced.cancel();
  tick(10);
  assert.deepEqual(runs, []);
});
