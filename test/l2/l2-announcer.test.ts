import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FrameListener, Link } from '../../src/link/link.js';
import { MemorySegment } from '../../src/link/memory-link.js';
import { L2Announcer, type GratuitousSchedule, type L2AnnouncerEvents } from '../../src/l2/l2-announcer.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { encodeArpFrame } from '../../src/wire/frame.js';
import { ManualClock } from '../helpers/manual-clock.js';

const MAC = '02:00:00:00:00:0a';
const ASKER_MAC = '02:00:00:00:00:0b';
const addresses = (count: number) => Array.from({ length: count }, (_, index) => `192.0.2.${100 + index}`);
const arpRequestFor = (ip: string) =>
  encodeArpFrame({ source: ASKER_MAC, destination: 'ff:ff:ff:ff:ff:ff', arp: { operation: ArpOperation.Request, senderMac: ASKER_MAC, senderIp: '192.0.2.10', targetMac: '00:00:00:00:00:00', targetIp: ip } });
/** The memory segment delivers frames on the next turn of the event loop. */
const delivered = () => new Promise((resolve) => setImmediate(resolve));

/** A memory link whose sends throw while `failing` is set, as a real one does with ENOBUFS or its interface down. */
class FailingLink implements Link {
  failing = false;

  constructor(private readonly link: Link) {}

  get interfaceName(): string {
    return this.link.interfaceName;
  }

  get mac(): string {
    return this.link.mac;
  }

  send(frame: Buffer): bigint {
    if (this.failing) throw Object.assign(new Error(`cannot send on ${this.interfaceName}: No buffer space available`), { code: 'ENOBUFS' });
    return this.link.send(frame);
  }

  onFrame(listener: FrameListener): () => void {
    return this.link.onFrame(listener);
  }

  close(): void {
    this.link.close();
  }
}

/** An announcer on a manual clock, recording each event with the time it came at. */
function announcerOn(schedule: GratuitousSchedule, events: L2AnnouncerEvents = {}) {
  const clock = new ManualClock();
  const segment = new MemorySegment();
  const link = new FailingLink(segment.attach('eth0', MAC));
  const asker = segment.attach('peer0', ASKER_MAC);
  const gratuitous: [ip: string, at: number][] = [];
  const failures: [frame: 'reply' | 'gratuitous', ip: string, at: number][] = [];
  const errors: unknown[] = [];
  const answered: [ip: string, at: number][] = [];
  const announcer = new L2Announcer(
    link,
    schedule,
    {
      gratuitous: (ip) => gratuitous.push([ip, clock.now()]),
      sendFailed: (error, frame, ip) => {
        failures.push([frame, ip, clock.now()]);
        errors.push(error);
      },
      answered: ({ ip }) => answered.push([ip, clock.now()]),
      ...events,
    },
    { clock },
  );
  return { clock, segment, link, asker, announcer, gratuitous, failures, errors, answered };
}

test('gratuitous frames never exceed the rate, however many addresses are taken over', () => {
  const { clock, announcer, gratuitous } = announcerOn({ count: 1, intervalMs: 100, ratePerSecond: 5 });
  announcer.set(addresses(20));
  clock.advance(1000);
  announcer.stop();
  assert.deepEqual(
    gratuitous.map(([, at]) => at),
    [0, 200, 400, 600, 800, 1000],
  );
});

test('at a high rate, each drain tick sends its share at once: at 1000/s, 10 frames every 10 ms', () => {
  const { clock, announcer, gratuitous } = announcerOn({ count: 1, intervalMs: 100, ratePerSecond: 1000 });
  announcer.set(addresses(35));
  clock.advance(100);
  announcer.stop();
  const framesAt = new Map<number, number>();
  for (const [, at] of gratuitous) framesAt.set(at, (framesAt.get(at) ?? 0) + 1);
  assert.deepEqual(
    [...framesAt],
    [
      [0, 10],
      [10, 10],
      [20, 10],
      [30, 5],
    ],
  );
});

test('a refresh never queues an address twice: an address taken over later waits behind each of the others once', () => {
  const { clock, announcer, gratuitous } = announcerOn({ count: 1, intervalMs: 100, refreshMs: 20, ratePerSecond: 1 });
  const [first, second, third, later] = addresses(4) as [string, string, string, string];
  announcer.set([first, second, third]);
  // Ten refreshes of three addresses: a queue that took each one again would hold thirty.
  clock.advance(200);
  announcer.set([first, second, third, later]);
  clock.advance(3800);
  announcer.stop();
  assert.deepEqual(gratuitous, [
    [first, 0],
    [second, 1000],
    [third, 2000],
    [first, 3000],
    [later, 4000],
  ]);
});

test('a burst is `count` frames `intervalMs` apart, for each address taken over', () => {
  const { clock, announcer, gratuitous } = announcerOn({ count: 3, intervalMs: 200, ratePerSecond: 1000 });
  announcer.set(['192.0.2.100', '2001:db8::100']);
  clock.advance(150);
  announcer.set(['192.0.2.100', '2001:db8::100', '192.0.2.101']);
  clock.advance(10_000);
  announcer.stop();
  assert.deepEqual(gratuitous, [
    ['192.0.2.100', 0],
    ['2001:db8::100', 0],
    ['192.0.2.101', 150],
    ['192.0.2.100', 200],
    ['2001:db8::100', 200],
    ['192.0.2.101', 350],
    ['192.0.2.100', 400],
    ['2001:db8::100', 400],
    ['192.0.2.101', 550],
  ]);
});

test('failed sends are reported; once the link works again the gratuitous frame goes out on retry and requests are answered', async () => {
  const { clock, segment, link, asker, announcer, gratuitous, failures, errors, answered } = announcerOn({ count: 1, intervalMs: 100, ratePerSecond: 1000 });
  link.failing = true;
  assert.doesNotThrow(() => announcer.set(['192.0.2.100']));
  asker.send(arpRequestFor('192.0.2.100'));
  await delivered();
  assert.deepEqual(failures, [
    ['gratuitous', '192.0.2.100', 0],
    ['reply', '192.0.2.100', 0],
  ]);
  assert.ok(errors.every((error) => (error as NodeJS.ErrnoException).code === 'ENOBUFS'));

  link.failing = false;
  clock.advance(24);
  assert.deepEqual(gratuitous, [], 'the first retry comes after 25 ms');
  clock.advance(1);
  assert.deepEqual(gratuitous, [['192.0.2.100', 25]]);
  assert.equal(segment.sent.filter(({ interfaceName }) => interfaceName === 'eth0').length, 1, 'the failed reply is not sent again: the asker asks again');

  asker.send(arpRequestFor('192.0.2.100'));
  await delivered();
  assert.deepEqual(answered, [['192.0.2.100', 25]]);
  assert.equal(failures.length, 2);
  announcer.stop();
});

test('a link that keeps failing is retried with a back-off doubling to a second: about one event a second, not a stream', () => {
  const { clock, link, announcer, failures } = announcerOn({ count: 3, intervalMs: 100, refreshMs: 50, ratePerSecond: 1000 });
  link.failing = true;
  announcer.set(addresses(100));
  clock.advance(60_000);
  const times = failures.map(([, , at]) => at);
  const gaps = times.slice(1).map((at, index) => at - times[index]!);
  assert.deepEqual(gaps.slice(0, 6), [25, 50, 100, 200, 400, 800]);
  assert.ok(
    gaps.slice(6).every((gap) => gap === 1000),
    `gaps after the first six: ${gaps.slice(6).join(', ')}`,
  );
  // 0, 25, 75, 175, 375, 775, 1575, then 2575 to 59575 a second apart.
  assert.equal(failures.length, 65);
  announcer.stop();
});

test('a frame sent between two failures starts the back-off again from 25 ms', () => {
  const { clock, link, announcer, failures, gratuitous } = announcerOn({ count: 1, intervalMs: 100, ratePerSecond: 1000 });
  link.failing = true;
  announcer.set(['192.0.2.100']);
  clock.advance(25);
  link.failing = false;
  clock.advance(50);
  link.failing = true;
  announcer.set(['192.0.2.100', '192.0.2.101']);
  clock.advance(25);
  announcer.stop();
  assert.deepEqual(gratuitous, [['192.0.2.100', 75]]);
  assert.deepEqual(
    failures.map(([, ip, at]) => [ip, at]),
    [
      ['192.0.2.100', 0],
      ['192.0.2.100', 25],
      ['192.0.2.101', 75],
      ['192.0.2.101', 100],
    ],
  );
});

test('stop() ends the retries and leaves no timer behind', () => {
  const { clock, link, announcer, failures } = announcerOn({ count: 3, intervalMs: 100, refreshMs: 1000, ratePerSecond: 1000 });
  link.failing = true;
  announcer.set(addresses(3));
  clock.advance(100);
  const failed = failures.length;
  announcer.stop();
  assert.equal(clock.nextDueAt, undefined);
  clock.advance(60_000);
  assert.equal(failures.length, failed);
});

test('an address given up while its frame waits for a retry is not announced', () => {
  const { clock, link, announcer, gratuitous } = announcerOn({ count: 1, intervalMs: 100, ratePerSecond: 1000 });
  link.failing = true;
  announcer.set(['192.0.2.100', '192.0.2.101']);
  announcer.set(['192.0.2.101']);
  link.failing = false;
  clock.advance(1000);
  announcer.stop();
  assert.deepEqual(gratuitous, [['192.0.2.101', 25]]);
});

test('a handler that stops the announcer on a failed send leaves nothing to retry', () => {
  let failed = 0;
  const { clock, link, announcer } = announcerOn(
    { count: 3, intervalMs: 100, refreshMs: 1000, ratePerSecond: 1000 },
    {
      sendFailed: () => {
        failed++;
        announcer.stop();
      },
    },
  );
  link.failing = true;
  announcer.set(addresses(3));
  assert.equal(failed, 1);
  assert.equal(clock.nextDueAt, undefined);
});

test('a handler that takes over another address during a send keeps the pace, and stop() still clears every timer', () => {
  const [first, second, third] = addresses(3) as [string, string, string];
  const { clock, announcer, gratuitous } = announcerOn(
    { count: 1, intervalMs: 100, ratePerSecond: 5 },
    {
      gratuitous: (ip) => {
        gratuitous.push([ip, clock.now()]);
        if (ip === first) announcer.set([first, second, third]);
      },
    },
  );
  announcer.set([first, second]);
  clock.advance(200);
  announcer.stop();
  assert.deepEqual(gratuitous, [
    [first, 0],
    [second, 200],
  ]);
  assert.equal(clock.nextDueAt, undefined, `a drain left for ${clock.nextDueAt} ms with ${third} still queued`);
});

test("a malformed question is reported with the codec's reason, and the next one is still answered", async () => {
  const malformed: string[] = [];
  const { asker, announcer, answered } = announcerOn({ count: 1, intervalMs: 100, ratePerSecond: 1000 }, { malformed: (reason) => malformed.push(reason) });
  announcer.set(['192.0.2.100']);
  const request = arpRequestFor('192.0.2.100');
  const badLength = Buffer.from(request);
  badLength[18] = 7; // hardware address length
  asker.send(badLength);
  asker.send(request.subarray(0, 30));
  asker.send(request);
  await delivered();
  announcer.stop();
  assert.equal(malformed.length, 2);
  assert.match(malformed[0]!, /hardware address length 7, expected 6/);
  assert.match(malformed[1]!, /sender protocol address needs 4 bytes, 2 left/);
  assert.deepEqual(answered, [['192.0.2.100', 0]]);
});
