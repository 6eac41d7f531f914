import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bird } from '../../src/lab/bgp-daemons.js';
import { KubeApiServer, kubeApiServerUnavailableReason } from '../../src/lab/kube-apiserver.js';
import { Lab } from '../../src/lab/lab.js';
import { parseBirdRoutes } from '../helpers/bird-routes.js';
import { endpointSlice, kubeLabTest, kubernetesList } from '../helpers/kubernetes-lab.js';
import { labUnavailableReason } from '../helpers/root.js';
import { startVipkitJson, until, type VipkitProcess } from '../helpers/vipkit-process.js';

/**
 * `vipkit run --kubeconfig` in BGP mode against a real API server (1.20) and BIRD, with the
 * same flags on both nodes, as a DaemonSet starts them: the pool, its BGPAdvertisement and
 * the BGPPeer are MetalLB's resources under deploy/'s CRDs, the members are the Nodes. A
 * Service created with kubectl gets an address and its route reaches BIRD from every node
 * the peer's node selector takes (read back with birdc); externalTrafficPolicy Local
 * follows the ready endpoint; a Node label removed takes that node's session down; a
 * deleted Service is withdrawn; none of it resets the other sessions.
 */
const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const NODES = ['node1', 'node2'];
const SPEC = {
  hosts: [
    { name: 'api', addresses: ['192.0.2.5/24'] },
    { name: 'router', addresses: ['192.0.2.1/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
    { name: 'node2', addresses: ['192.0.2.12/24'] },
  ],
};
const BGP_LABEL = 'example.com/bgp';

/** One BGP protocol per node, so that `show route` names each path's node. */
const BIRD_CONFIG = [
  'router id 192.0.2.1;',
  'protocol device {}',
  'template bgp speaker { local 192.0.2.1 as 65002; ipv4 { import all; export none; }; }',
  ...NODES.map((node, index) => `protocol bgp ${node} from speaker { neighbor 192.0.2.${11 + index} as 64800; }`),
].join('\n');

const service = (name: string, spec: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

describe('vipkit run (BGP) on Kubernetes', { skip: labUnavailableReason() ?? kubeApiServerUnavailableReason() }, () => {
  let lab: Lab;
  let api: KubeApiServer;
  let bird: Bird | undefined;
  const speakers: VipkitProcess[] = [];
  const sockets = mkdtempSync(join(tmpdir(), 'vipkit-run-kubernetes-bgp-'));

  before(async () => {
    lab = await Lab.create(SPEC);
    api = await KubeApiServer.start(lab, { host: 'api', address: '192.0.2.5' });
  });
  after(async () => {
    for (const speaker of speakers) speaker.child.kill('SIGKILL');
    await api?.stop();
    await lab?.destroy();
    rmSync(sockets, { recursive: true, force: true });
  });

  /** prefix -> the nodes BIRD has a path from, sorted; as JSON, to compare whole. */
  const paths = async (): Promise<string> => {
    const byPrefix = new Map<string, string[]>();
    for (const route of parseBirdRoutes(await bird!.birdc('show', 'route', 'all'))) byPrefix.set(route.prefix, [...(byPrefix.get(route.prefix) ?? []), route.protocol].sort());
    return JSON.stringify([...byPrefix].sort());
  };
  const expect = (routes: Record<string, string[]>) => JSON.stringify(Object.entries(routes).sort());
  /** When BIRD's protocol for `node` reached Established: its session uptime. */
  const since = async (node: string) => /^\S+\s+BGP\s+\S+\s+\w+\s+(\S+ \S+|\S+)\s+Established/m.exec(await bird!.birdc('show', 'protocols', node))?.[1];

  kubeLabTest("a Service's route reaches BIRD from the nodes the BGPPeer selects; endpoints, Node labels and deletions move it without resetting other sessions", async () => {
    const crds = await api.kubectl('api', ['apply', '-f', `${DEPLOY}crds.yaml`]);
    assert.equal(crds.code, 0, crds.stderr);
    const established = await api.kubectl('api', ['wait', '--for=condition=established', '--timeout=30s', 'crd/ipaddresspools.metallb.io', 'crd/bgppeers.metallb.io', 'crd/bgpadvertisements.metallb.io']);
    assert.equal(established.code, 0, established.stderr);
    assert.equal((await api.kubectl('api', ['create', 'namespace', 'metallb-system'])).code, 0);
    await api.apply(
      'api',
      kubernetesList([
        { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'web', namespace: 'metallb-system' }, spec: { addresses: ['203.0.113.0/28'], avoidBuggyIPs: true } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'web', namespace: 'metallb-system' }, spec: { ipAddressPools: ['web'], communities: ['64800:100'] } },
        { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'router', namespace: 'metallb-system' }, spec: { myASN: 64800, peerASN: 65002, peerAddress: '192.0.2.1', nodeSelectors: [{ matchLabels: { [BGP_LABEL]: 'metallb' } }] } },
        ...NODES.map((node, index) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { [BGP_LABEL]: 'metallb' } }, status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${11 + index}` }] } })),
      ]),
    );
    bird = await Bird.start(lab, 'router', BIRD_CONFIG);
    // The same flags on every node, as deploy/vipkit.yaml's DaemonSet gives them: no router id, no member list.
    for (const node of NODES) speakers.push(startVipkitJson(lab, node, ['run', '--json', '--kubeconfig', api.kubeconfig, '--node-name', node, '--socket', join(sockets, `${node}.sock`)]));
    for (const speaker of speakers) await until('the speaker establishes its session with BIRD', () => speaker.events.some((event) => event.event === 'sessionUp') || speaker.child.exitCode !== null);
    for (const speaker of speakers) assert.equal(speaker.child.exitCode, null, speaker.stderr());
    const uptime = await Promise.all(NODES.map(since));

    // kubectl creates a Service without an address: the elected speaker gives it the pool's first, and both nodes announce it.
    await api.apply('api', kubernetesList([service('web'), endpointSlice('web', 'node1')]));
    await until('BIRD has 203.0.113.1 from both nodes', async () => (await paths()) === expect({ '203.0.113.1/32': NODES }));
    const ingress = async (name: string) => (await api.kubectl('api', ['get', 'service', name, '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).stdout.trim();
    await until("web's status holds 203.0.113.1", async () => (await ingress('web')) === '203.0.113.1');
    for (const route of parseBirdRoutes(await bird.birdc('show', 'route', 'all'))) {
      assert.equal(route.bgp['as_path'], '64800', route.protocol);
      assert.equal(route.bgp['community'], '(64800,100)', route.protocol);
      assert.equal(route.bgp['next_hop'], `192.0.2.${11 + NODES.indexOf(route.protocol)}`);
    }

    // externalTrafficPolicy Local: only the node with the ready endpoint, and it follows the endpoint.
    await api.apply('api', kubernetesList([service('local', { externalTrafficPolicy: 'Local', loadBalancerIP: '203.0.113.5' }), endpointSlice('local', 'node2')]));
    await until('BIRD has the Local service from node2 alone', async () => (await paths()) === expect({ '203.0.113.1/32': NODES, '203.0.113.5/32': ['node2'] }));
    await api.apply('api', JSON.stringify(endpointSlice('local', 'node1')));
    await until('the Local service moves to node1 with its endpoint', async () => (await paths()) === expect({ '203.0.113.1/32': NODES, '203.0.113.5/32': ['node1'] }));
    assert.deepEqual(await Promise.all(NODES.map(since)), uptime, "BIRD's sessions were not reset");

    // node2 loses the label the BGPPeer selects: its session goes, node1's stays.
    assert.equal((await api.kubectl('api', ['label', 'node', 'node2', `${BGP_LABEL}-`])).code, 0);
    await until('BIRD has no path from node2', async () => (await paths()) === expect({ '203.0.113.1/32': ['node1'], '203.0.113.5/32': ['node1'] }));
    assert.equal(await since('node1'), uptime[0], "node1's session was not reset");

    // Deleting a Service withdraws its route.
    assert.equal((await api.kubectl('api', ['delete', 'service', 'web'])).code, 0);
    await until('BIRD has no route for the deleted Service', async () => (await paths()) === expect({ '203.0.113.5/32': ['node1'] }));
    assert.equal(await since('node1'), uptime[0], "node1's session was not reset");
    for (const speaker of speakers) assert.equal(await speaker.stop(), 0, speaker.stderr());
  }, { timeout: 240_000 });
});
