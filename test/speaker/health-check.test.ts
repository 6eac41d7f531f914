import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HealthCheck, RiseFall, whyFailed, type CheckResult, type Health } from '../../src/speaker/health-check.js';
import { ManualClock } from '../helpers/manual-clock.js';

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
  /** A check on a manual clock: its commands run for real, its interval and timeout only when the test advances the clock. */
  const checkOn = (command: string, timing: { intervalSeconds?: number; timeoutSeconds?: number } = {}) => {
    const clock = new ManualClock();
    const check = new HealthCheck({ command, intervalSeconds: timing.intervalSeconds ?? 10, timeoutSeconds: timing.timeoutSeconds ?? 5, rise: 1, fall: 1 }, { clock });
    return { clock, check };
  };
  /** Polls in real time, as the shell runs for real, until `condition` holds; fails after 10 s rather than hang. */
  const eventually = async (what: string, condition: () => boolean | Promise<boolean>): Promise<void> => {
    const giveUpAt = performance.now() + 10_000;
    while (!(await condition())) {
      if (performance.now() > giveUpAt) assert.fail(`still waiting after 10 s for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  /** A killed process stays a zombie until its new parent reaps it: that is not running. */
  const isRunning = (pid: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const nextResult = async (check: HealthCheck): Promise<CheckResult> => {
    const [result] = await once(check, 'result');
    return result;
  };

  test('exit 0 passes, anything else fails with its code; the state follows', async () => {
    const passing = checkOn('exit 0');
    const passed = nextResult(passing.check);
    passing.check.start();
    assert.deepEqual(await passed, { passed: true, code: 0, durationMs: 0, state: 'up', pending: 0 });
    passing.check.stop();

    const failing = checkOn('exit 3');
    const failed = nextResult(failing.check);
    failing.check.start();
    assert.deepEqual(await failed, { passed: false, code: 3, durationMs: 0, state: 'down', pending: 0 });
    failing.check.stop();
  });

  test('a check running past its timeout is killed, with what it started, and fails', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vipkit-health-'));
    const pidFile = join(directory, 'sleep.pid');
    try {
      const { clock, check } = checkOn(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutSeconds: 0.2 });
      const result = nextResult(check);
      check.start();
      const pidWritten = async () => (await readFile(pidFile, 'utf8').catch(() => '')).endsWith('\n');
      await eventually('the shell to start sleep', pidWritten);
      const sleepPid = Number(await readFile(pidFile, 'utf8'));
      clock.advance(200);
      assert.deepEqual(await result, { passed: false, reason: 'timed out after 0.2 s', durationMs: 200, state: 'down', pending: 0 });
      check.stop();
      // SIGKILL reaches the whole group at once, but a process takes a moment to die.
      await eventually(`sleep (pid ${sleepPid}), started by the check, to be killed with it`, () => !isRunning(sleepPid));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test('runs again on the interval, counted from the start of one check to the start of the next', async () => {
    const { clock, check } = checkOn('true', { intervalSeconds: 10 });
    const first = nextResult(check);
    check.start();
    // The check takes 3 s by the clock: the next one is still due 10 s after the first began.
    clock.advance(3000);
    assert.equal((await first).durationMs, 3000);
    assert.equal(clock.nextDueAt, 10_000);
    const second = nextResult(check);
    clock.advance(7000);
    assert.deepEqual(await second, { passed: true, code: 0, durationMs: 0, state: 'up', pending: 0 });
    assert.equal(clock.nextDueAt, 20_000);
    check.stop();
    assert.equal(clock.nextDueAt, undefined);
  });

  test('stopped from its own result handler, the check schedules no further run', async () => {
    const { clock, check } = checkOn('true');
    const stopped = new Promise<void>((resolve) =>
      check.on('result', () => {
        check.stop();
        resolve();
      }),
    );
    check.start();
    await stopped;
    assert.equal(clock.nextDueAt, undefined);
  });
});

test('why a check failed, in words: the reason, or the exit code with what /bin/sh means by 126 and 127', () => {
  assert.equal(whyFailed({ passed: true, code: 0 }), undefined);
  assert.equal(whyFailed({ passed: false, reason: 'timed out after 1 s' }), 'timed out after 1 s');
  assert.equal(whyFailed({ passed: false, code: 127 }), 'exit 127: command not found');
  assert.equal(whyFailed({ passed: false, code: 126 }), 'exit 126: command not executable');
  assert.equal(whyFailed({ passed: false, code: 3 }), 'exit 3');
});
