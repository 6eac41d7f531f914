import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeApiServer, kubeApiServerUnavailableReason } from '../../src/lab/kube-apiserver.js';
import { Lab } from '../../src/lab/lab.js';
import { endpointSlice, kubeLabTest, kubernetesList } from '../helpers/kubernetes-lab.js';
import { labUnavailableReason } from '../helpers/root.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * deploy/ against a real API server (1.20, in the lab): the MetalLB CustomResourceDefinitions
 * are applied for real and take MetalLB's resources as its documentation writes them; the
 * DaemonSet with its RBAC passes the server's own validation (kubectl apply
 * --dry-run=server); and vipkit run reads those resources from the cluster.
 */
const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const SPEC = { hosts: [{ name: 'api', addresses: ['192.0.2.5/24'] }, { name: 'node1', addresses: ['192.0.2.11/24'] }] };

describe('deploy/ on a real API server', { skip: labUnavailableReason() ?? kubeApiServerUnavailableReason() }, () => {
  let lab: Lab;
  let api: KubeApiServer;
  const scratch = mkdtempSync(join(tmpdir(), 'vipkit-deploy-'));
  before(async () => {
    lab = await Lab.create(SPEC);
    api = await KubeApiServer.start(lab, { host: 'api', address: '192.0.2.5' });
  });
  after(async () => {
    await api?.stop();
    await lab?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  kubeLabTest("the CRDs take MetalLB's resources, the DaemonSet and RBAC are valid, and vipkit reads the resources from the cluster", async () => {
    const crds = await api.kubectl('api', ['apply', '-f', `${DEPLOY}crds.yaml`]);
    assert.equal(crds.code, 0, crds.stderr);
    const kinds = ['ipaddresspools', 'l2advertisements', 'bgpadvertisements', 'bgppeers', 'communities', 'bfdprofiles'];
    const established = await api.kubectl('api', ['wait', '--for=condition=established', '--timeout=30s', ...kinds.map((kind) => `crd/${kind}.metallb.io`)]);
    assert.equal(established.code, 0, established.stderr);

    // A server dry run does not create the Namespace the rest lives in: it is made first.
    assert.equal((await api.kubectl('api', ['create', 'namespace', 'vipkit-system'])).code, 0);
    const daemonSet = await api.kubectl('api', ['apply', '--dry-run=server', '-f', `${DEPLOY}vipkit.yaml`]);
    assert.equal(daemonSet.code, 0, daemonSet.stderr);
    assert.match(daemonSet.stdout, /daemonset\.apps\/vipkit created \(server dry run\)/);
    assert.match(daemonSet.stdout, /clusterrole\.rbac\.authorization\.k8s\.io\/vipkit created \(server dry run\)/);

    assert.equal((await api.kubectl('api', ['create', 'namespace', 'metallb-system'])).code, 0);
    await api.apply(
      'api',
      kubernetesList([
        { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1', labels: { 'example.com/bgp': 'metallb' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'web', namespace: 'metallb-system' }, spec: { addresses: ['203.0.113.0/28'], avoidBuggyIPs: true, serviceAllocation: { priority: 50, namespaces: ['default'] } } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'Community', metadata: { name: 'communities', namespace: 'metallb-system' }, spec: { communities: [{ name: 'vpn-only', value: '64800:100' }] } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: { name: 'fast', namespace: 'metallb-system' }, spec: { receiveInterval: 50, transmitInterval: 50, detectMultiplier: 3 } },
        { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'router', namespace: 'metallb-system' }, spec: { myASN: 64800, peerASN: 65002, peerAddress: '192.0.2.1', holdTime: '90s', nodeSelectors: [{ matchLabels: { 'example.com/bgp': 'metallb' } }] } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'web', namespace: 'metallb-system' }, spec: { ipAddressPools: ['web'], communities: ['vpn-only'], localPref: 100 } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] } },
        endpointSlice('web', 'node1'),
      ]),
    );
    // A resource the schema refuses is refused by the server, as MetalLB's CRDs refuse it.
    const bad = join(scratch, 'bad-peer.json');
    writeFileSync(bad, JSON.stringify({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'bad', namespace: 'metallb-system' }, spec: { myASN: 64800, peerAddress: '192.0.2.1', peerPort: 20000 } }));
    const refused = await api.kubectl('api', ['apply', '-f', bad]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /peerPort/);

    const dryRun = await lab.exec('node1', [process.execPath, VIPKIT, 'run', '--kubeconfig', api.kubeconfig, '--node-name', 'node1', '--dry-run', '--json']);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    const route = dryRun.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['event'] === 'route');
    assert.deepEqual([route?.['service'], route?.['ip'], route?.['prefixes']], ['default/web', '203.0.113.1', ['203.0.113.1/32']]);
  });
});
