import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Problem } from '../../src/pools/model.js';
import {
  checkKeepaliveTime,
  parseAddress,
  parseAsn,
  parseBoolean,
  parseFamilies,
  parseHoldTime,
  parseInteger,
  parseKeepaliveTime,
  parseLabelKey,
  parseLabelValue,
  parseNamespace,
  parseNodeName,
  parsePeerAddress,
  parsePort,
  parseProtocol,
  parseRouterId,
  parseServiceName,
  parseSourceAddress,
  parseUnicastAddress,
  readValue,
  ValueError,
} from '../../src/pools/value-parsers.js';
import { UserError } from '../../src/user-error.js';

/** Refused with a ValueError (so main prints it as one sentence, exit 2) whose message matches. */
function refuses(parse: () => unknown, message: RegExp, label?: string): void {
  assert.throws(parse, (error: unknown) => error instanceof ValueError && error instanceof UserError && message.test(error.message), label);
}

test('AS numbers: asplain and asdot (RFC 5396), 1 to 4294967295 (0 is reserved, RFC 7607)', () => {
  assert.equal(parseAsn('64800'), 64800);
  assert.equal(parseAsn('4200000000'), 4_200_000_000);
  assert.equal(parseAsn('1.10'), 65546);
  assert.equal(parseAsn('0.65002'), 65002);
  assert.equal(parseAsn('65535.65535'), 4_294_967_295);
  for (const bad of ['0', '0.0', '4294967296', '1.65536', '-1', 'AS64800', '64800.', '1e3', '']) refuses(() => parseAsn(bad), /is not an AS number: expected 1 to 4294967295 \(asplain\) or 0\.1 to 65535\.65535 \(asdot\)\./, bad);
});

test('hold times (RFC 4271 4.2): 0 or 3 to 65535 seconds', () => {
  for (const [text, seconds] of [['0', 0], ['3', 3], ['90', 90], ['65535', 65535]] as const) assert.equal(parseHoldTime(text), seconds);
  for (const bad of ['1', '2', '65536', '-3', '9.5', ' 9', '']) refuses(() => parseHoldTime(bad), /is not a hold time: expected 0 or 3 to 65535 seconds\./, bad);
});

test('keepalive times: 0 to 21845 alone; against a hold time, 1 to a third of it (RFC 4271 10), anything when it is 0 (4.4)', () => {
  assert.equal(parseKeepaliveTime('0'), 0);
  assert.equal(parseKeepaliveTime('30'), 30);
  assert.equal(parseKeepaliveTime('21845'), 21845);
  for (const bad of ['21846', '1.5', '-1', 'x', '']) refuses(() => parseKeepaliveTime(bad), /is not a keepalive time: expected 0 to 21845 seconds/, bad);
  for (const [keepalive, hold] of [[3, 9], [1, 3], [30, 90], [0, 0], [100, 0]] as const) checkKeepaliveTime(keepalive, hold);
  refuses(() => checkKeepaliveTime(4, 9), /^a keepalive time of 4 s does not fit a hold time of 9 s: give 1 to 3 seconds, at most a third of it \(RFC 4271 10\)\.$/);
  refuses(() => checkKeepaliveTime(0, 9), /keepalive time of 0 s does not fit a hold time of 9 s/);
});

test('ports, whole numbers, booleans and protocols', () => {
  assert.equal(parsePort('1'), 1);
  assert.equal(parsePort('1179'), 1179);
  assert.equal(parsePort('65535'), 65535);
  for (const bad of ['0', '65536', '80a', '', '+80']) refuses(() => parsePort(bad), /is not a TCP port: expected 1 to 65535\./, bad);
  assert.equal(parseInteger('32', 0, 32), 32);
  refuses(() => parseInteger('33', 0, 32), /^"33" is not a whole number from 0 to 32\.$/);
  refuses(() => parseInteger('0x10', 0, 32), /^"0x10" is not a whole number/);
  assert.equal(parseBoolean('true'), true);
  assert.equal(parseBoolean('false'), false);
  refuses(() => parseBoolean('yes'), /^"yes" is not true or false\.$/);
  assert.equal(parseProtocol('bgp'), 'bgp');
  refuses(() => parseProtocol('bpg'), /^protocol "bpg" is not layer2 or bgp; did you mean bgp\?$/);
});

test('router ids (RFC 6286 2.1) and address families', () => {
  assert.equal(parseRouterId('192.0.2.11'), '192.0.2.11');
  for (const bad of ['0.0.0.0', '2001:db8::1', '192.0.2', 'router']) refuses(() => parseRouterId(bad), /is not a router id: expected a non-zero IPv4 address such as 192\.0\.2\.11\./, bad);
  assert.deepEqual(parseFamilies('ipv6,ipv4,ipv6'), [{ afi: 2, safi: 1 }, { afi: 1, safi: 1 }]);
  assert.deepEqual(parseFamilies('IPv4-unicast'), [{ afi: 1, safi: 1 }]);
  refuses(() => parseFamilies('ipv4,l2vpn'), /^"l2vpn" is not an address family/);
  refuses(() => parseFamilies('constructor'), /^"constructor" is not an address family/);
});

test('addresses are canonical (what a socket reports for the same peer), brackets and zones allowed', () => {
  assert.equal(parseAddress('[2001:DB8:0:0::1]'), '2001:db8::1');
  assert.equal(parseAddress('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(parseAddress('192.0.2.1'), '192.0.2.1');
  assert.equal(parseAddress('FE80:0::1%eth0'), 'fe80::1%eth0');
  for (const bad of ['192.0.2.300', '[192.0.2.1', '192.0.2.1%eth0', 'fe80::1%', '', 'host']) refuses(() => parseAddress(bad), /^".*" is not an IP address\.$/, bad);
});

test('a BGP peer is unicast (loopback allowed: a daemon on this host); link-local needs its zone', () => {
  assert.equal(parsePeerAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(parsePeerAddress('[::1]'), '::1');
  assert.equal(parsePeerAddress('fe80::1%eth0'), 'fe80::1%eth0');
  assert.equal(parsePeerAddress('2001:DB8::2'), '2001:db8::2');
  refuses(() => parsePeerAddress('fe80::1'), /^fe80::1 is link-local: name its interface, as in fe80::1%eth0\.$/);
  for (const [bad, why] of [['0.0.0.0', /"this network"/], ['224.0.0.5', /multicast/], ['255.255.255.255', /broadcast/], ['::', /unspecified/], ['ff02::2', /multicast/]] as const) {
    refuses(() => parsePeerAddress(bad), new RegExp(`${why.source}.*: a BGP peer has a unicast address\\.$`), bad);
  }
});

test('a source address is of the peer\'s family', () => {
  assert.equal(parseSourceAddress('2001:DB8::5', '2001:db8::1'), '2001:db8::5');
  assert.equal(parseSourceAddress('192.0.2.5', '192.0.2.1'), '192.0.2.5');
  refuses(() => parseSourceAddress('2001:db8::5', '192.0.2.1'), /^source address 2001:db8::5 is IPv6 but the peer 192\.0\.2\.1 is IPv4; give an address of the peer's family\.$/);
  refuses(() => parseSourceAddress('nowhere', '192.0.2.1'), /^"nowhere" is not an IP address\.$/);
});

test('a cluster address (member, requested service IP) is unicast, not loopback, without a zone', () => {
  assert.equal(parseUnicastAddress('2001:DB8::10', 'a member'), '2001:db8::10');
  refuses(() => parseUnicastAddress('127.0.0.1', 'a member'), /^127\.0\.0\.1 is a loopback address: a member has a unicast address\.$/);
  refuses(() => parseUnicastAddress('ff02::1', 'a service address'), /multicast address: a service address has a unicast address\.$/);
  refuses(() => parseUnicastAddress('fe80::1%eth0', 'a member'), /^"fe80::1%eth0" has an IPv6 zone \(%eth0\)/);
});

test('Kubernetes names: namespaces (RFC 1123 label), Service names (RFC 1035 label), node names (RFC 1123 subdomain)', () => {
  assert.equal(parseNamespace('kube-system'), 'kube-system');
  assert.equal(parseNamespace('1st'), '1st');
  assert.equal(parseNamespace('a'.repeat(63)), 'a'.repeat(63));
  for (const bad of ['Shop', '-shop', 'shop-', 'sh_op', 'a.b', '', 'a'.repeat(64)]) refuses(() => parseNamespace(bad), /is not a namespace name: lower-case letters, digits and '-'/, bad);
  assert.deepEqual(parseServiceName('shop/web'), { namespace: 'shop', name: 'web' });
  for (const bad of ['web', 'a/b/c', '/web']) refuses(() => parseServiceName(bad), /is not namespace\/name of a Service, like shop\/web\.|is not a namespace name/, bad);
  refuses(() => parseServiceName('shop/1web'), /^"1web" is not a Service name: .*starting with a letter/);
  refuses(() => parseServiceName('shop/'), /^"" is not a Service name/);
  refuses(() => parseServiceName('Shop/web'), /^"Shop" is not a namespace name/);
  assert.equal(parseNodeName('node1.example.com'), 'node1.example.com');
  for (const bad of ['Node1', 'node_1', 'node1.', '.node1', `${'a'.repeat(63)}.`.repeat(4) + 'a']) refuses(() => parseNodeName(bad), /is not a node name/, bad);
});

test('Kubernetes label keys and values', () => {
  for (const key of ['zone', 'topology.kubernetes.io/zone', 'Zone_A.b-1', 'a', `example.com/${'k'.repeat(63)}`]) assert.equal(parseLabelKey(key), key);
  for (const bad of ['', '-zone', 'zone-', 'a/', '/a', 'Example.com/a', 'a b', 'k'.repeat(64), 'a/b/c']) refuses(() => parseLabelKey(bad), /is not a label key/, bad);
  for (const value of ['', 'a', 'eu-west_1.b', 'v'.repeat(63)]) assert.equal(parseLabelValue(value), value);
  for (const bad of ['-a', 'a-', 'a b', 'a/b', 'v'.repeat(64)]) refuses(() => parseLabelValue(bad), /is not a label value: empty, or up to 63/, bad);
});

test('readValue turns a refusal into a problem at the value, and lets a bug through', () => {
  const problems: Problem[] = [];
  const at = { source: '--peer #1', column: 14 };
  assert.equal(readValue(parseAsn, '1.10', at, problems), 65546);
  assert.equal(readValue(parseAsn, 'AS1', at, problems), undefined);
  assert.deepEqual(problems, [{ severity: 'error', at, message: '"AS1" is not an AS number: expected 1 to 4294967295 (asplain) or 0.1 to 65535.65535 (asdot).' }]);
  assert.throws(() => readValue(() => { throw new TypeError('a bug'); }, 'x', at, problems), TypeError);
});
