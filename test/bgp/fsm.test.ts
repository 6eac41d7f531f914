import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { INITIAL_STATE, step, type FsmConfig, type FsmEvent, type FsmState } from '../../src/bgp/fsm.js';

const FOLDER = new URL('../../../test/fixtures/bgp-fsm/', import.meta.url);
const scenarios = readdirSync(FOLDER).filter((name) => name.endsWith('.jsonl'));

test('the scenario folder is not empty', () => {
  assert.ok(scenarios.length >= 6, `found ${scenarios.length} scenarios`);
});

for (const name of scenarios) {
  test(`FSM scenario ${name}`, () => {
    const [header, ...lines] = readFileSync(new URL(name, FOLDER), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const { config } = header as { config: FsmConfig };
    let state: FsmState = INITIAL_STATE;
    for (const [index, line] of lines.entries()) {
      const { event, state: expectedState, actions } = line as { event: FsmEvent; state: string; actions: unknown[] };
      const result = step(state, event, config);
      const where = `${name} line ${index + 2} (${JSON.stringify(event)}): ${result.reason}`;
      assert.equal(result.next.name, expectedState, where);
      assert.deepEqual(result.actions, actions, where);
      assert.ok(result.reason.length > 0, 'every transition says why');
      state = result.next;
    }
  });
}

test('every state answers every event, with a reason, and never throws', () => {
  const config: FsmConfig = { passive: false, connectRetry: { initialSeconds: 1, maxSeconds: 8 } };
  const events: FsmEvent[] = [
    { type: 'start' },
    { type: 'stop', notification: { code: 6, subcode: 2 } },
    { type: 'timer-expired', timer: 'connect-retry' },
    { type: 'timer-expired', timer: 'hold' },
    { type: 'timer-expired', timer: 'keepalive' },
    { type: 'tcp-connected' },
    { type: 'tcp-failed', reason: 'reset' },
    { type: 'open-received', timers: { holdTime: 9, keepaliveTime: 3 } },
    { type: 'message-error', notification: { code: 1, subcode: 2 }, reason: 'bad length' },
    { type: 'notification-received', notification: { code: 6, subcode: 4 }, reason: 'Cease' },
    { type: 'keepalive-received' },
    { type: 'update-received' },
    { type: 'open-collision-dump', reason: 'connection collision' },
  ];
  for (const name of ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const) {
    for (const event of events) {
      const state: FsmState = { name, connectRetryCounter: 2, timers: { holdTime: 9, keepaliveTime: 3 } };
      const result = step(state, event, config);
      assert.ok(result.reason, `${name} + ${event.type}`);
      const leftEstablished = name === 'Established' && result.next.name !== 'Established';
      assert.equal(result.actions.some((action) => action.type === 'session-down'), leftEstablished, `${name} + ${event.type}: session-down exactly when leaving Established`);
    }
  }
});
