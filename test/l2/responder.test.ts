import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReceivedFrame } from '../../src/link/link.js';
import { MemorySegment } from '../../src/link/memory-link.js';
import { Responder, type Answered, type Handling } from '../../src/l2/responder.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { decodeFrame, encodeArpFrame, encodeNdpFrame } from '../../src/wire/frame.js';
import { solicitedNodeMulticast } from '../../src/wire/ip-address.js';

const OURS = '02:00:00:00:00:0a';
const ASKER = '02:00:00:00:00:0b';
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A responder for `addresses` and an asker on one segment; what the responder did with each frame, and what the asker heard. */
function segment(addresses: string[]) {
  const wire = new MemorySegment();
  const link = wire.attach('eth0', OURS);
  const asker = wire.attach('peer0', ASKER);
  const responder = new Responder(link.mac);
  responder.setAddresses(addresses);
  const handled: (Handling | { answered: Answered })[] = [];
  link.onFrame((frame) => {
    const handling = responder.answer(frame);
    if ('reply' in handling) link.send(handling.reply);
    handled.push('reply' in handling ? { answered: handling.answered } : handling);
  });
  const heard: ReceivedFrame[] = [];
  asker.onFrame((frame) => {
    if (frame.data.subarray(6, 12).equals(Buffer.from(OURS.replaceAll(':', ''), 'hex'))) heard.push(frame);
  });
  return { asker, handled, heard };
}

const arpRequest = (senderIp: string, targetIp: string) =>
  encodeArpFrame({ source: ASKER, destination: 'ff:ff:ff:ff:ff:ff', arp: { operation: ArpOperation.Request, senderMac: ASKER, senderIp, targetMac: '00:00:00:00:00:00', targetIp } });

test('an ARP request for one of our addresses gets a unicast reply with our MAC', async () => {
  const { asker, handled, heard } = segment(['192.0.2.100']);
  asker.send(arpRequest('192.0.2.10', '192.0.2.100'));
  await settle();
  await settle();
  assert.deepEqual(handled[0], { answered: { ip: '192.0.2.100', requesterMac: ASKER, requesterIp: '192.0.2.10' } });
  assert.equal(heard.length, 1);
  const { ethernet, arp } = decodeFrame(heard[0]!.data);
  assert.equal(ethernet.destination, ASKER);
  assert.deepEqual(arp, { operation: ArpOperation.Reply, senderMac: OURS, senderIp: '192.0.2.100', targetMac: ASKER, targetIp: '192.0.2.10' });
});

test('everything else is ignored, each with its reason', async () => {
  const { asker, handled, heard } = segment(['192.0.2.100']);
  asker.send(arpRequest('192.0.2.10', '192.0.2.99'));
  asker.send(arpRequest('192.0.2.100', '192.0.2.100'));
  asker.send(Buffer.alloc(10));
  asker.send(encodeArpFrame({ source: ASKER, destination: OURS, arp: { operation: ArpOperation.Reply, senderMac: ASKER, senderIp: '192.0.2.10', targetMac: OURS, targetIp: '192.0.2.100' } }));
  await settle();
  assert.deepEqual(handled, [{ ignored: 'not-our-address' }, { ignored: 'not-a-request' }, { ignored: 'malformed' }, { ignored: 'not-a-request' }]);
  assert.equal(heard.length, 0);
});

test('a neighbor solicitation gets a solicited advertisement; a DAD probe gets one to all-nodes', async () => {
  const { asker, handled, heard } = segment(['2001:db8:2::100']);
  const solicit = (ipSource: string, hopLimit = 255) =>
    encodeNdpFrame({
      source: ASKER,
      destination: '33:33:ff:00:01:00',
      ipSource,
      ipDestination: solicitedNodeMulticast('2001:db8:2::100'),
      hopLimit,
      ndp: { type: 'neighbor-solicitation', target: '2001:db8:2::100', sourceLinkLayer: ipSource === '::' ? undefined : ASKER },
    });
  asker.send(solicit('2001:db8:2::10'));
  asker.send(solicit('::'));
  asker.send(solicit('2001:db8:2::10', 64));
  await settle();
  await settle();
  assert.deepEqual(handled.slice(0, 3), [
    { answered: { ip: '2001:db8:2::100', requesterMac: ASKER, requesterIp: '2001:db8:2::10' } },
    { answered: { ip: '2001:db8:2::100', requesterMac: ASKER, requesterIp: '::' } },
    { ignored: 'hop-limit-not-255' },
  ]);
  const [toAsker, toAll] = heard.map((frame) => decodeFrame(frame.data));
  assert.equal(toAsker!.ipv6!.destination, '2001:db8:2::10');
  assert.deepEqual(toAsker!.ndp, { type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: '2001:db8:2::100', targetLinkLayer: OURS });
  assert.equal(toAll!.ipv6!.destination, 'ff02::1');
  assert.equal(toAll!.ethernet.destination, '33:33:00:00:00:01');
  assert.equal((toAll!.ndp as { solicited: boolean }).solicited, false);
});
