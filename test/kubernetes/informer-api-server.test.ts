/**
 * vipkit's list/watch against a real API server (1.20) in a lab: creations, updates and
 * deletions of Services, EndpointSlices (served as discovery.k8s.io/v1beta1 only) and
 * Nodes, each reported once; an API server restart survived without losing a change.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { readyNodesByService, readEndpointSlice } from '../../src/kubernetes/endpoint-slices.js';
import type { EndpointSlice, Node } from '../../src/kubernetes/api-objects.js';
import { readNode } from '../../src/kubernetes/nodes.js';
import { CLIENT_HOST, kubeLabTest, sharedKubeLab, type Notification } from '../helpers/kubernetes-lab.js';

function service(name: string, labels: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', labels },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }] },
  });
}

function endpointSlice(name: string, serviceName: string, endpoints: { address: string; node: string; ready: boolean }[]): string {
  return JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1beta1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 80, protocol: 'TCP' }],
    endpoints: endpoints.map(({ address, node, ready }) => ({ addresses: [address], conditions: { ready }, topology: { 'kubernetes.io/hostname': node } })),
  });
}

function node(name: string, address: string, labels: Record<string, string>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, status: { addresses: [{ type: 'InternalIP', address }, { type: 'Hostname', address: name }] } });
}

const isChange = (type: string, key: string) => (notification: Notification) => notification.event === 'change' && notification.type === type && notification.key === key;

describe('list and watch against kube-apiserver 1.20', () => {
  const kube = sharedKubeLab();

  kubeLabTest('Services, EndpointSlices and Nodes: the list, then every creation, update and deletion, each once', async () => {
    const { api, client } = kube();
    await api.apply(CLIENT_HOST, service('listed'));
    const services = await client.informer('services');
    const slices = await client.informer('endpointslices');
    const nodes = await client.informer('nodes');
    assert.equal(slices.apiVersion, 'discovery.k8s.io/v1beta1', '1.20 serves EndpointSlices as v1beta1 only, and the client found that out');
    for (const feed of [services, slices, nodes]) await feed.waitFor('first list', (notification) => notification.event === 'synced');
    assert.ok(services.changes('default/listed').some((change) => change.type === 'added'), 'a Service that existed before the watch comes from the list');

    await api.apply(CLIENT_HOST, service('web'));
    await api.apply(CLIENT_HOST, endpointSlice('web-1', 'web', [{ address: '198.51.100.10', node: 'node1', ready: true }, { address: '198.51.100.11', node: 'node2', ready: false }]));
    await api.apply(CLIENT_HOST, node('node1', '192.0.2.11', { zone: 'a' }));
    await services.waitFor('web added', isChange('added', 'default/web'));
    const slice = await slices.waitFor('web-1 added', isChange('added', 'default/web-1'));
    assert.deepEqual(readyNodesByService([slice.object as EndpointSlice]), new Map([['default/web', new Set(['node1'])]]), 'v1beta1: the node is topology["kubernetes.io/hostname"], not-ready endpoints left out');
    const added = await nodes.waitFor('node1 added', isChange('added', 'node1'));
    assert.deepEqual(readNode(added.object as Node), { name: 'node1', internalIps: ['192.0.2.11'], labels: { zone: 'a' }, networkUnavailable: false, excludedFromLoadBalancers: false });

    assert.equal((await api.kubectl(CLIENT_HOST, ['label', 'service', 'web', 'tier=front'])).code, 0);
    const labelled = await services.waitFor('web modified', isChange('modified', 'default/web'));
    assert.equal(labelled.object?.metadata?.labels?.tier, 'front');
    await api.apply(CLIENT_HOST, endpointSlice('web-1', 'web', [{ address: '198.51.100.10', node: 'node1', ready: false }, { address: '198.51.100.11', node: 'node2', ready: true }]));
    const moved = await slices.waitFor('web-1 modified', isChange('modified', 'default/web-1'));
    assert.deepEqual(readEndpointSlice(moved.object as EndpointSlice)?.endpoints.map((endpoint) => [endpoint.node, endpoint.ready]), [['node1', false], ['node2', true]]);
    assert.equal((await api.kubectl(CLIENT_HOST, ['label', 'node', 'node1', 'node.kubernetes.io/exclude-from-external-load-balancers='])).code, 0);
    const excluded = await nodes.waitFor('node1 labelled', isChange('modified', 'node1'));
    assert.equal(readNode(excluded.object as Node)?.excludedFromLoadBalancers, true);
    // kubectl 1.20 cannot write a subresource: the condition goes through the client itself.
    await client.call('request', {
      method: 'PATCH',
      path: '/api/v1/nodes/node1/status',
      options: { contentType: 'application/merge-patch+json', body: { status: { conditions: [{ type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: 'lab', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } } },
    });
    const unavailable = await nodes.waitFor('node1 network unavailable', (notification) => isChange('modified', 'node1')(notification) && readNode(notification.object as Node)!.networkUnavailable);
    assert.equal(readNode(unavailable.object as Node)?.networkUnavailable, true);

    for (const [kind, name] of [['service', 'web'], ['endpointslice', 'web-1'], ['node', 'node1']]) {
      assert.equal((await api.kubectl(CLIENT_HOST, ['delete', kind!, name!])).code, 0);
    }
    await services.waitFor('web deleted', isChange('deleted', 'default/web'));
    await slices.waitFor('web-1 deleted', isChange('deleted', 'default/web-1'));
    await nodes.waitFor('node1 deleted', isChange('deleted', 'node1'));

    assert.deepEqual(services.changes('default/web').map((change) => change.type), ['added', 'modified', 'deleted']);
    assert.deepEqual(slices.changes('default/web-1').map((change) => change.type), ['added', 'modified', 'deleted']);
    assert.deepEqual(nodes.changes('node1').map((change) => change.type), ['added', 'modified', 'modified', 'deleted']);
    for (const feed of [services, slices, nodes]) {
      assert.deepEqual(feed.notifications.filter((notification) => ['expired', 'disconnected'].includes(notification.event)), [], 'no error along the way');
    }
  });

  kubeLabTest('a watch survives an API server restart: changes made as it comes back are seen once, nothing is reported twice', async () => {
    const { api, client } = kube();
    await api.apply(CLIENT_HOST, service('steady'));
    const services = await client.informer('services');
    await services.waitFor('first list', (notification) => notification.event === 'synced');
    await api.apply(CLIENT_HOST, service('before-restart'));
    await services.waitFor('before-restart added', isChange('added', 'default/before-restart'));
    const seen = services.notifications.length;

    await api.stopApiServer();
    await services.waitFor('the watch noticing', (notification) => notification.event === 'disconnected', seen);
    await api.startApiServer();
    await api.apply(CLIENT_HOST, service('after-restart'));
    assert.equal((await api.kubectl(CLIENT_HOST, ['delete', 'service', 'before-restart'])).code, 0);
    await services.waitFor('after-restart added', isChange('added', 'default/after-restart'), seen);
    await services.waitFor('before-restart deleted', isChange('deleted', 'default/before-restart'), seen);
    await services.waitFor('reconnected', (notification) => notification.event === 'reconnected', seen);

    assert.deepEqual(services.changes('default/steady').map((change) => change.type), ['added'], 'an unchanged Service is not reported again');
    assert.deepEqual(services.changes('default/after-restart').map((change) => change.type), ['added']);
    assert.deepEqual(services.changes('default/before-restart').map((change) => change.type), ['added', 'deleted']);
    const objects = await client.call<{ metadata: { name: string } }[]>('objects', { informer: services.id });
    const names = objects.map((object) => object.metadata.name);
    assert.ok(names.includes('steady') && names.includes('after-restart') && !names.includes('before-restart'), `the store holds what the server does: ${names.join(', ')}`);
  });
});
