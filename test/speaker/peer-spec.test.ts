import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePeerSpec, PeerSpecError } from '../../src/speaker/peer-spec.js';

const defaults = { port: 179, holdTime: 90, myAsn: 64800, routerId: '192.0.2.11' };

describe('--peer', () => {
  test('an address with options; global flags fill in the rest', () => {
    assert.deepEqual(parsePeerSpec('192.0.2.1,asn=65002,hold-time=9,port=1179', defaults), { address: '192.0.2.1', port: 1179, asn: 65002, myAsn: 64800, routerId: '192.0.2.11', holdTime: 9 });
    assert.deepEqual(parsePeerSpec('192.0.2.1', { ...defaults, asn: 65002 }), { address: '192.0.2.1', port: 179, asn: 65002, myAsn: 64800, routerId: '192.0.2.11', holdTime: 90 });
  });

  test('IPv6 in brackets, ports after the address, asdot AS numbers', () => {
    assert.deepEqual(parsePeerSpec('[2001:db8:2::1]:1179,asn=1.10,my-asn=4200000000,source-address=2001:db8:2::11,router-id=192.0.2.99', defaults), {
      address: '2001:db8:2::1', port: 1179, asn: 65546, myAsn: 4_200_000_000, routerId: '192.0.2.99', holdTime: 90, sourceAddress: '2001:db8:2::11',
    });
    assert.equal(parsePeerSpec('192.0.2.1:1790,asn=65002', defaults).port, 1790);
    assert.equal(parsePeerSpec('2001:db8:2::1,asn=65002', defaults).address, '2001:db8:2::1');
    // Canonical, so that the peer's own connection to us is recognised as its.
    assert.equal(parsePeerSpec('[2001:DB8:2:0::1]:1179,asn=65002', defaults).address, '2001:db8:2::1');
  });

  test('mistakes and what Node cannot do are refused with the reason', () => {
    const refused: [string, RegExp][] = [
      ['192.0.2.1,asn=65002,password=secret', /TCP-MD5 .* Node\.js cannot set/],
      ['192.0.2.1,asn=65002,ebgp-multihop=2', /eBGP multihop needs a socket TTL/],
      ['192.0.2.1', /has no AS number: add asn=<n> to it, or give --peer-asn/],
      ['192.0.2.1,asn=0', /"0" is not an AS number/],
      ['192.0.2.1,asn=65002,hold-time=2', /not a hold time/],
      ['192.0.2.1,asn=65002,colour=blue', /unknown option "colour"/],
      ['192.0.2.1,65002', /"65002" is not an option; write options as key=value/],
      ['router1,asn=65002', /does not start with an IP address/],
      ['192.0.2.1,asn=65002,source-address=2001:db8::1', /not of the peer's address family/],
      ['224.0.0.5,asn=65002', /--peer 224\.0\.0\.5: 224\.0\.0\.5 is a multicast address: a BGP peer has a unicast address/],
    ];
    for (const [spec, message] of refused) assert.throws(() => parsePeerSpec(spec, defaults), (error: Error) => error instanceof PeerSpecError && message.test(error.message), spec);
    assert.throws(() => parsePeerSpec('192.0.2.1,asn=65002', { port: 179, holdTime: 90 }), /our AS number is unknown: give --my-asn/);
  });
});
