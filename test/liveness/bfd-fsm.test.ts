import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  controlPacket,
  jitteredInterval,
  newSession,
  step,
  type BfdEvent,
  type BfdSession,
  type BfdSessionOptions,
} from '../../src/liveness/bfd-fsm.js';
import { BFD_STATES, bfdControl, type BfdControlPacket } from '../../src/wire/bfd.js';
import { hexFixtureFolder } from '../wire/frame-fixtures.js';

const FOLDER = new URL('../../../test/fixtures/bfd-fsm/', import.meta.url);
const scenarios = readdirSync(FOLDER).filter((name) => name.endsWith('.jsonl'));

/** A packet event in a scenario names only the fields that differ from the header's
 *  `remote` packet; authentication data is hex. */
function replayed(event: BfdEvent, remote: BfdControlPacket): BfdEvent {
  if (event.type !== 'packet-received') return event;
  const packet = { ...remote, ...event.packet } as BfdControlPacket & { authentication?: { type: number; data: string | Buffer } };
  if (packet.authentication) packet.authentication = { type: packet.authentication.type, data: Buffer.from(packet.authentication.data as string, 'hex') };
  return { type: 'packet-received', packet };
}

describe('BFD session scenarios (test/fixtures/bfd-fsm)', () => {
  it('the scenario folder is not empty', () => {
    assert.ok(scenarios.length >= 8, `found ${scenarios.length} scenarios`);
  });

  for (const name of scenarios) {
    it(name, () => {
      const [header, ...lines] = readFileSync(new URL(name, FOLDER), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      const { session: options, remote } = header as { session: BfdSessionOptions; remote: BfdControlPacket };
      let session = newSession(options);
      for (const [index, line] of lines.entries()) {
        const { event, state, polling, actions } = line as { event: BfdEvent; state: string; polling: boolean; actions: unknown[] };
        const result = step(session, replayed(event, remote));
        const where = `${name} line ${index + 2} (${JSON.stringify(event)}): ${result.reason}`;
        assert.equal(result.next.sessionState, state, where);
        assert.equal(result.next.poll !== undefined, polling, `${where}: Poll Sequence in progress`);
        assert.deepEqual(JSON.parse(JSON.stringify(result.actions)), actions, where);
        session = result.next;
      }
    });
  }
});

// The session BIRD 2 held with BIRD 2 (test/fixtures/bfd/README.md), R being 0x0b4e8e9b and
// B 0x5b09e601: playing either side, fed the other's packets, vipkit's session must send
// what BIRD sent, byte for byte.
describe('BFD session replaying the BIRD capture', () => {
  const captured = hexFixtureFolder(fileURLToPath(new URL('../../../test/fixtures/bfd/', import.meta.url)));
  const received = (name: string): BfdEvent => ({ type: 'packet-received', packet: bfdControl.decode(captured.get(name)) });
  const sent = (actions: ReturnType<typeof step>['actions']): Buffer[] => actions.flatMap((action) => (action.type === 'send' ? [bfdControl.encode(action.packet)] : []));

  it("as R: Down, Init on B's Down, Up with a Final on B's Poll, and Down after 150 ms of silence", () => {
    let session = newSession({ localDiscr: 0x0b4e8e9b, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000, detectMult: 3 });
    assert.deepEqual(bfdControl.encode(controlPacket(session)), captured.get('bird-down'), 'the periodic Down packet');

    const init = step(session, received('bird-b-down'));
    assert.deepEqual(sent(init.actions), [captured.get('bird-init')]);
    session = init.next;

    const up = step(session, received('bird-b-up-poll'));
    assert.equal(up.next.sessionState, 'Up');
    assert.deepEqual(sent(up.actions), [captured.get('bird-up-final')]);
    assert.deepEqual(up.actions.find((action) => action.type === 'arm-detection-timer'), { type: 'arm-detection-timer', microseconds: 150_000 });
    session = up.next;

    const pollOver = step(session, received('bird-b-up-final'));
    assert.deepEqual(sent(pollOver.actions), []);
    assert.deepEqual(bfdControl.encode(controlPacket(pollOver.next)), captured.get('bird-up'), 'the periodic Up packet');
    session = pollOver.next;

    const expired = step(session, { type: 'detection-timer-expired' });
    assert.deepEqual(sent(expired.actions), [captured.get('bird-down-detection-expired')]);
  });

  it("as B: Down, straight to Up with a Poll on R's Init, and a Final for R's Poll", () => {
    let session = newSession({ localDiscr: 0x5b09e601, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000, detectMult: 3 });
    assert.deepEqual(bfdControl.encode(controlPacket(session)), captured.get('bird-b-down'), 'the periodic Down packet');

    const up = step(session, received('bird-init'));
    assert.equal(up.next.sessionState, 'Up');
    assert.deepEqual(sent(up.actions), [captured.get('bird-b-up-poll')]);
    session = up.next;

    const pollOver = step(session, received('bird-up-final'));
    assert.equal(pollOver.next.poll, undefined);
    assert.deepEqual(sent(pollOver.actions), []);
    session = pollOver.next;

    const final = step(session, received('bird-up-poll'));
    assert.deepEqual(sent(final.actions), [captured.get('bird-b-up-final')]);
  });
});

describe('BFD session invariants', () => {
  const options: BfdSessionOptions = { localDiscr: 1, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000, detectMult: 3 };
  const remote = (fields: Partial<BfdControlPacket>): BfdEvent => ({
    type: 'packet-received',
    packet: { ...controlPacket(newSession({ ...options, localDiscr: 11 })), yourDiscriminator: 1, desiredMinTxInterval: 50_000, ...fields },
  });
  const events: BfdEvent[] = [
    ...BFD_STATES.flatMap((state) => [remote({ state }), remote({ state, poll: true }), remote({ state, final: true })]),
    remote({ state: 'Down', yourDiscriminator: 0 }),
    remote({ state: 'Up', yourDiscriminator: 7 }),
    { type: 'detection-timer-expired' },
    { type: 'admin-down' },
    { type: 'admin-up' },
    { type: 'parameters-changed', desiredMinTxInterval: 300_000, requiredMinRxInterval: 20_000, detectMult: 5 },
  ];

  it('every state answers every event with a reason, reports exactly its state changes, and sends valid packets', () => {
    for (const state of BFD_STATES) {
      for (const polling of [false, true]) {
        for (const event of events) {
          const session: BfdSession = {
            ...newSession(options),
            sessionState: state,
            remoteDiscr: 11,
            ...(polling && state === 'Up' ? { desiredMinTxInterval: 50_000, poll: { desiredMinTxInterval: 1_000_000, requiredMinRxInterval: 50_000 } } : {}),
          };
          const where = `${state}${polling ? ' polling' : ''} + ${JSON.stringify(event)}`;
          const result = step(session, event);
          assert.ok(result.reason.length > 0, where);
          const changes = result.actions.filter((action) => action.type === 'state-changed');
          assert.deepEqual(changes.length, result.next.sessionState === state ? 0 : 1, `${where}: state-changed exactly when the state changes`);
          for (const action of result.actions) {
            if (action.type !== 'send') continue;
            assert.ok(!(action.packet.poll && action.packet.final), `${where}: never Poll and Final together (RFC 5880 6.5)`);
            assert.deepEqual(bfdControl.decode(bfdControl.encode(action.packet)), action.packet, `${where}: the packet passes the receiver's checks`);
          }
          if (result.next.sessionState !== 'Up') assert.ok(result.next.desiredMinTxInterval >= 1_000_000, `${where}: slow while not Up (RFC 5880 6.8.3)`);
        }
      }
    }
  });

  it('an event of an unknown type is ignored, with a reason', () => {
    const session = newSession(options);
    const result = step(session, { type: 'echo-received' } as unknown as BfdEvent);
    assert.deepEqual(result, { next: session, actions: [], reason: 'echo-received ignored in Down' });
  });
});

describe('jitteredInterval (RFC 5880 6.8.7)', () => {
  it('is 75-100 % of the interval, and 75-90 % with Detect Mult 1', () => {
    const largestBelowOne = 1 - 2 ** -32;
    assert.equal(jitteredInterval(50_000, 3, 0), 50_000);
    assert.ok(jitteredInterval(50_000, 3, largestBelowOne) > 37_500);
    assert.equal(jitteredInterval(50_000, 1, 0), 45_000);
    assert.ok(jitteredInterval(50_000, 1, largestBelowOne) > 37_500);
    for (let index = 0; index < 1000; index++) {
      const random = index / 1000;
      const usual = jitteredInterval(1_000_000, 3, random);
      const single = jitteredInterval(1_000_000, 1, random);
      assert.ok(usual > 750_000 && usual <= 1_000_000, `Detect Mult 3, random ${random}: ${usual}`);
      assert.ok(single > 750_000 && single <= 900_000, `Detect Mult 1, random ${random}: ${single}`);
    }
  });

  it('spreads over its whole range', () => {
    const values = Array.from({ length: 100 }, (_, index) => jitteredInterval(100_000, 3, index / 100));
    assert.ok(Math.min(...values) < 76_000 && Math.max(...values) === 100_000);
  });
});
