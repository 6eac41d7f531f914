import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { BfdPeers, type BfdStateChange, type ControlChannel } from '../../src/liveness/bfd-peers.js';
import { BfdDiagnostic, type BfdControlPacket } from '../../src/wire/bfd.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** Two ends of a link in memory: what one sends the other receives, a microtask later (a transport never calls back from inside send). */
function channelPair(): [ControlChannel & { cut: boolean }, ControlChannel & { cut: boolean }] {
  const ends = [new EventEmitter(), new EventEmitter()].map((emitter, index) =>
    Object.assign(emitter, {
      cut: false,
      send(from: string, _to: string, packet: BfdControlPacket) {
        if (this.cut) return;
        const other = ends[1 - index]!;
        queueMicrotask(() => other.emit('control', { from, packet }));
      },
    }),
  );
  return ends as unknown as [ControlChannel & { cut: boolean }, ControlChannel & { cut: boolean }];
}

const TIMING = { intervalMs: 50, multiplier: 3 };

/** node1 and node2 with one session each, on a manual clock; jitter fixed at its middle. */
function pair() {
  const clock = new ManualClock();
  const [one, two] = channelPair();
  const node1 = new BfdPeers(one, [{ address: '192.0.2.12', local: '192.0.2.11' }], TIMING, clock, () => 0.5);
  const node2 = new BfdPeers(two, [{ address: '192.0.2.11', local: '192.0.2.12' }], TIMING, clock, () => 0.5);
  const changes: (BfdStateChange & { at: number; on: string })[] = [];
  node1.on('state', (change) => changes.push({ ...change, at: clock.now(), on: 'node1' }));
  node2.on('state', (change) => changes.push({ ...change, at: clock.now(), on: 'node2' }));
  /** Moves time on in 1 ms steps, letting packets arrive between them. */
  const run = async (ms: number) => {
    for (let elapsed = 0; elapsed < ms; elapsed++) {
      clock.advance(1);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { clock, one, two, node1, node2, changes, run };
}

describe('BFD sessions between peers', () => {
  test('the three-way handshake brings both Up (RFC 5880 6.2)', async () => {
    const { node1, node2, changes, run } = pair();
    node1.start();
    node2.start();
    await run(50);
    assert.equal(node1.states.get('192.0.2.12'), 'Up');
    assert.equal(node2.states.get('192.0.2.11'), 'Up');
    // Both start at once: each hears the other's Down, goes Init, then Up on the other's Init.
    assert.deepEqual(changes.map(({ on, from, to }) => `${on} ${from}->${to}`).sort(), ['node1 Down->Init', 'node1 Init->Up', 'node2 Down->Init', 'node2 Init->Up']);
    node1.stop();
    node2.stop();
  });

  test('silence is detected after Detect Mult x the interval: Down with diagnostic 1 (RFC 5880 6.8.4)', async () => {
    const { two, node1, node2, changes, clock, run } = pair();
    node1.start();
    node2.start();
    await run(2000);
    two.cut = true;
    const cutAt = clock.now();
    await run(400);
    const down = changes.find((change) => change.on === 'node1' && change.to === 'Down');
    assert.ok(down, JSON.stringify(changes));
    assert.equal(down.diagnostic, BfdDiagnostic.ControlDetectionTimeExpired);
    // The last packet came at most one jittered interval before the cut; detection is 3 x 50 ms after it.
    assert.ok(down.at - cutAt <= 150 && down.at - cutAt > 150 - 50, `detected ${down.at - cutAt} ms after the cut`);
    node1.stop();
    node2.stop();
  });

  test('a planned stop goes AdminDown and the peer follows at once with diagnostic 3 (RFC 5880 6.8.16)', async () => {
    const { node1, node2, changes, run } = pair();
    node1.start();
    node2.start();
    await run(2000);
    node2.adminDown();
    await run(1);
    assert.deepEqual(
      changes.filter((change) => change.to === 'AdminDown' || (change.on === 'node1' && change.to === 'Down')).map(({ on, to, diagnostic }) => [on, to, diagnostic]),
      [['node2', 'AdminDown', BfdDiagnostic.AdministrativelyDown], ['node1', 'Down', BfdDiagnostic.NeighborSignaledSessionDown]],
    );
    node1.stop();
    node2.stop();
  });

  test('while not Up, packets go out about once a second; once Up, every 50 ms less jitter (RFC 5880 6.8.3, 6.8.7)', async () => {
    const clock = new ManualClock();
    const [one] = channelPair();
    const sent: number[] = [];
    const original = one.send.bind(one);
    one.send = (from, to, packet) => {
      sent.push(clock.now());
      original(from, to, packet);
    };
    const lonely = new BfdPeers(one, [{ address: '192.0.2.12', local: '192.0.2.11' }], TIMING, clock, () => 0.5);
    lonely.start();
    for (let elapsed = 0; elapsed < 3000; elapsed += 1) clock.advance(1);
    // One at start, then every 1 s x 87.5 % (jitter 0.5 of 25 %).
    assert.deepEqual(sent, [0, 875, 1750, 2625]);
    lonely.stop();
  });

  test('a packet from no peer, or naming no session, is discarded with the reason', async () => {
    const { one, node1 } = pair();
    const discarded: string[] = [];
    node1.on('discarded', ({ reason }) => discarded.push(reason));
    node1.start();
    const packet = { version: 1, diagnostic: 0, state: 'Down', poll: false, final: false, controlPlaneIndependent: false, demand: false, multipoint: false, detectMultiplier: 3, myDiscriminator: 9, yourDiscriminator: 0, desiredMinTxInterval: 1_000_000, requiredMinRxInterval: 1_000_000, requiredMinEchoRxInterval: 0 } as const;
    (one as unknown as EventEmitter).emit('control', { from: '192.0.2.99', packet });
    (one as unknown as EventEmitter).emit('control', { from: '192.0.2.12', packet: { ...packet, state: 'Init', yourDiscriminator: 77 } });
    assert.deepEqual(discarded, ['192.0.2.99 is not a BFD peer here', 'Your Discriminator 77 names no session here (RFC 5880 6.8.6)']);
    node1.stop();
  });
});
