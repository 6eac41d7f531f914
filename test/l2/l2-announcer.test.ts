import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemorySegment } from '../../src/link/memory-link.js';
import { L2Announcer } from '../../src/l2/l2-announcer.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { encodeArpFrame } from '../../src/wire/frame.js';

const MAC = '02:00:00:00:00:0a';
const addresses = (count: number) => Array.from({ length: count }, (_, index) => `192.0.2.${100 + index}`);

test('gratuitous frames never exceed the rate, however many addresses are taken over', async () => {
  const segment = new MemorySegment();
  const link = segment.attach('eth0', MAC);
  let sent = 0;
  const announcer = new L2Announcer(link, { count: 1, intervalMs: 100, ratePerSecond: 5 }, { gratuitous: () => sent++ });
  announcer.set(addresses(20));
  await new Promise((resolve) => setTimeout(resolve, 300));
  announcer.stop();
  // One at once, then one per 200 ms: a machine under load can only send fewer.
  assert.ok(sent >= 1 && sent <= 3, `${sent} frames in 300 ms at 5/s`);
});

test('a refresh never queues an address twice', async () => {
  const segment = new MemorySegment();
  const link = segment.attach('eth0', MAC);
  let sent = 0;
  const announcer = new L2Announcer(link, { count: 1, intervalMs: 100, refreshMs: 20, ratePerSecond: 1 }, { gratuitous: () => sent++ });
  announcer.set(addresses(3));
  await new Promise((resolve) => setTimeout(resolve, 200));
  announcer.stop();
  // Ten refreshes of three addresses at 1 frame/s: the queue holds each address once, so one frame went out.
  assert.equal(sent, 1);
});

test('a send that fails stops the announcer and is reported, not thrown into the event loop', () => {
  const segment = new MemorySegment();
  const link = segment.attach('eth0', MAC);
  const failures: unknown[] = [];
  const announcer = new L2Announcer(link, { count: 3, intervalMs: 10, ratePerSecond: 1000 }, { failed: (error) => failures.push(error) });
  link.close();
  assert.doesNotThrow(() => announcer.set(addresses(2)));
  assert.equal(failures.length, 1);
  assert.match(String(failures[0]), /closed/);
});

test('a malformed question is reported with the codec\'s reason, and the next one is still answered', async () => {
  const segment = new MemorySegment();
  const link = segment.attach('eth0', MAC);
  const asker = segment.attach('peer0', '02:00:00:00:00:0b');
  const malformed: string[] = [];
  const answered: string[] = [];
  const announcer = new L2Announcer(link, { count: 1, intervalMs: 100, ratePerSecond: 1000 }, { malformed: (reason) => malformed.push(reason), answered: ({ ip }) => answered.push(ip) });
  announcer.set(['192.0.2.100']);
  const request = encodeArpFrame({ source: '02:00:00:00:00:0b', destination: 'ff:ff:ff:ff:ff:ff', arp: { operation: ArpOperation.Request, senderMac: '02:00:00:00:00:0b', senderIp: '192.0.2.10', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.100' } });
  const badLength = Buffer.from(request);
  badLength[18] = 7; // hardware address length
  asker.send(badLength);
  asker.send(request.subarray(0, 30));
  asker.send(request);
  await new Promise((resolve) => setImmediate(resolve));
  announcer.stop();
  assert.equal(malformed.length, 2);
  assert.match(malformed[0]!, /hardware address length 7, expected 6/);
  assert.match(malformed[1]!, /sender protocol address needs 4 bytes, 2 left/);
  assert.deepEqual(answered, ['192.0.2.100']);
});
