import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTargets } from '../../src/l2/targets.js';
import { UserError } from '../../src/user-error.js';

test('one plain address is a single target', () => {
  assert.deepEqual(parseTargets(['192.0.2.11']), { family: 4, addresses: ['192.0.2.11'], single: true });
  assert.deepEqual(parseTargets(['2001:DB8:2:0::11']), { family: 6, addresses: ['2001:db8:2::11'], single: true });
});

test('an IPv4 CIDR leaves out its network and broadcast addresses; /31 and /32 keep both', () => {
  const sweep = parseTargets(['192.0.2.64/29']);
  assert.deepEqual(sweep.addresses, ['192.0.2.65', '192.0.2.66', '192.0.2.67', '192.0.2.68', '192.0.2.69', '192.0.2.70']);
  assert.equal(sweep.single, false);
  assert.deepEqual(parseTargets(['192.0.2.10/31']).addresses, ['192.0.2.10', '192.0.2.11']);
  assert.deepEqual(parseTargets(['192.0.2.10/32']).addresses, ['192.0.2.10']);
});

test('ranges, IPv6 prefixes and several targets, without repeats', () => {
  assert.deepEqual(parseTargets(['192.0.2.70-192.0.2.72', '192.0.2.71']).addresses, ['192.0.2.70', '192.0.2.71', '192.0.2.72']);
  assert.deepEqual(parseTargets(['2001:db8::fe-2001:db8::101']).addresses, ['2001:db8::fe', '2001:db8::ff', '2001:db8::100', '2001:db8::101']);
  assert.equal(parseTargets(['2001:db8:2::/112']).addresses.length, 65_536);
  assert.equal(parseTargets(['2001:db8:2::/120']).addresses[255], '2001:db8:2::ff');
});

test('mistakes are refused with a sentence that says how to fix them', () => {
  const refusals: [string[], RegExp][] = [
    [['192.0.2.5/24'], /host bits set; did you mean 192\.0\.2\.0\/24\?/],
    [['2001:db8::1/64'], /did you mean 2001:db8::\/64\?/],
    [['192.0.2.9-192.0.2.1'], /reversed; did you mean 192\.0\.2\.1-192\.0\.2\.9\?/],
    [['192.0.2.1-2001:db8::1'], /two addresses of one family/],
    [['192.0.2.0/33'], /not a valid CIDR/],
    [['node1'], /not an IP address, a CIDR/],
    [['192.0.2.1', '2001:db8::1'], /cannot be mixed/],
    [['2001:db8::/100'], /hold 268435456 addresses; a sweep is limited to 65536/],
    [['0.0.0.0'], /0\.0\.0\.0 is in 0\.0\.0\.0\/8, "this network": ARP and NDP are for the unicast addresses hosts hold/],
    [['255.255.255.255'], /the limited broadcast address/],
    [['127.0.0.1'], /a loopback address/],
    [['223.255.255.254-224.0.0.1'], /224\.0\.0\.0 is a multicast address/],
    [['::'], /the unspecified address/],
    [['::1'], /the loopback address/],
    [['ff02::1'], /a multicast address/],
  ];
  for (const [specs, message] of refusals) {
    assert.throws(() => parseTargets(specs), (error: unknown) => error instanceof UserError && message.test(error.message), specs.join(' '));
  }
});
