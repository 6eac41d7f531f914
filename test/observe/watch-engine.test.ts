import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gratuitousArp, unsolicitedAdvertisement } from '../../src/l2/gratuitous.js';
import { WatchEngine, type WatchFrame } from '../../src/observe/watch-engine.js';
import type { AddressEvent } from '../../src/observe/address-watch.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { encodeArpFrame, encodeNdpFrame } from '../../src/wire/frame.js';
import { BROADCAST_MAC, ZERO_MAC } from '../../src/wire/mac.js';

const CLIENT = '02:00:00:00:00:10';
const NODE1 = '02:00:00:00:00:11';
const NODE2 = '02:00:00:00:00:12';
const VIP = '192.0.2.100';
const MS = 1_000_000n;
const T0 = 1_800_000_000_000n * MS;

const request = (target: string, from = CLIENT, fromIp = '192.0.2.10'): Buffer =>
  encodeArpFrame({
    source: from,
    destination: BROADCAST_MAC,
    arp: { operation: ArpOperation.Request, senderMac: from, senderIp: fromIp, targetMac: ZERO_MAC, targetIp: target },
  });
const reply = (ip: string, mac: string, ethernetSource = mac): Buffer =>
  encodeArpFrame({
    source: ethernetSource,
    destination: CLIENT,
    arp: { operation: ArpOperation.Reply, senderMac: mac, senderIp: ip, targetMac: CLIENT, targetIp: '192.0.2.10' },
  });

function engine(options: { targets?: string[]; ownMacs?: string[] } = {}) {
  return new WatchEngine({
    dupWindowNs: 1000n * MS,
    silenceNs: 1000n * MS,
    ...(options.targets ? { targets: new Set(options.targets) } : {}),
    ...(options.ownMacs ? { ownMacs: new Set(options.ownMacs) } : {}),
  });
}

/** Feeds [ms after T0, frame] pairs; returns every event, without the context fields unless asked. */
function feed(watch: WatchEngine, frames: [number, Buffer][], endMs?: number): AddressEvent[] {
  const events: AddressEvent[] = [];
  for (const [ms, data] of frames) events.push(...(watch.observe({ data, at: T0 + BigInt(ms) * MS, interfaceName: 'eth0' } satisfies WatchFrame) as AddressEvent[]));
  if (endMs !== undefined) events.push(...(watch.finish(T0 + BigInt(endMs) * MS) as AddressEvent[]));
  return events;
}

const names = (events: AddressEvent[]) => events.map((event) => event.event);

describe('watch engine', () => {
  it('reports the first answer as the owner, with the capture time and interface', () => {
    const events = feed(engine({ targets: [VIP] }), [
      [0, request(VIP)],
      [1, reply(VIP, NODE1)],
      [1000, request(VIP)],
      [1001, reply(VIP, NODE1)],
    ]);
    assert.deepEqual(events, [{ event: 'owner', at: T0 + MS, interfaceName: 'eth0', ip: VIP, mac: NODE1 }]);
  });

  it('a gratuitous ARP from another MAC is a move, its gap measured from the old owner\'s last answer', () => {
    const events = feed(engine({ targets: [VIP] }), [
      [0, request(VIP)],
      [1, reply(VIP, NODE1)],
      [200, request(VIP)],
      [201, reply(VIP, NODE1)],
      [400, request(VIP)],
      [537, gratuitousArp(NODE2, VIP, 'request')],
      [600, request(VIP)],
      [601, reply(VIP, NODE2)],
    ]);
    assert.deepEqual(names(events), ['owner', 'moved', 'gratuitous']);
    assert.deepEqual(events[1], { event: 'moved', at: T0 + 537n * MS, interfaceName: 'eth0', ip: VIP, from: NODE1, to: NODE2, gapNs: 336n * MS });
    assert.equal((events[2] as { changedOwner: boolean }).changedOwner, true);
  });

  it('a different MAC answering a later request is a move, without any announcement', () => {
    const events = feed(engine(), [
      [0, request(VIP)],
      [1, reply(VIP, NODE1)],
      [200, request(VIP)],
      [650, request(VIP)],
      [651, reply(VIP, NODE2)],
    ]);
    const moved = events.filter((event) => event.event === 'moved');
    assert.deepEqual(moved.map((event) => event.event === 'moved' && event.gapNs), [650n * MS]);
  });

  it('two MACs answering one request are a duplicate, reported once per episode', () => {
    const watch = engine({ targets: [VIP] });
    const events = feed(watch, [
      [0, request(VIP)],
      [1, reply(VIP, NODE1)],
      [1, reply(VIP, NODE2)],
      [1000, request(VIP)],
      [1001, reply(VIP, NODE2)],
      [1001, reply(VIP, NODE1)],
    ]);
    assert.deepEqual(names(events), ['owner', 'duplicate']);
    assert.deepEqual(events[1], { event: 'duplicate', at: T0 + MS, interfaceName: 'eth0', ip: VIP, mac: NODE2, macs: [NODE1, NODE2] });
    assert.equal(watch.addresses.addresses[0]!.state, 'duplicate');
  });

  it('a duplicate ends when one MAC falls silent; if it was the owner, the other takes over', () => {
    const events = feed(engine({ targets: [VIP] }), [
      [0, request(VIP)],
      [1, reply(VIP, NODE1)],
      [1, reply(VIP, NODE2)],
      [3000, request(VIP)],
      [3001, reply(VIP, NODE2)],
    ]);
    assert.deepEqual(names(events), ['owner', 'duplicate', 'moved']);
    assert.equal('gapNs' in events[2]!, false, 'no gap: the new owner had been answering all along');
  });

  it('without requests in sight, two MACs within the window are a duplicate', () => {
    const events = feed(engine(), [
      [0, reply(VIP, NODE1)],
      [300, reply(VIP, NODE2)],
    ]);
    assert.deepEqual(names(events).filter((name) => name !== 'owner'), ['duplicate']);
  });

  it('requests nobody answers make the address dark after --silence; dark time is summed', () => {
    const watch = engine({ targets: ['192.0.2.99'] });
    const events = feed(watch, [
      [0, request('192.0.2.99')],
      [1000, request('192.0.2.99')],
      [2000, request('192.0.2.99')],
    ], 2500);
    assert.deepEqual(events, [{ event: 'unanswered', at: T0 + 1000n * MS, interfaceName: 'eth0', ip: '192.0.2.99', since: T0, requests: 2 }]);
    const [history] = watch.addresses.addresses;
    assert.equal(history!.darkNs, 2500n * MS);
    assert.equal(history!.state, 'dark');
  });

  it('one request answered out of sight is not darkness, unless this host sent it', () => {
    assert.deepEqual(feed(engine({ targets: ['192.0.2.99'] }), [[0, request('192.0.2.99')]], 5000), []);
    const own = feed(engine({ targets: ['192.0.2.99'], ownMacs: [CLIENT] }), [[0, request('192.0.2.99')]], 5000);
    assert.deepEqual(names(own), ['unanswered']);
  });

  it('live ticks and a file give the same unanswered event', () => {
    const live = engine();
    feed(live, [[0, request('192.0.2.99')], [900, request('192.0.2.99')]]);
    const ticked = [...live.advance(T0 + 1500n * MS)];
    const file = feed(engine(), [[0, request('192.0.2.99')], [900, request('192.0.2.99')]], 4000);
    assert.deepEqual(ticked, file.filter((event) => event.event === 'unanswered'));
  });

  it('an answer ends the darkness and the dark time counts up to it', () => {
    const watch = engine();
    feed(watch, [[0, request(VIP)], [500, request(VIP)], [1800, request(VIP)], [1801, reply(VIP, NODE1)]], 3000);
    const history = watch.addresses.addresses.find((address) => address.ip === VIP)!;
    assert.equal(history.darkNs, 1801n * MS);
    assert.equal(history.state, 'owned');
  });

  it('flags an Ethernet source that differs from the ARP sender, once per pair', () => {
    const events = feed(engine(), [
      [0, reply(VIP, NODE1, NODE2)],
      [10, reply(VIP, NODE1, NODE2)],
    ]);
    assert.deepEqual(names(events), ['ethernet-mismatch', 'owner']);
    assert.deepEqual(events[0], { event: 'ethernet-mismatch', at: T0, interfaceName: 'eth0', ip: VIP, mac: NODE1, ethernetSource: NODE2 });
  });

  it('DAD probes claim nothing; IPv6 unsolicited advertisements announce an owner', () => {
    const dad = encodeArpFrame({
      source: NODE1,
      destination: BROADCAST_MAC,
      arp: { operation: ArpOperation.Request, senderMac: NODE1, senderIp: '0.0.0.0', targetMac: ZERO_MAC, targetIp: VIP },
    });
    const events = feed(engine(), [
      [0, dad],
      [10, unsolicitedAdvertisement(NODE2, '2001:db8:2::100')],
    ]);
    assert.deepEqual(names(events), ['owner', 'gratuitous']);
    assert.equal(events[0]!.ip, '2001:db8:2::100');
  });

  it('a Neighbor Solicitation asks for its target and claims its source', () => {
    const solicitation = encodeNdpFrame({
      source: CLIENT,
      destination: '33:33:ff:00:01:00',
      ipSource: '2001:db8:2::10',
      ipDestination: 'ff02::1:ff00:100',
      ndp: { type: 'neighbor-solicitation', target: '2001:db8:2::100', sourceLinkLayer: CLIENT },
    });
    const events = feed(engine({ ownMacs: [CLIENT] }), [[0, solicitation]], 2000);
    assert.deepEqual(events.map((event) => [event.event, event.ip]), [['owner', '2001:db8:2::10'], ['unanswered', '2001:db8:2::100']]);
  });

  it('counts malformed frames and keeps going', () => {
    const watch = engine();
    const truncated = reply(VIP, NODE1).subarray(0, 30);
    const events = feed(watch, [[0, truncated], [1, Buffer.alloc(3)], [2, reply(VIP, NODE1)]]);
    assert.deepEqual(names(events), ['owner']);
    assert.deepEqual(watch.counts, { frames: 3, arp: 1, ndp: 0, malformed: 2, ignored: 0 });
  });

  it('--vlan keeps only frames of that VLAN', () => {
    const tagged = encodeArpFrame({
      source: NODE1,
      destination: CLIENT,
      vlan: { id: 100, priority: 0, dropEligible: false },
      arp: { operation: ArpOperation.Reply, senderMac: NODE1, senderIp: VIP, targetMac: CLIENT, targetIp: '192.0.2.10' },
    });
    const watch = new WatchEngine({ dupWindowNs: MS, silenceNs: MS, vlan: 100 });
    const events = feed(watch, [[0, reply(VIP, NODE2)], [1, tagged]]);
    assert.deepEqual(events.map((event) => [event.event, event.vlan]), [['owner', 100]]);
    assert.equal(watch.counts.ignored, 1);
  });
});
