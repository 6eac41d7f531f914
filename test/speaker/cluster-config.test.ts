import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readClusterConfig, type ClusterInput } from '../../src/speaker/cluster-config.js';

/** MetalLB's resources as run reads them from --config: how each advertisement scopes its pool's services. */
const RESOURCES = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: l2, namespace: metallb-system }
spec: { addresses: [192.0.2.100-192.0.2.110] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: racks, namespace: metallb-system }
spec:
  ipAddressPools: [l2]
  nodeSelectors: [{ matchLabels: { rack: a } }]
  interfaces: [eth1]
  serviceSelectors: [{ matchLabels: { exposed: "yes" } }]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: bgp, namespace: metallb-system }
spec: { addresses: [203.0.113.0/28], avoidBuggyIPs: true }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: to-core, namespace: metallb-system }
spec: { ipAddressPools: [bgp], peers: [core], communities: ["64800:100"], localPref: 200, nodeSelectors: [{ matchLabels: { bgp: "on" } }] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: core, namespace: metallb-system }
spec: { myASN: 64800, peerASN: 65002, peerAddress: 192.0.2.1 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: edge, namespace: metallb-system }
spec: { myASN: 64800, peerASN: 65003, peerAddress: 192.0.2.2 }
`;

const service = (name: string, ip: string, labels = '') =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: default\n${labels ? `  labels: { ${labels} }\n` : ''}spec:\n  type: LoadBalancer\n  loadBalancerIP: ${ip}\n  ports: [{ port: 80 }]\n`;

function read(services: string): ReturnType<typeof readClusterConfig> {
  const input: ClusterInput = { nodeName: 'node1', members: [], pools: [], configFiles: [{ path: 'metallb.yaml', text: RESOURCES }], services: [], serviceFiles: [{ path: 'services.yaml', text: services }] };
  return readClusterConfig(input);
}

test("an L2Advertisement's node selectors, interfaces and service selectors scope the services it covers; one it does not cover is not announced at Layer 2", () => {
  const { config, problems } = read(service('shown', '192.0.2.100', 'exposed: "yes"') + '---\n' + service('hidden', '192.0.2.101'));
  assert.deepEqual(problems.filter((problem) => problem.severity === 'error'), []);
  const shown = config.services.find((candidate) => candidate.key === 'default/shown')!;
  assert.deepEqual(shown.layer2, { nodeSelectors: [{ matchLabels: { rack: 'a' }, matchExpressions: [] }], interfaces: ['eth1'] });
  const hidden = config.services.find((candidate) => candidate.key === 'default/hidden')!;
  assert.equal(hidden.layer2, undefined);
  assert.ok(problems.some((problem) => problem.severity === 'warning' && /default\/hidden .* no advertisement of the pool selects the service/.test(problem.message)));
});

test("a BGPAdvertisement's peers (by BGPPeer name), communities, localPref and node selectors become the route's policy and eligibility", () => {
  const { config } = read(service('web', '203.0.113.1'));
  const [advertising] = config.services[0]!.bgp!;
  assert.deepEqual([...advertising!.policy.peers!], ['192.0.2.1']);
  assert.deepEqual(advertising!.policy.communities, [64800 * 65536 + 100]);
  assert.equal(advertising!.policy.localPref, 200);
  assert.deepEqual(advertising!.nodeSelectors, [{ matchLabels: { bgp: 'on' }, matchExpressions: [] }]);
  assert.deepEqual(config.peers.map((peer) => peer.address).sort(), ['192.0.2.1', '192.0.2.2']);
});
