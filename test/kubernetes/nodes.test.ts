import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from '../../src/kubernetes/api-objects.js';
import { mayAnnounce, readNode } from '../../src/kubernetes/nodes.js';

const NODE: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node1', labels: { 'kubernetes.io/hostname': 'node1', zone: 'a' } },
  status: {
    addresses: [
      { type: 'Hostname', address: 'node1' },
      { type: 'InternalIP', address: '192.0.2.11' },
      { type: 'ExternalIP', address: '203.0.113.11' },
      { type: 'InternalIP', address: '2001:db8:2::11' },
    ],
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' },
    ],
  },
};

test('a node: its InternalIPs (both families, in order), labels, and whether it may announce', () => {
  const view = readNode(NODE)!;
  assert.deepEqual(view, { name: 'node1', internalIps: ['192.0.2.11', '2001:db8:2::11'], labels: { 'kubernetes.io/hostname': 'node1', zone: 'a' }, networkUnavailable: false, excludedFromLoadBalancers: false });
  assert.equal(mayAnnounce(view), true);
});

test('NetworkUnavailable True, or the exclude label with any value, takes a node out', () => {
  const unavailable = readNode({ ...NODE, status: { ...NODE.status, conditions: [{ type: 'NetworkUnavailable', status: 'True' }] } })!;
  assert.equal(unavailable.networkUnavailable, true);
  assert.equal(mayAnnounce(unavailable), false);
  const excluded = readNode({ ...NODE, metadata: { name: 'node1', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } })!;
  assert.equal(excluded.excludedFromLoadBalancers, true);
  assert.equal(mayAnnounce(excluded), false);
  assert.equal(readNode({ ...NODE, status: { ...NODE.status, conditions: [{ type: 'NetworkUnavailable', status: 'Unknown' }] } })!.networkUnavailable, false);
});

test('a node without name is not a member; one without status has no addresses', () => {
  assert.equal(readNode({ metadata: {} }), undefined);
  assert.deepEqual(readNode({ metadata: { name: 'bare' } }), { name: 'bare', internalIps: [], labels: {}, networkUnavailable: false, excludedFromLoadBalancers: false });
});
