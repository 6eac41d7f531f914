import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Allocator, planAllocations, type AllocationPlan } from '../../src/pools/allocator.js';
import type { Pool } from '../../src/pools/model.js';
import type { ServiceClaim } from '../../src/pools/services.js';
import { loadText } from './helpers.js';

function pools(...flags: string[]): Pool[] {
  const source = loadText('', { pools: flags });
  assert.deepEqual(source.problems, []);
  return source.config.pools;
}

function service(key: string, fields: Partial<ServiceClaim> = {}): ServiceClaim {
  const [namespace = 'default'] = key.split('/');
  return { key, namespace, labels: {}, families: [4], preferDualStack: false, requestedIps: [], currentIps: [], backendKey: '', ports: ['TCP/80'], at: { source: 's', column: 1 }, ...fields };
}

const brief = (plan: AllocationPlan) => [...plan].map((a) => `${a.service} ${a.ips.join(',') || '-'} ${a.pool ?? '-'}${a.error ? ` ${a.error}` : ''}`);

test('lowest free address first; a pool runs out with a reason', () => {
  const result = planAllocations(pools('small=192.0.2.1-192.0.2.2'), [service('a/x'), service('a/y'), service('a/z')]);
  assert.deepEqual(brief(result), ['a/x 192.0.2.1 small', 'a/y 192.0.2.2 small', 'a/z - - pool small is exhausted.']);
});

test('avoid-buggy-ips skips .0 and .255, across a /24 boundary', () => {
  const result = planAllocations(pools('p=192.0.2.254-198.51.100.1,avoid-buggy-ips=true'), [service('a/1'), service('a/2'), service('a/3')]);
  assert.deepEqual([...result].map((a) => a.ips[0]), ['192.0.2.254', '192.0.3.1', '192.0.3.2']);
});

test('requested addresses: honoured, outside every pool, or in another pool than annotated', () => {
  const result = planAllocations(pools('a=192.0.2.0/30', 'b=198.51.100.0/30'), [
    service('ns/first'),
    service('ns/wants', { requestedIps: ['192.0.2.0'] }),
    service('ns/outside', { requestedIps: ['10.0.0.99'] }),
    service('ns/wrong-pool', { requestedIps: ['192.0.2.2'], pool: 'b' }),
  ]);
  assert.deepEqual(brief(result), [
    'ns/first 192.0.2.1 a',
    'ns/outside - - requested 10.0.0.99 is not in any pool.',
    'ns/wants 192.0.2.0 a',
    'ns/wrong-pool - - requested 192.0.2.2 is in pool a, not in pool b named by the address-pool annotation.',
  ]);
});

test('sharing: same key and distinct ports share; a different key, a shared port or other pods do not', () => {
  const shared = { sharingKey: 'web' };
  const result = planAllocations(pools('p=192.0.2.10-192.0.2.12'), [
    service('a/http', { ...shared, requestedIps: ['192.0.2.10'] }),
    service('a/https', { ...shared, ports: ['TCP/443'] }),
    service('a/other-key', { sharingKey: 'db', requestedIps: ['192.0.2.10'] }),
    service('a/same-port', { ...shared, requestedIps: ['192.0.2.10'] }),
    service('a/no-key', { requestedIps: ['192.0.2.10'] }),
    service('a/local', { ...shared, ports: ['UDP/53'], backendKey: 'app=dns', requestedIps: ['192.0.2.10'] }),
  ]);
  assert.deepEqual(brief(result), [
    'a/http 192.0.2.10 p',
    'a/https 192.0.2.10 p',
    'a/local - - 192.0.2.10 is shared by a/http, which selects other pods; services sharing an address with externalTrafficPolicy Local must select the same pods.',
    'a/no-key - - 192.0.2.10 is held by a/http; to share it, give this service the allow-shared-ip annotation "web".',
    'a/other-key - - sharing key "db" differs from the key "web" of a/http, the service holding 192.0.2.10.',
    'a/same-port - - port TCP/80 on 192.0.2.10 is already used by a/http.',
  ]);
});

test('an address held without a sharing key is refused', () => {
  const result = planAllocations(pools('p=192.0.2.10/32'), [service('a/one', { currentIps: ['192.0.2.10'] }), service('a/two', { sharingKey: 'k', requestedIps: ['192.0.2.10'] })]);
  assert.equal(result.error(0), undefined);
  assert.equal(result.error(1), '192.0.2.10 is held by a/one, which does not allow sharing (no allow-shared-ip annotation).');
});

test('dual-stack services get one address of each family from one pool', () => {
  const result = planAllocations(pools('v4=192.0.2.0/30', 'dual=198.51.100.0/30,2001:db8::/64'), [
    service('a/dual', { families: [4, 6] }),
    service('a/v6', { families: [6] }),
    service('a/prefer', { families: [4, 6], preferDualStack: true, pool: 'v4' }),
  ]);
  assert.deepEqual(brief(result), ['a/dual 198.51.100.0,2001:db8:: dual', 'a/prefer 192.0.2.0 v4', 'a/v6 2001:db8::1 dual']);
  const required = planAllocations(pools('v4=192.0.2.0/30'), [service('a/dual', { families: [4, 6] })]);
  assert.deepEqual(brief(required), ['a/dual - - pool v4 has no IPv6 addresses, which this service needs.']);
});

test('auto-assign=false pools serve only services that name them; priority orders serviceAllocation pools', () => {
  const result = planAllocations(pools('manual=192.0.2.0/30,auto-assign=false', 'kept=198.51.100.0/30,namespace=team,priority=1', 'zz=203.0.113.0/30'), [
    service('other/svc'),
    service('team/svc'),
    service('team/manual', { pool: 'manual' }),
  ]);
  assert.deepEqual(brief(result), ['other/svc 203.0.113.0 zz', 'team/manual 192.0.2.0 manual', 'team/svc 198.51.100.0 kept']);
  const none = planAllocations(pools('manual=192.0.2.0/30,auto-assign=false'), [service('a/b')]);
  assert.deepEqual(brief(none), ['a/b - - no pool is auto-assign; name one with the metallb.io/address-pool annotation.']);
});

test('existing assignments are kept first, so a newcomer asking for one is refused', () => {
  const result = planAllocations(pools('p=192.0.2.1-192.0.2.3'), [
    service('a/newcomer', { requestedIps: ['192.0.2.2'] }),
    service('z/existing', { currentIps: ['192.0.2.2'] }),
    service('m/plain'),
  ]);
  assert.deepEqual(brief(result), [
    'a/newcomer - - 192.0.2.2 is held by z/existing, which does not allow sharing (no allow-shared-ip annotation).',
    'm/plain 192.0.2.1 p',
    'z/existing 192.0.2.2 p',
  ]);
});

test('the same inputs in any order give the same answer', () => {
  const claims = Array.from({ length: 40 }, (_, i) =>
    service(`ns${i % 3}/svc${i}`, { requestedIps: i % 7 === 0 ? [`192.0.2.${100 + i}`] : [], sharingKey: i % 5 === 0 ? 'k' : undefined, ports: [`TCP/${8000 + i}`] }),
  );
  const pool = pools('p=192.0.2.0/24');
  const expected = planAllocations(pool, claims);
  for (let round = 0; round < 5; round++) {
    const shuffled = [...claims].sort(() => Math.random() - 0.5);
    assert.deepEqual([...planAllocations(pool, shuffled)], [...expected]);
  }
});

test('release frees an address for the next service, and usage shows who holds what', () => {
  const allocator = new Allocator(pools('p=192.0.2.1-192.0.2.2'));
  allocator.allocate(service('a/1'));
  allocator.allocate(service('a/2'));
  allocator.release('a/1');
  assert.deepEqual(allocator.allocate(service('a/3')).ips, ['192.0.2.1']);
  assert.deepEqual(allocator.usage('p'), [
    { ip: '192.0.2.1', family: 4, services: ['a/3'] },
    { ip: '192.0.2.2', family: 4, services: ['a/2'] },
  ]);
});

test('load-balancer classes: services of another class are left alone', () => {
  const result = planAllocations(pools('p=192.0.2.0/30'), [service('a/theirs', { loadBalancerClass: 'example.com/lb' }), service('a/ours')]);
  assert.deepEqual(brief(result), ['a/ours 192.0.2.0 p', 'a/theirs - - the service has loadBalancerClass example.com/lb, and MetalLB here handles services without a class.']);
});

test('release of a shared address keeps it for the other holder; after the last, it is free again', () => {
  const allocator = new Allocator(pools('p=192.0.2.1-192.0.2.2,2001:db8::/126'));
  const shared = { sharingKey: 'web' };
  assert.deepEqual(allocator.allocate(service('a/http', shared)).ips, ['192.0.2.1']);
  assert.deepEqual(allocator.allocate(service('a/https', { ...shared, ports: ['TCP/443'] })).ips, ['192.0.2.1']);
  allocator.release('a/http');
  assert.deepEqual(allocator.usage('p'), [{ ip: '192.0.2.1', family: 4, services: ['a/https'] }]);
  // Taken after the first release, so after the index by service was built.
  assert.deepEqual(allocator.allocate(service('a/dual', { families: [4, 6] })).ips, ['192.0.2.2', '2001:db8::']);
  allocator.release('a/https');
  allocator.release('a/dual');
  assert.deepEqual(allocator.usage('p'), []);
  assert.deepEqual(allocator.allocate(service('a/next', { ...shared, ports: ['TCP/80'] })).ips, ['192.0.2.1']);
});

test('key order: namespace/name as one string, so "a-b/y" comes before "a/x"; the first claim of a key is the one planned', () => {
  const claims = [service('ab/z'), service('a/x'), service('a-b/y'), service('a/x', { pool: 'missing' })];
  const result = planAllocations(pools('p=192.0.2.0/29'), claims);
  assert.deepEqual(brief(result), ['a-b/y 192.0.2.0 p', 'a/x 192.0.2.1 p', 'ab/z 192.0.2.2 p']);
  assert.equal(result.length, 3);
  assert.equal(result.failed, 0);
  // A key that does not start with its namespace is still ordered by key.
  const odd = planAllocations(pools('p=192.0.2.0/29'), [...claims, { ...service('a/w'), namespace: 'zz' }]);
  assert.deepEqual(brief(odd), ['a-b/y 192.0.2.0 p', 'a/w 192.0.2.1 p', 'a/x 192.0.2.2 p', 'ab/z 192.0.2.3 p']);
});

test('a pool found full is asked again after a release', () => {
  const allocator = new Allocator(pools('p=192.0.2.1/32'));
  assert.deepEqual(allocator.allocate(service('a/1')).ips, ['192.0.2.1']);
  assert.equal(allocator.allocate(service('a/2')).error, 'pool p is exhausted.');
  allocator.release('a/1');
  assert.deepEqual(allocator.allocate(service('a/3')).ips, ['192.0.2.1']);
});
