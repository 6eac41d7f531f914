/**
 * The whole cluster watched against a real API server (1.20) with MetalLB's resources
 * served (minimal CustomResourceDefinitions): the snapshot, read by the same function
 * `vipkit run` reads its files with, gives each Service an address from the cluster's
 * IPAddressPool, and follows edits of endpoints and node labels.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { ClusterSnapshot } from '../../src/kubernetes/cluster-snapshot.js';
import { readClusterConfig } from '../../src/speaker/cluster-config.js';
import { CLIENT_HOST, kubeLabTest, kubernetesList as list, metallbCrd as crd, sharedKubeLab, type Notification } from '../helpers/kubernetes-lab.js';


function readSnapshot(snapshot: ClusterSnapshot, nodeName: string) {
  const self = snapshot.nodes.find((node) => node.name === nodeName)!;
  return readClusterConfig({
    nodeName,
    nodeLabels: Object.entries(self.labels).map(([key, value]) => `${key}=${value}`).join(','),
    members: snapshot.nodes.filter((node) => node.name !== nodeName).map((node) => `${node.name}=${node.internalIps[0]}`),
    pools: [],
    configFiles: snapshot.metallb ? [snapshot.metallb] : [],
    services: [],
    serviceFiles: [snapshot.services],
  });
}

describe('the cluster watched as one, against kube-apiserver 1.20 with MetalLB resources', () => {
  const kube = sharedKubeLab();

  kubeLabTest('Services get addresses from the IPAddressPool; endpoint and node label edits give new snapshots', async () => {
    const { api, client } = kube();
    await api.apply(CLIENT_HOST, list([crd('IPAddressPool', 'ipaddresspools', 'v1beta1'), crd('L2Advertisement', 'l2advertisements', 'v1beta1'), crd('BGPPeer', 'bgppeers', 'v1beta2')]));
    const established = await api.kubectl(CLIENT_HOST, ['wait', '--for=condition=established', '--timeout=30s', 'crd/ipaddresspools.metallb.io', 'crd/l2advertisements.metallb.io', 'crd/bgppeers.metallb.io']);
    assert.equal(established.code, 0, established.stderr);
    assert.equal((await api.kubectl(CLIENT_HOST, ['create', 'namespace', 'metallb-system'])).code, 0);
    await api.apply(
      CLIENT_HOST,
      list([
        { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'prod', namespace: 'metallb-system' }, spec: { addresses: ['203.0.113.16/28'] } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'prod', namespace: 'metallb-system' }, spec: { ipAddressPools: ['prod'], nodeSelectors: [{ matchLabels: { speaker: 'yes' } }] } },
        { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1', labels: { speaker: 'yes' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } },
        { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node2', labels: { speaker: 'no' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.12' }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] } },
        {
          apiVersion: 'discovery.k8s.io/v1beta1',
          kind: 'EndpointSlice',
          metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['198.51.100.10'], conditions: { ready: true }, topology: { 'kubernetes.io/hostname': 'node1' } }],
        },
      ]),
    );
    const watch = await client.clusterWatch();
    assert.deepEqual(watch.apiVersion.split(' ').sort(), ['bgppeers.metallb.io', 'endpointslices.discovery.k8s.io', 'ipaddresspools.metallb.io', 'l2advertisements.metallb.io', 'namespaces.core', 'nodes.core', 'services.core']);
    const isSnapshot = (check: (snapshot: ClusterSnapshot) => boolean) => (notification: Notification) => notification.event === 'snapshot' && check(notification.snapshot!);

    const first = await watch.waitFor('a snapshot with web', isSnapshot((snapshot) => snapshot.services.text.includes('"web-1"')));
    const { config, problems } = readSnapshot(first.snapshot!, 'node1');
    assert.deepEqual(problems.filter((problem) => problem.severity === 'error'), []);
    assert.deepEqual(config.services.map((service) => [service.key, service.ips, service.pool, service.endpointNodes && [...service.endpointNodes]]), [['default/web', ['203.0.113.16'], 'prod', ['node1']]]);
    assert.equal(first.connected, true);

    let seen = watch.notifications.length;
    await api.apply(
      CLIENT_HOST,
      JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1beta1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['198.51.100.10'], conditions: { ready: false }, topology: { 'kubernetes.io/hostname': 'node1' } },
          { addresses: ['198.51.100.11'], conditions: { ready: true }, topology: { 'kubernetes.io/hostname': 'node2' } },
        ],
      }),
    );
    const moved = await watch.waitFor('the endpoint on node2', isSnapshot((snapshot) => snapshot.services.text.includes('198.51.100.11')), seen);
    assert.deepEqual([...readSnapshot(moved.snapshot!, 'node1').config.services[0]!.endpointNodes!], ['node2']);

    seen = watch.notifications.length;
    assert.equal((await api.kubectl(CLIENT_HOST, ['label', '--overwrite', 'node', 'node2', 'speaker=yes'])).code, 0);
    const relabelled = await watch.waitFor('node2 labelled', isSnapshot((snapshot) => snapshot.nodes.find((node) => node.name === 'node2')?.labels.speaker === 'yes'), seen);
    assert.ok(relabelled.snapshot!.metallb!.text.includes('"speaker":"yes"'));

    seen = watch.notifications.length;
    assert.equal((await api.kubectl(CLIENT_HOST, ['delete', 'service', 'web'])).code, 0);
    const deleted = await watch.waitFor('web deleted', isSnapshot((snapshot) => !snapshot.services.text.includes('"web"')), seen);
    assert.deepEqual(readSnapshot(deleted.snapshot!, 'node1').config.services, []);
    assert.ok(!deleted.snapshot!.services.text.includes('web-1'), "a deleted Service's EndpointSlices are left out with it");
  });
});
