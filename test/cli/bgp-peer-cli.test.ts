import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseAddress, parseAsn, parseFamilies, parseHoldTime, parsePeerAddress, parsePort, parseRouterId } from '../../src/cli/bgp-options.js';
import * as values from '../../src/pools/value-parsers.js';
import { parseSeconds } from '../../src/cli/parse.js';
import { runVipkit } from './run-vipkit.js';

test('the BGP option parsers are the core value parsers, refusing with commander\'s InvalidArgumentError and the same sentence', () => {
  const pairs: [string, (value: string) => unknown, (value: string) => unknown, string, string][] = [
    ['asn', parseAsn, values.parseAsn, '1.10', '0'],
    ['router id', parseRouterId, values.parseRouterId, '192.0.2.11', '0.0.0.0'],
    ['address', parseAddress, values.parseAddress, '[2001:DB8::1]', 'router1'],
    ['peer address', parsePeerAddress, values.parsePeerAddress, 'fe80::1%eth0', 'fe80::1'],
    ['port', parsePort, values.parsePort, '1179', '0'],
    ['hold time', parseHoldTime, values.parseHoldTime, '9', '2'],
    ['families', parseFamilies, values.parseFamilies, 'ipv6,ipv4', 'ipv4,l2vpn'],
  ];
  for (const [what, option, core, good, bad] of pairs) {
    assert.deepEqual(option(good), core(good), what);
    const refusal = (() => {
      try {
        core(bad);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(refusal instanceof values.ValueError, what);
    assert.throws(() => option(bad), (error: unknown) => error instanceof InvalidArgumentError && error.message === refusal.message, what);
  }
});

test('durations: timers hold at most 2^31-1 ms, so a longer one is refused, not turned into 1 ms', () => {
  assert.equal(parseSeconds('2147483'), 2147483);
  assert.throws(() => parseSeconds('3000000'), /from 0 to 2147483/);
});

// Each of these is refused before any socket is opened.
for (const [args, message] of [
  [['bgp-peer', '192.0.2.1'], /needs --my-asn/],
  [['bgp-peer', '--my-asn', '0', '192.0.2.1'], /not an AS number/],
  [['bgp-peer', '--my-asn', '64800', '192.0.2.300'], /not an IP address/],
  [['bgp-peer', '--my-asn', '64800', '--password', 'x'.repeat(81), '192.0.2.1'], /80/],
  [['bgp-peer', '--my-asn', '64800', '--ebgp-multihop', '256', '192.0.2.1'], /--ebgp-multihop 256 is not a TTL from 1 to 255/],
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
