import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArpOperation } from '../../src/wire/arp.js';
import { ethernet, EtherType } from '../../src/wire/ethernet.js';
import { decodeFrame, encodeArpFrame, encodeNdpFrame } from '../../src/wire/frame.js';
import { icmpv6 } from '../../src/wire/icmpv6.js';
import { ipv6MulticastMac, solicitedNodeMulticast } from '../../src/wire/ip-address.js';
import { ipv6 } from '../../src/wire/ipv6.js';
import type { NdpMessage } from '../../src/wire/ndp.js';
import { frameFixture, loadFrameFixtures } from './frame-fixtures.js';

// The lab of test/fixtures/frames/capture.sh: namespace A sends, namespace B answers.
const MAC_A = '02:00:5e:10:00:0a';
const MAC_B = '02:00:5e:10:00:0b';

const fixture = frameFixture;

/** Decodes an ARP fixture, checks it, and re-encodes it with encodeArpFrame. */
function assertArpGolden(name: string, expected: ReturnType<typeof decodeFrame>): void {
  const decoded = decodeFrame(fixture(name));
  assert.deepEqual(decoded, expected);
  const { ethernet: frame, arp } = decoded;
  assert.ok(arp);
  assert.deepEqual(encodeArpFrame({ source: frame.source, destination: frame.destination, vlan: frame.vlan, arp }), fixture(name));
}

/** Decodes an NS/NA fixture, checks the layers that matter, and re-encodes it with
 *  encodeNdpFrame (checksum recomputed from scratch). */
interface NdpGolden {
  source: string;
  destination: string;
  ipSource: string;
  ipDestination: string;
  ndp: NdpMessage;
}

function assertNdpGolden(name: string, expected: NdpGolden): void {
  const decoded = decodeFrame(fixture(name));
  assert.equal(decoded.ethernet.source, expected.source);
  assert.equal(decoded.ethernet.destination, expected.destination);
  assert.equal(decoded.ipv6?.source, expected.ipSource);
  assert.equal(decoded.ipv6?.destination, expected.ipDestination);
  assert.equal(decoded.ipv6?.hopLimit, 255);
  assert.deepEqual(decoded.ndp, expected.ndp);
  assert.deepEqual(encodeNdpFrame(expected), fixture(name));
}

describe('kernel frames (golden, both directions)', () => {
  it('covers every fixture file', () => {
    assert.deepEqual([...loadFrameFixtures().keys()].sort(), [
      'gratuitous-arp',
      'kernel-arp-reply',
      'kernel-arp-request',
      'kernel-dad-ns',
      'kernel-icmpv6-port-unreachable',
      'kernel-mldv2-report',
      'kernel-ndp-na',
      'kernel-ndp-ns',
      'kernel-udp-ipv4',
      'vlan-arp-request',
    ]);
  });

  const request = { operation: ArpOperation.Request, senderMac: MAC_A, senderIp: '192.0.2.10', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.11' };
  const requestEthernet = { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, etherType: EtherType.ARP, payload: fixture('kernel-arp-request').subarray(14) };

  it('ARP request', () => {
    assertArpGolden('kernel-arp-request', { ethernet: requestEthernet, arp: request });
  });

  it('ARP reply', () => {
    assertArpGolden('kernel-arp-reply', {
      ethernet: { destination: MAC_A, source: MAC_B, etherType: EtherType.ARP, payload: fixture('kernel-arp-reply').subarray(14) },
      arp: { operation: ArpOperation.Reply, senderMac: MAC_B, senderIp: '192.0.2.11', targetMac: MAC_A, targetIp: '192.0.2.10' },
    });
  });

  it('gratuitous ARP (arping -U): sender and target IP equal', () => {
    assertArpGolden('gratuitous-arp', {
      ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, etherType: EtherType.ARP, payload: fixture('gratuitous-arp').subarray(14) },
      arp: { operation: ArpOperation.Request, senderMac: MAC_A, senderIp: '192.0.2.10', targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: '192.0.2.10' },
    });
  });

  it('802.1Q-tagged ARP request, VLAN 100', () => {
    assertArpGolden('vlan-arp-request', { ethernet: { ...requestEthernet, vlan: { id: 100, priority: 0, dropEligible: false } }, arp: request });
  });

  it('ARP padded to the 60-byte Ethernet minimum decodes the same', () => {
    assert.deepEqual(decodeFrame(Buffer.concat([fixture('kernel-arp-request'), Buffer.alloc(18)])).arp, request);
  });

  it('NS for 2001:db8:2::11 to its solicited-node group', () => {
    const target = '2001:db8:2::11';
    assertNdpGolden('kernel-ndp-ns', {
      source: MAC_A,
      destination: ipv6MulticastMac(solicitedNodeMulticast(target)),
      ipSource: '2001:db8:2::10',
      ipDestination: solicitedNodeMulticast(target),
      ndp: { type: 'neighbor-solicitation', target, sourceLinkLayer: MAC_A },
    });
  });

  it('solicited NA with override', () => {
    assertNdpGolden('kernel-ndp-na', {
      source: MAC_B,
      destination: MAC_A,
      ipSource: '2001:db8:2::11',
      ipDestination: '2001:db8:2::10',
      ndp: { type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: '2001:db8:2::11', targetLinkLayer: MAC_B },
    });
  });

  it('DAD NS from :: with no source link-layer option and an RFC 7527 nonce kept', () => {
    const target = '2001:db8:2::20';
    assertNdpGolden('kernel-dad-ns', {
      source: MAC_A,
      destination: '33:33:ff:00:00:20',
      ipSource: '::',
      ipDestination: 'ff02::1:ff00:20',
      ndp: { type: 'neighbor-solicitation', target, otherOptions: [{ type: 14, data: fixture('kernel-dad-ns').subarray(-6) }] },
    });
  });

  it('other ICMPv6 (port unreachable): checksum checked, no NDP layer', () => {
    const frame = fixture('kernel-icmpv6-port-unreachable');
    const decoded = decodeFrame(frame);
    assert.equal(decoded.ipv6?.hopLimit, 64);
    assert.deepEqual({ type: decoded.icmpv6?.type, code: decoded.icmpv6?.code }, { type: 1, code: 4 });
    assert.equal(decoded.ndp, undefined);
    assert.ok(decoded.ipv6 && decoded.icmpv6);
    const payload = ipv6.encode({ ...decoded.ipv6, payload: icmpv6.encode(decoded.icmpv6) });
    assert.deepEqual(ethernet.encode({ ...decoded.ethernet, payload }), frame);
  });

  it('MLDv2 report behind a hop-by-hop header: IPv6 only', () => {
    const frame = fixture('kernel-mldv2-report');
    const decoded = decodeFrame(frame);
    assert.equal(decoded.ipv6?.nextHeader, 0);
    assert.equal(decoded.ipv6?.destination, 'ff02::16');
    assert.equal(decoded.icmpv6, undefined);
    assert.ok(decoded.ipv6);
    assert.deepEqual(ethernet.encode({ ...decoded.ethernet, payload: ipv6.encode(decoded.ipv6) }), frame);
  });

  it('IPv4: Ethernet only', () => {
    const frame = fixture('kernel-udp-ipv4');
    const decoded = decodeFrame(frame);
    assert.deepEqual(Object.keys(decoded), ['ethernet']);
    assert.equal(decoded.ethernet.etherType, EtherType.IPv4);
    assert.deepEqual(ethernet.encode(decoded.ethernet), frame);
  });
});
