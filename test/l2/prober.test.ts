import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemorySegment } from '../../src/link/memory-link.js';
import type { Link, ReceivedFrame } from '../../src/link/link.js';
import { Prober, type Classification } from '../../src/l2/prober.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { decodeFrame, encodeArpFrame, encodeNdpFrame } from '../../src/wire/frame.js';
import { solicitedNodeMulticast } from '../../src/wire/ip-address.js';

const OURS = '02:00:00:00:00:0a';
const THEIRS = '02:00:00:00:00:0b';

/** Our prober on one link, a peer on the other, and every classification the prober made. */
function segment(family: 4 | 6, sourceIp?: string) {
  const wire = new MemorySegment();
  const link = wire.attach('eth0', OURS);
  const peer = wire.attach('peer0', THEIRS);
  const prober = new Prober({ link, family, sourceIp });
  const seen: Classification[] = [];
  link.onFrame((frame) => {
    const result = prober.classify(frame);
    if (!('dropped' in result && result.dropped === 'our-own-frame')) seen.push(result);
  });
  return { wire, prober, peer, seen };
}

function nextFrame(link: Link): Promise<ReceivedFrame> {
  return new Promise((resolve) => link.onFrame(resolve));
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function arpReply(senderIp: string, targetIp: string, operation: number = ArpOperation.Reply) {
  return encodeArpFrame({ source: THEIRS, destination: OURS, arp: { operation, senderMac: THEIRS, senderIp, targetMac: OURS, targetIp } });
}

test('an ARP probe is a broadcast request from our address; the answer counts with an RTT', async () => {
  const { prober, peer, seen } = segment(4, '192.0.2.10');
  const probe = nextFrame(peer);
  prober.probe('192.0.2.11');
  const { ethernet, arp } = decodeFrame((await probe).data);
  assert.equal(ethernet.destination, 'ff:ff:ff:ff:ff:ff');
  assert.deepEqual(arp, { operation: ArpOperation.Request, senderMac: OURS, senderIp: '192.0.2.10', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.11' });
  await settle();
  peer.send(arpReply('192.0.2.11', '192.0.2.10'));
  await settle();
  assert.equal(seen.length, 1);
  const result = seen[0]!;
  assert.ok('reply' in result);
  assert.equal(result.reply.mac, THEIRS);
  assert.ok(result.reply.rttMs! >= 0);
});

test('frames that are not answers are dropped with the reason', async () => {
  const { prober, peer, seen } = segment(4, '192.0.2.10');
  prober.probe('192.0.2.11');
  peer.send(Buffer.from('not a frame'));
  peer.send(arpReply('192.0.2.11', '192.0.2.10', ArpOperation.Request));
  peer.send(arpReply('192.0.2.12', '192.0.2.10'));
  peer.send(arpReply('192.0.2.11', '192.0.2.99'));
  await settle();
  assert.deepEqual(seen, [{ dropped: 'malformed' }, { dropped: 'not-a-reply' }, { dropped: 'not-a-target' }, { dropped: 'not-for-us' }]);
});

test('a DAD probe comes from 0.0.0.0 and any answer for the address counts', async () => {
  const { prober, peer, seen } = segment(4);
  const probe = nextFrame(peer);
  prober.probe('192.0.2.50');
  assert.equal(decodeFrame((await probe).data).arp!.senderIp, '0.0.0.0');
  peer.send(arpReply('192.0.2.50', '0.0.0.0'));
  await settle();
  assert.ok('reply' in seen[0]!);
});

test('NDP: a solicitation to the solicited-node group; only solicited hop-limit-255 answers count', async () => {
  const { prober, peer, seen } = segment(6, '2001:db8:2::10');
  const probe = nextFrame(peer);
  prober.probe('2001:db8:2::11');
  const { ethernet, ipv6, ndp } = decodeFrame((await probe).data);
  assert.equal(ethernet.destination, '33:33:ff:00:00:11');
  assert.equal(ipv6!.destination, solicitedNodeMulticast('2001:db8:2::11'));
  assert.equal(ipv6!.hopLimit, 255);
  assert.deepEqual(ndp, { type: 'neighbor-solicitation', target: '2001:db8:2::11', sourceLinkLayer: OURS });

  const advertise = (hopLimit: number, solicited: boolean) =>
    encodeNdpFrame({
      source: THEIRS,
      destination: OURS,
      ipSource: '2001:db8:2::11',
      ipDestination: '2001:db8:2::10',
      hopLimit,
      ndp: { type: 'neighbor-advertisement', router: false, solicited, override: true, target: '2001:db8:2::11', targetLinkLayer: THEIRS },
    });
  peer.send(advertise(64, true));
  peer.send(advertise(255, false));
  peer.send(advertise(255, true));
  await settle();
  assert.deepEqual(seen.slice(0, 2), [{ dropped: 'hop-limit-not-255' }, { dropped: 'not-for-us' }]);
  const answer = seen[2]!;
  assert.ok('reply' in answer && answer.reply.mac === THEIRS);
});

test('an IPv6 DAD probe comes from :: without a source link-layer option', async () => {
  const { prober, peer } = segment(6);
  const probe = nextFrame(peer);
  prober.probe('2001:db8:2::50');
  const { ipv6, ndp } = decodeFrame((await probe).data);
  assert.equal(ipv6!.source, '::');
  assert.deepEqual(ndp, { type: 'neighbor-solicitation', target: '2001:db8:2::50' });
});

test('the RTT runs from when our probe was heard leaving, not from the send call', async () => {
  const wire = new MemorySegment();
  const link = wire.attach('eth0', OURS);
  const peer = wire.attach('peer0', THEIRS);
  const prober = new Prober({ link, family: 4, sourceIp: '192.0.2.10' });
  const heard: { at: bigint; result: Classification }[] = [];
  link.onFrame((frame) => heard.push({ at: frame.receivedAt, result: prober.classify(frame) }));
  prober.probe('192.0.2.11');
  await settle();
  peer.send(arpReply('192.0.2.11', '192.0.2.10'));
  await settle();
  const [departure, answer] = heard;
  assert.deepEqual(departure!.result, { dropped: 'our-own-frame' });
  assert.ok('reply' in answer!.result);
  assert.equal(answer!.result.reply.rttMs, Number(answer!.at - departure!.at) / 1e6);
});
