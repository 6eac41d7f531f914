/**
 * A cluster's objects, as the informers hold them, read by the parsers `vipkit run`
 * already uses for files: the snapshot is the contract between src/kubernetes/ and the
 * pools model.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { EndpointSlice, KubernetesObject, Node, Service } from '../../src/kubernetes/api-objects.js';
import { clusterSnapshot } from '../../src/kubernetes/cluster-snapshot.js';
import { readServices } from '../../src/pools/services.js';
import type { Problem } from '../../src/pools/model.js';
import { readClusterConfig } from '../../src/speaker/cluster-config.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/kubernetes/fixtures/${name}`, import.meta.url), 'utf8')) as EndpointSlice;

const service = (name: string, spec: Service['spec'], annotations: Record<string, string> = {}): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '1', annotations, managedFields: [{ manager: 'kubectl' }] } as Service['metadata'],
  spec,
});
const node = (name: string, address: string, labels: Record<string, string> = {}): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  status: { addresses: [{ type: 'InternalIP', address }] },
});
const metallb = (kind: string, name: string, spec: unknown): KubernetesObject => ({ apiVersion: 'metallb.io/v1beta1', kind, metadata: { name, namespace: 'metallb-system' }, spec } as KubernetesObject);

const OBJECTS = {
  services: [
    service('web', { type: 'LoadBalancer', clusterIP: '198.18.0.10', clusterIPs: ['198.18.0.10'], ipFamilies: ['IPv4'], externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] }),
    service('db', { type: 'LoadBalancer', clusterIP: '198.18.0.11', clusterIPs: ['198.18.0.11'], ports: [{ port: 5432, protocol: 'TCP' }] }, { 'metallb.universe.tf/loadBalancerIPs': '203.0.113.20' }),
    service('internal', { type: 'ClusterIP', clusterIP: '198.18.0.12' }),
  ],
  endpointSlices: [fixture('endpointslice-v1beta1.json'), { ...fixture('endpointslice-v1.json'), metadata: { name: 'other', namespace: 'default', labels: { 'kubernetes.io/service-name': 'internal' } } }],
  nodes: [node('node2', '192.0.2.12', { zone: 'b' }), node('node1', '192.0.2.11', { zone: 'a' })],
  namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { team: 'web' } } }],
  metallb: [
    metallb('IPAddressPool', 'prod', { addresses: ['203.0.113.16/28'] }),
    metallb('L2Advertisement', 'prod-l2', { ipAddressPools: ['prod'], nodeSelectors: [{ matchLabels: { zone: 'a' } }] }),
  ],
};

test('LoadBalancer Services and their EndpointSlices only, without managedFields, sorted', () => {
  const snapshot = clusterSnapshot(OBJECTS);
  // One JSON document per object: a re-read parses again only the objects that changed.
  const items = snapshot.services.text.split('\n---\n').map((text) => JSON.parse(text) as KubernetesObject);
  assert.deepEqual(items.map((item) => `${item.kind} ${item.metadata?.name}`), ['Service db', 'Service web', 'EndpointSlice web-1']);
  assert.deepEqual(snapshot.serviceObjects.map((service) => service.metadata?.name), ['db', 'web']);
  assert.ok(!snapshot.services.text.includes('managedFields'));
  assert.deepEqual(snapshot.nodes.map((view) => view.name), ['node1', 'node2']);
  const reversed = clusterSnapshot({ ...OBJECTS, services: [...OBJECTS.services].reverse(), nodes: [...OBJECTS.nodes].reverse(), metallb: [...OBJECTS.metallb].reverse() });
  assert.deepEqual(reversed, snapshot, 'the same cluster gives the same text, whatever order the informers hold it in');
});

test('readServices reads the snapshot: claims, requested IPs, and the Local service\'s ready nodes from the v1beta1 slice', () => {
  const problems: Problem[] = [];
  const claims = readServices(clusterSnapshot(OBJECTS).services.text, 'kubernetes:services', problems);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    claims.map((claim) => [claim.key, claim.requestedIps, claim.localTraffic ?? false, claim.endpointNodes]),
    [
      ['default/db', ['203.0.113.20'], false, undefined],
      ['default/web', [], true, ['node1']],
    ],
  );
});

test('readClusterConfig takes the snapshot as its files: pools from the IPAddressPool, node selectors matched against the Nodes', () => {
  const snapshot = clusterSnapshot(OBJECTS);
  const { config, problems } = readClusterConfig({
    nodeName: 'node1',
    nodeLabels: 'zone=a',
    members: snapshot.nodes.filter((view) => view.name !== 'node1').map((view) => `${view.name}=${view.internalIps[0]},label=zone=${view.labels.zone}`),
    pools: [],
    configFiles: [snapshot.metallb!],
    services: [],
    serviceFiles: [snapshot.services],
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(
    config.services.map((entry) => [entry.key, entry.ips, entry.pool, entry.layer2?.nodeSelectors?.length, entry.endpointNodes && [...entry.endpointNodes]]),
    [
      ['default/db', ['203.0.113.20'], 'prod', 1, undefined],
      ['default/web', ['203.0.113.16'], 'prod', 1, ['node1']],
    ],
  );
  assert.deepEqual(config.members.map((member) => [member.name, member.address]), [['node2', '192.0.2.12']]);
});

test('without MetalLB resources there is no config file (pools come from flags then)', () => {
  const snapshot = clusterSnapshot({ ...OBJECTS, metallb: [] });
  assert.equal(snapshot.metallb, undefined);
});
