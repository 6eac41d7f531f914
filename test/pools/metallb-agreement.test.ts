/**
 * vipkit pools against MetalLB's own verdicts (issue 14): each case names the MetalLB file
 * that states its rule. Tags: v0.12 = the legacy ConfigMap parser, v0.16.1 = the CRD
 * validation shared by the webhooks and the controller.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfig, sortProblems } from '../../src/pools/check.js';
import { readServices } from '../../src/pools/services.js';
import { described, loadText } from './helpers.js';

/** Every problem reading and checking finds, as "severity file:line:column message". */
function problemsIn(text: string, options: { nodes?: string[]; services?: string } = {}): string[] {
  const source = loadText(text);
  const services = options.services === undefined ? [] : readServices(options.services, 'svc.yaml', source.problems);
  return described(sortProblems([...source.problems, ...checkConfig(source.config, { nodeAddresses: options.nodes ?? [], services })]));
}

/** A MetalLB resource in metallb-system; `spec` is YAML indented by two spaces. */
function resource(kind: string, name: string, spec: string, apiVersion = kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1'): string {
  return `---\napiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: metallb-system\nspec:\n${spec}`;
}

const L2_ALL = resource('L2Advertisement', 'all', '  ipAddressPools: []\n');

// --- Multi-document manifests with other Kubernetes objects --------------------------------

test('a manifest also holding a Namespace, a Node, a Secret and another ConfigMap reads only MetalLB objects (internal/config/config.go ClusterResources)', () => {
  const manifest = [
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: metallb-system\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n',
    '---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node1\n  labels: {zone: a}\n',
    '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: bgp-password\n  namespace: metallb-system\ntype: kubernetes.io/basic-auth\nstringData:\n  password: s3cret\n',
    '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bgp-extras\n  namespace: metallb-system\ndata:\n  extras: ""\n',
    '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: controller\nspec: {}\n',
    resource('IPAddressPool', 'p', '  addresses: [10.0.0.64/27]\n'),
    L2_ALL,
  ].join('');
  const source = loadText(manifest);
  assert.deepEqual(described(source.problems), []);
  assert.deepEqual(source.config.pools.map((pool) => [pool.name, pool.protocols]), [['p', ['layer2']]]);
});

test("MetalLB's resources live in its namespace (internal/k8s/webhooks/webhookv1beta1: \"resource must be created in ... namespace\")", () => {
  const elsewhere = resource('IPAddressPool', 'p', '  addresses: [10.0.0.64/27]\n').replace('metallb-system', 'lb');
  assert.deepEqual(problemsIn(elsewhere + L2_ALL.replace('metallb-system', 'lb')), [
    'warning in.yaml:6:14 IPAddressPool "p" is in namespace "lb"; MetalLB accepts its resources only in the namespace it runs in, metallb-system unless installed elsewhere.',
  ]);
  assert.deepEqual(problemsIn(resource('IPAddressPool', 'p', '  addresses: [10.0.0.64/27]\n') + L2_ALL.replace('metallb-system', 'lb')), [
    'error in.yaml:14:14 L2Advertisement "all" is in namespace "lb" but the resource at in.yaml:6:14 is in "metallb-system"; MetalLB accepts its resources only in the one namespace it runs in.',
  ]);
});

test('v0.13 AddressPool: read like a legacy pool, with a warning that v0.14 removed it (v0.13.12 internal/config/config.go addressPoolFromLegacyCR)', () => {
  const text = resource('AddressPool', 'old', '  protocol: bgp\n  addresses: [10.0.0.64/27]\n  autoAssign: false\n  bgpAdvertisements:\n  - aggregationLength: 27\n    localPref: 100\n');
  const source = loadText(text);
  assert.deepEqual(described(source.problems), [
    'warning in.yaml:3:7 AddressPool is MetalLB v0.13\'s legacy pool, removed in v0.14; "vipkit pools convert --to crds" writes it as an IPAddressPool and an advertisement.',
  ]);
  const [pool] = source.config.pools;
  assert.deepEqual([pool!.name, pool!.protocols, pool!.autoAssign, pool!.bgpAdvertisements.map((ad) => [ad.aggregationLength, ad.localPref])], ['old', ['bgp'], false, [[27, 100]]]);
  assert.deepEqual(problemsIn(resource('AddressPool', 'l2', '  protocol: layer2\n  addresses: [10.0.0.64/27]\n  bgpAdvertisements: [{}]\n')).slice(1), [
    'error in.yaml:10:22 AddressPool "l2" is layer2, so its bgpAdvertisements are never used; remove them or set protocol: bgp.',
  ]);
});
