import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressRangeError } from '../../src/pools/address-range.js';
import { prefixesOf, routeBlocks, routeCount, RouteTargetError } from '../../src/speaker/route-targets.js';

const expand = (specs: string[], aggregation = {}, max = 1_000_000) => [...prefixesOf(routeBlocks(specs, aggregation, max))];

describe('route targets', () => {
  test('addresses, ranges and prefixes become host routes by default', () => {
    assert.deepEqual(expand(['203.0.113.5', '203.0.113.8/30', '198.51.100.254-198.51.101.1']), [
      '203.0.113.5/32',
      '203.0.113.8/32', '203.0.113.9/32', '203.0.113.10/32', '203.0.113.11/32',
      '198.51.100.254/32', '198.51.100.255/32', '198.51.101.0/32', '198.51.101.1/32',
    ]);
    assert.deepEqual(expand(['2001:db8::ffff-2001:db8::1:1']), ['2001:db8::ffff/128', '2001:db8::1:0/128', '2001:db8::1:1/128']);
  });

  test('aggregation lengths give the covering prefixes, one per block touched', () => {
    assert.deepEqual(expand(['198.51.100.10-198.51.101.20', '203.0.113.200'], { ipv4: 24 }), ['198.51.100.0/24', '198.51.101.0/24', '203.0.113.0/24']);
    assert.deepEqual(expand(['203.0.113.0/27'], { ipv4: 30 }), Array.from({ length: 8 }, (_, index) => `203.0.113.${index * 4}/30`));
    assert.deepEqual(expand(['2001:db8:100::5', '2001:db8:100:1::/64'], { ipv6: 48 }), ['2001:db8:100::/48', '2001:db8:100::/48']);
    assert.deepEqual(expand(['0.0.0.0/0'], { ipv4: 0 }), ['0.0.0.0/0']);
    assert.deepEqual(expand(['255.255.255.255']), ['255.255.255.255/32']);
  });

  test('counts by arithmetic and refuses more than the limit before enumerating, with a hint', () => {
    assert.equal(routeCount(routeBlocks(['198.18.0.0/15'], {}, 1_000_000)), 131_072);
    assert.throws(() => routeBlocks(['2001:db8::/32'], {}, 1_000_000), (error: Error) => error instanceof RouteTargetError && /79228162514264337593543950336 routes, more than --max-routes 1000000: announce covering prefixes instead with --aggregation-length-v6 <n>, or raise --max-routes/.test(error.message));
    assert.throws(() => routeBlocks(['10.0.0.0/8'], { ipv4: 30 }, 1000), /4194304 routes, more than --max-routes 1000: raise --max-routes/);
  });

  test('a million IPv4 host routes are produced one at a time', () => {
    const blocks = routeBlocks(['198.18.0.0-198.33.66.63'], {}, 1_000_000);
    assert.equal(routeCount(blocks), 1_000_000);
    let count = 0;
    let last = '';
    for (const prefix of prefixesOf(blocks)) {
      count++;
      last = prefix;
    }
    assert.equal(count, 1_000_000);
    assert.equal(last, '198.33.66.63/32');
  });

  test('bad targets are refused with the parser\'s reason', () => {
    assert.throws(() => routeBlocks(['203.0.113.5/24'], {}, 10), /host bits set; did you mean 203\.0\.113\.0\/24/);
    assert.throws(() => routeBlocks(['vip.example'], {}, 10), AddressRangeError);
  });
});
