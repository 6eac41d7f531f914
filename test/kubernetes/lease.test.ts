/**
 * Leader election's handling of races, against a scripted server (the real API server's
 * acceptance of the Lease and its MicroTimes is tested in writes-api-server.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lease } from '../../src/kubernetes/api-objects.js';
import { LeaderElection } from '../../src/kubernetes/lease.js';
import { json, serveForTest, status } from '../helpers/fake-api-server.js';


const held = (holder: string, renewTime: string): Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'vipkit', namespace: 'metallb-system', resourceVersion: '7' },
  spec: { holderIdentity: holder, leaseDurationSeconds: 10, acquireTime: renewTime, renewTime, leaseTransitions: 3 },
});

test('losing the race to create or to update is "not leader", not an error', async (t) => {
  let lease: Lease | undefined;
  const { server, client } = await serveForTest(t, (request, response) => {
    if (request.method === 'GET') return lease === undefined ? status(response, 404, 'NotFound', 'leases "vipkit" not found') : json(response, 200, lease);
    if (request.method === 'POST') return status(response, 409, 'AlreadyExists', 'leases "vipkit" already exists');
    status(response, 409, 'Conflict', 'the object has been modified');
  });
  let now = 0;
  const election = new LeaderElection(client, { namespace: 'metallb-system', name: 'vipkit', identity: 'node2', leaseDurationSeconds: 10, now: () => now });
  assert.deepEqual(await election.tryAcquireOrRenew(), { leader: false });
  lease = held('node1', '2026-12-04T23:00:00.000000Z');
  assert.deepEqual(await election.tryAcquireOrRenew(), { leader: false, holder: 'node1' });
  now = 10_001;
  assert.deepEqual(await election.tryAcquireOrRenew(), { leader: false, holder: 'node1' }, 'expired on our clock, but node1 renewed first: 409');
  const put = server.requests.find((request) => request.method === 'PUT')!;
  const body = JSON.parse(put.body) as Lease;
  assert.equal(put.path, '/apis/coordination.k8s.io/v1/namespaces/metallb-system/leases/vipkit');
  assert.equal(body.metadata?.resourceVersion, '7', 'the write is conditional on the version read');
  assert.equal(body.spec?.holderIdentity, 'node2');
  assert.equal(body.spec?.leaseTransitions, 4);
  assert.match(body.spec?.renewTime ?? '', /\.\d{6}Z$/);
});

test('a renewal seen by a rival restarts its wait: expiry is judged on its own clock, not the holder\'s timestamps', async (t) => {
  let lease = held('node1', '2020-01-01T00:00:00.000000Z');
  const { client } = await serveForTest(t, (request, response) => (request.method === 'GET' ? json(response, 200, lease) : json(response, 200, JSON.parse(request.body))));
  let now = 0;
  const election = new LeaderElection(client, { namespace: 'metallb-system', name: 'vipkit', identity: 'node2', leaseDurationSeconds: 10, now: () => now });
  assert.equal((await election.tryAcquireOrRenew()).leader, false, 'a renewTime years old is not trusted: the record is new to us');
  now = 9_000;
  lease = held('node1', '2020-01-01T00:00:09.000000Z');
  assert.equal((await election.tryAcquireOrRenew()).leader, false);
  now = 18_000;
  assert.equal((await election.tryAcquireOrRenew()).leader, false, 'only 9 s since the renewal was seen');
  now = 19_001;
  assert.deepEqual(await election.tryAcquireOrRenew(), { leader: true, holder: 'node2' });
});
