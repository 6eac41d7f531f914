import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseAddress, parseAsn, parseFamilies, parseHoldTime, parsePeerAddress, parseRouterId } from '../../src/cli/bgp-options.js';
import { parseSeconds } from '../../src/cli/parse.js';
import { runVipkit } from './run-vipkit.js';

test('AS numbers: asplain and asdot (RFC 5396), 1 to 4294967295', () => {
  assert.equal(parseAsn('64800'), 64800);
  assert.equal(parseAsn('4200000000'), 4_200_000_000);
  assert.equal(parseAsn('1.10'), 65546);
  assert.equal(parseAsn('65535.65535'), 4_294_967_295);
  for (const bad of ['0', '4294967296', '1.65536', '-1', 'AS64800', '64800.', '']) assert.throws(() => parseAsn(bad), InvalidArgumentError, bad);
});

test('router ids, hold times and families', () => {
  assert.equal(parseRouterId('192.0.2.11'), '192.0.2.11');
  assert.throws(() => parseRouterId('0.0.0.0'), InvalidArgumentError);
  assert.throws(() => parseRouterId('2001:db8::1'), InvalidArgumentError);
  assert.equal(parseHoldTime('0'), 0);
  assert.equal(parseHoldTime('3'), 3);
  assert.throws(() => parseHoldTime('2'), InvalidArgumentError);
  assert.deepEqual(parseFamilies('ipv6,ipv4,ipv6'), [{ afi: 2, safi: 1 }, { afi: 1, safi: 1 }]);
  assert.throws(() => parseFamilies('ipv4,l2vpn'), /l2vpn/);
  assert.throws(() => parseFamilies('constructor'), /"constructor" is not an address family/);
  // Canonical, so that it equals what a socket reports for the same peer.
  assert.equal(parseAddress('[2001:DB8:0:0::1]'), '2001:db8::1');
  assert.equal(parseAddress('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(parseAddress('fe80::1%eth0'), 'fe80::1%eth0');
  // A peer is unicast; a daemon on this host (loopback) is one.
  assert.equal(parsePeerAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(parsePeerAddress('[::1]'), '::1');
  assert.equal(parsePeerAddress('fe80::1%eth0'), 'fe80::1%eth0');
  assert.throws(() => parsePeerAddress('fe80::1'), /fe80::1 is link-local: name its interface, as in fe80::1%eth0/);
  for (const [bad, why] of [['0.0.0.0', /"this network"/], ['224.0.0.5', /multicast/], ['255.255.255.255', /broadcast/], ['::', /unspecified/], ['ff02::2', /multicast/]] as const) {
    assert.throws(() => parsePeerAddress(bad), (error: Error) => error instanceof InvalidArgumentError && why.test(error.message) && /a BGP peer has a unicast address/.test(error.message), bad);
  }
  // Timers hold at most 2^31-1 ms: a longer duration is refused, not turned into 1 ms.
  assert.equal(parseSeconds('2147483'), 2147483);
  assert.throws(() => parseSeconds('3000000'), /from 0 to 2147483/);
});

// Each of these is refused before any socket is opened.
for (const [args, message] of [
  [['bgp-peer', '192.0.2.1'], /needs --my-asn/],
  [['bgp-peer', '--my-asn', '0', '192.0.2.1'], /not an AS number/],
  [['bgp-peer', '--my-asn', '64800', '192.0.2.300'], /not an IP address/],
  [['bgp-peer', '--my-asn', '64800', '--password', 'secret', '192.0.2.1'], /TCP-MD5 .*Node\.js cannot set/],
  [['bgp-peer', '--my-asn', '64800', '--ebgp-multihop', '192.0.2.1'], /multihop needs the TTL/],
  [['bgp-peer', '--my-asn', '64800', '--listen'], /needs --accept/],
  [['bgp-peer', '--my-asn', '64800', '--listen', '--accept', '192.0.2.1/24'], /host bits set/],
  [['bgp-peer', '--my-asn', '64800', '--listen', '--accept', '192.0.2.0/24', '192.0.2.1'], /takes no peer address/],
  [['bgp-peer', '--my-asn', '64800', '--hold-time', '30', '--keepalive', '20', '192.0.2.1'], /more than a third/],
  [['bgp-peer', '--my-asn', '64800', '--source-address', '198.51.100.254', '192.0.2.1'], /198\.51\.100\.254 is not configured/],
] as const) {
  test(`bgp-peer ${args.slice(1).join(' ')}: one sentence, exit 2`, () => {
    const result = runVipkit([...args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length <= 2, true, result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
}
