import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HealthCheck, RiseFall, whyFailed, type CheckResult, type Health } from '../../src/speaker/health-check.js';

/** Feeds results one by one: the state after each, and the change each reported. */
function run(riseFall: RiseFall, results: boolean[]): { states: Health[]; changes: (Health | undefined)[] } {
  const changes: (Health | undefined)[] = [];
  const states: Health[] = [];
  for (const passed of results) {
    changes.push(riseFall.record(passed));
    states.push(riseFall.state);
  }
  return { states, changes };
}

describe('RiseFall', () => {
  test('starts down and needs `rise` passes in a row to come up, also at start', () => {
    const { states, changes } = run(new RiseFall(3, 2), [true, true, true]);
    assert.deepEqual(states, ['down', 'down', 'up']);
    assert.deepEqual(changes, [undefined, undefined, 'up']);
  });

  test('a failure among the passes starts the count again', () => {
    const { states } = run(new RiseFall(2, 2), [true, false, true, false, true, true]);
    assert.deepEqual(states, ['down', 'down', 'down', 'down', 'down', 'up']);
  });

  test('goes down only after `fall` failures in a row; one pass in between resets the count', () => {
    const { states, changes } = run(new RiseFall(1, 3), [true, false, false, true, false, false, false]);
    assert.deepEqual(states, ['up', 'up', 'up', 'up', 'up', 'up', 'down']);
    assert.deepEqual(changes, ['up', undefined, undefined, undefined, undefined, undefined, 'down']);
  });

  test('rise 1 and fall 1 follow every result', () => {
    const { changes } = run(new RiseFall(1, 1), [true, true, false, true, false, false]);
    assert.deepEqual(changes, ['up', undefined, 'down', 'up', 'down', undefined]);
  });

  test('pending counts the results in a row towards a change', () => {
    const riseFall = new RiseFall(3, 3);
    riseFall.record(true);
    riseFall.record(true);
    assert.equal(riseFall.pending, 2);
    riseFall.record(false);
    assert.equal(riseFall.pending, 0);
  });

  test('refuses rise or fall below 1', () => {
    assert.throws(() => new RiseFall(0, 1), RangeError);
    assert.throws(() => new RiseFall(1, 0), RangeError);
  });
});

describe('HealthCheck running commands', () => {
  const collect = (options: { command: string; timeoutSeconds?: number; count: number }) =>
    new Promise<CheckResult[]>((resolve) => {
      const results: CheckResult[] = [];
      const check = new HealthCheck({ command: options.command, intervalSeconds: 0.01, timeoutSeconds: options.timeoutSeconds ?? 5, rise: 1, fall: 1 });
      check.on('result', (result) => {
        results.push(result);
        if (results.length === options.count) {
          check.stop();
          resolve(results);
        }
      });
      check.start();
    });

  test('exit 0 passes, anything else fails with its code; the state follows', async () => {
    const [passed] = await collect({ command: 'exit 0', count: 1 });
    assert.deepEqual({ ...passed!, durationMs: 0 }, { passed: true, code: 0, durationMs: 0, state: 'up', pending: 0 });
    const [failed] = await collect({ command: 'exit 3', count: 1 });
    assert.equal(failed!.passed, false);
    assert.equal(failed!.code, 3);
    assert.equal(failed!.state, 'down');
  });

  test('a check running past its timeout is killed, with what it started, and fails', async () => {
    const [result] = await collect({ command: 'sleep 30 & wait', timeoutSeconds: 0.2, count: 1 });
    assert.equal(result!.passed, false);
    assert.equal(result!.reason, 'timed out after 0.2 s');
    assert.ok(result!.durationMs < 10_000);
  });

  test('runs again on the interval', async () => {
    const results = await collect({ command: 'true', count: 3 });
    assert.equal(results.length, 3);
  });
});

test('why a check failed, in words: the reason, or the exit code with what /bin/sh means by 126 and 127', () => {
  assert.equal(whyFailed({ passed: true, code: 0 }), undefined);
  assert.equal(whyFailed({ passed: false, reason: 'timed out after 1 s' }), 'timed out after 1 s');
  assert.equal(whyFailed({ passed: false, code: 127 }), 'exit 127: command not found');
  assert.equal(whyFailed({ passed: false, code: 126 }), 'exit 126: command not executable');
  assert.equal(whyFailed({ passed: false, code: 3 }), 'exit 3');
});
