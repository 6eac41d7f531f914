/**
 * vipkit pools against MetalLB's own verdicts (issue 14): each case names the MetalLB file
 * that states its rule. Tags: v0.12 = the legacy ConfigMap parser, v0.16.1 = the CRD
 * validation shared by the webhooks and the controller.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Family } from '../../src/pools/address-range.js';
import { planAllocations, type AllocationPlan } from '../../src/pools/allocator.js';
import { checkConfig, sortProblems } from '../../src/pools/check.js';
import type { Pool } from '../../src/pools/model.js';
import { readServices, type ServiceClaim } from '../../src/pools/services.js';
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

// --- Allocation ------------------------------------------------------------------------------

function service(key: string, fields: Partial<ServiceClaim> = {}): ServiceClaim {
  const [namespace = 'default'] = key.split('/');
  return { key, namespace, labels: {}, families: [4], preferDualStack: false, requestedIps: [], currentIps: [], backendKey: '', ports: ['TCP/80'], at: { source: 's', column: 1 }, ...fields };
}

/** The pools of a source that must read without problems. */
function poolsOf(text: string, flags: string[] = []): Pool[] {
  const source = loadText(text, { pools: flags });
  assert.deepEqual(described(source.problems), []);
  return source.config.pools;
}

const brief = (plan: AllocationPlan) => [...plan].map((a) => `${a.service} ${a.ips.join(',') || '-'} ${a.pool ?? '-'}${a.error ? ` ${a.error}` : ''}`);

test('a service asking for another address than its status holds gets it when free, else loses both (controller/service.go convergeBalancer "differentIPRequested")', () => {
  const pools = poolsOf('', ['p=10.0.0.1-10.0.0.5']);
  assert.deepEqual(brief(planAllocations(pools, [service('a/moves', { currentIps: ['10.0.0.1'], requestedIps: ['10.0.0.4'] }), service('a/next')])), [
    'a/moves 10.0.0.4 p',
    'a/next 10.0.0.1 p',
  ]);
  assert.deepEqual(brief(planAllocations(pools, [service('a/holder', { currentIps: ['10.0.0.4'] }), service('b/moves', { currentIps: ['10.0.0.1'], requestedIps: ['10.0.0.4'] })])), [
    'a/holder 10.0.0.4 p',
    'b/moves - - 10.0.0.4 is held by a/holder, which does not allow sharing (no allow-shared-ip annotation).',
  ]);
  // The same address written otherwise is no change.
  assert.deepEqual(brief(planAllocations(poolsOf('', ['p=2001:db8::/126']), [service('a/same', { families: [6], currentIps: ['2001:db8::1'], requestedIps: ['2001:DB8:0::1'] })])), ['a/same 2001:db8::1 p']);
});

test('address families: requested and held addresses must be of the service\'s families (controller/service.go allocateIPs, serviceFamilyChanged)', () => {
  const pools = poolsOf('', ['dual=10.0.0.0/30,2001:db8::/126']);
  assert.deepEqual(brief(planAllocations(pools, [
    service('a/v6-asks-v4', { families: [6], requestedIps: ['10.0.0.1'] }),
    service('a/v6-holds-v4', { families: [6], currentIps: ['10.0.0.2'] }),
    service('a/dual-asks-one', { families: [4, 6], requestedIps: ['10.0.0.3'] }),
    service('a/dual', { families: [4, 6] }),
  ])), [
    'a/dual 10.0.0.0,2001:db8:: dual',
    'a/dual-asks-one - - requested 10.0.0.3 is not of the service\'s IP families (IPv4, IPv6).',
    'a/v6-asks-v4 - - requested 10.0.0.1 is not of the service\'s IP families (IPv6).',
    'a/v6-holds-v4 2001:db8::1 dual',
  ]);
  // ipfamily.go ForService: the family is that of spec.clusterIPs.
  const [claim] = readServices('apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n  clusterIPs: ["fd00::10"]\n', 's.yaml', []);
  assert.deepEqual(claim!.families, [6]);
});

test('PreferDualStack: a later pool with both families beats an earlier one with the primary only (allocator.go findBestPoolForService)', () => {
  const pools = poolsOf('', ['a-v4=10.0.0.0/30', 'b-dual=10.0.1.0/30,2001:db8::/126', 'c-v6=2001:db8:1::/126']);
  const prefer = { families: [6, 4] as Family[], preferDualStack: true };
  assert.deepEqual(brief(planAllocations(pools, [service('a/prefer', prefer)])), ['a/prefer 10.0.1.0,2001:db8:: b-dual']);
  // Without a pool of both, the primary family (the first of ipFamilies) wins: IPv6 from c-v6, not IPv4 from a-v4.
  const single = poolsOf('', ['a-v4=10.0.0.0/30', 'c-v6=2001:db8:1::/126']);
  assert.deepEqual(brief(planAllocations(single, [service('a/prefer', prefer)])), ['a/prefer 2001:db8:1:: c-v6']);
  // Holding one address, it gets the other family from the same pool (controller/service.go "tryAssignAdditionalIP").
  assert.deepEqual(brief(planAllocations(pools, [service('a/holds', { ...prefer, currentIps: ['10.0.1.2'] })])), ['a/holds 10.0.1.2,2001:db8:: b-dual']);
});

test('serviceAllocation also binds services that name the pool or an address of it (allocator.go Assign, isPoolCompatibleWithService)', () => {
  const pools = poolsOf('', ['team=10.0.0.0/30,namespace=team', 'open=10.0.1.0/30']);
  assert.deepEqual(brief(planAllocations(pools, [
    service('other/names-it', { pool: 'team' }),
    service('other/asks', { requestedIps: ['10.0.0.1'] }),
    service('other/holds', { currentIps: ['10.0.0.2'] }),
    service('team/names-it', { pool: 'team' }),
  ])), [
    'other/asks - - requested 10.0.0.1 is in pool team, whose serviceAllocation (namespaces or selectors) keeps it for other services.',
    'other/holds 10.0.1.0 open',
    'other/names-it - - the address-pool annotation names pool team, whose serviceAllocation (namespaces or selectors) keeps it for other services.',
    'team/names-it 10.0.0.0 team',
  ]);
});

test('spec.loadBalancerIP with the loadBalancerIPs annotation is refused (controller/service.go getDesiredLbIPs)', () => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations: {metallb.io/loadBalancerIPs: 10.0.0.1}\nspec:\n  type: LoadBalancer\n  loadBalancerIP: 10.0.0.2\n';
  const claims = readServices(text, 's.yaml', []);
  const pools = poolsOf('', ['p=10.0.0.0/29']);
  assert.deepEqual(brief(planAllocations(pools, claims)), [
    'default/web - - it sets both spec.loadBalancerIP and the loadBalancerIPs annotation, which MetalLB refuses; keep one of them.',
  ]);
  // A service already holding an address keeps it: the refusal comes after Assign.
  assert.deepEqual(brief(planAllocations(pools, [{ ...claims[0]!, currentIps: ['10.0.0.5'] }])), ['default/web 10.0.0.5 p']);
});

test('the first free address follows the ranges as written (allocator.go getFreeIPsFromPool walks pool.CIDR in order)', () => {
  const pools = poolsOf('', ['p=10.0.0.10/31,10.0.0.0/31,10.0.0.5-10.0.0.6']);
  assert.deepEqual(brief(planAllocations(pools, [1, 2, 3, 4, 5].map((n) => service(`a/s${n}`)))).map((line) => line.split(' ')[1]), [
    '10.0.0.10',
    '10.0.0.11',
    '10.0.0.0',
    '10.0.0.1',
    '10.0.0.5',
  ]);
  const shared = { sharingKey: 'k' };
  // A shareable address in an earlier range beats a free one in a later range.
  assert.deepEqual(brief(planAllocations(pools, [service('a/1', { ...shared, currentIps: ['10.0.0.11'] }), service('a/2', { ...shared, ports: ['TCP/443'] })])), [
    'a/1 10.0.0.11 p',
    'a/2 10.0.0.10 p',
  ]);
});

test('priority: 0 is no priority and comes last; a priority alone keeps the pool for every service (allocator.go sortPools, config.go addressPoolServiceAllocationsFromCR)', () => {
  const pools = poolsOf('', ['a-zero=10.0.0.0/30,namespace=team,priority=0', 'b-five=10.0.1.0/30,namespace=team,priority=5', 'c-open=10.0.2.0/30', 'z-any=10.0.3.0/30,priority=9']);
  assert.deepEqual(brief(planAllocations(pools, [service('team/svc'), service('other/svc')])), ['other/svc 10.0.3.0 z-any', 'team/svc 10.0.1.0 b-five']);
});

test('namespaceSelectors match the Namespaces in the files; matching none, the pool is tried for no one but still serves who names it (config.go addressPoolServiceAllocationsFromCR)', () => {
  const selected = (selector: string) =>
    resource('IPAddressPool', 'kept', `  addresses: [10.0.0.0/30]\n  serviceAllocation:\n    namespaceSelectors:\n    - matchLabels: {${selector}}\n`) +
    resource('IPAddressPool', 'open', '  addresses: [10.0.1.0/30]\n') +
    L2_ALL +
    '---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {tier: gold}\n';
  const claims = [service('shop/web'), service('blog/web'), service('blog/named', { pool: 'kept' })];
  assert.deepEqual(brief(planAllocations(poolsOf(selected('tier: gold')), claims)), [
    'blog/named - - the address-pool annotation names pool kept, whose serviceAllocation (namespaces or selectors) keeps it for other services.',
    'blog/web 10.0.1.0 open',
    'shop/web 10.0.0.0 kept',
  ]);
  assert.deepEqual(brief(planAllocations(poolsOf(selected('tier: silver')), claims)), ['blog/named 10.0.0.0 kept', 'blog/web 10.0.1.0 open', 'shop/web 10.0.1.1 open']);
});
