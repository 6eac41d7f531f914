/**
 * vipkit pools against MetalLB's own verdicts (issue 14): each case names the MetalLB file
 * that states its rule. Tags: v0.12 = the legacy ConfigMap parser, v0.16.1 = the CRD
 * validation shared by the webhooks and the controller.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Family } from '../../src/pools/address-range.js';
import { Allocator, planAllocations, type AllocationPlan } from '../../src/pools/allocator.js';
import type { BgpType } from '../../src/pools/bgp-type.js';
import { checkConfig, sortProblems } from '../../src/pools/check.js';
import { convert } from '../../src/pools/convert.js';
import type { Resource } from '../../src/pools/crds.js';
import type { Pool, PoolsConfig } from '../../src/pools/model.js';
import { readServices, type ServiceClaim } from '../../src/pools/services.js';
import { described, loadText, modelView } from './helpers.js';

/** Every problem reading and checking finds, as "severity file:line:column message". */
function problemsIn(text: string, options: { nodes?: string[]; services?: string; bgpType?: BgpType } = {}): string[] {
  const source = loadText(text, {}, options.bgpType && { legacy: options.bgpType, resources: options.bgpType });
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

test('pools of equal rank: MetalLB tries them in no fixed order, so when another could serve the service the allocation says so (allocator.go Allocate ranges over pools.ByName; pinnedPoolsForService over config.go poolsByNamespace, then sortPools\' unstable sort.Slice)', () => {
  const noted = (plan: AllocationPlan) => [...plan].map((a) => `${a.service} ${a.pool ?? '-'}${a.note ? ` ${a.note}` : ''}`);
  const open = poolsOf('', ['a=10.0.0.0/31', 'b=10.0.1.0/31']);
  assert.deepEqual(noted(planAllocations(open, [service('x/1'), service('x/2'), service('x/3'), service('x/named', { pool: 'b' })])), [
    'x/1 a MetalLB may take pool b instead: it tries pools of equal rank in no fixed order.',
    'x/2 a MetalLB may take pool b instead: it tries pools of equal rank in no fixed order.',
    // a is full: b is the only pool left, and the annotation names one.
    'x/3 b',
    'x/named b',
  ]);
  const kept = poolsOf('', ['k1=10.0.0.0/30,namespace=team,priority=1', 'k2=10.0.1.0/30,namespace=team,priority=1', 'k3=10.0.2.0/30,namespace=team,priority=2', 'o=10.0.3.0/30']);
  assert.deepEqual(noted(planAllocations(kept, [service('team/svc'), service('other/svc')])), [
    'other/svc o',
    'team/svc k1 MetalLB may take pool k2 instead: it tries pools of equal rank in no fixed order.',
  ]);
  assert.deepEqual(noted(planAllocations(poolsOf('', ['k1=10.0.0.0/30,namespace=team,priority=1', 'k3=10.0.2.0/30,namespace=team,priority=2']), [service('team/svc')])), ['team/svc k1']);
  // PreferDualStack: of the pools with both families, which MetalLB prefers (findBestPoolForService), the first by name.
  const dual = poolsOf('', ['a-v4=10.0.0.0/30', 'b-dual=10.0.1.0/30,2001:db8::/126', 'c-dual=10.0.2.0/30,2001:db8:1::/126']);
  assert.deepEqual(new Allocator(dual).allocate(service('x/dual', { families: [4, 6], preferDualStack: true })), {
    service: 'x/dual',
    ips: ['10.0.1.0', '2001:db8::'],
    pool: 'b-dual',
    note: 'MetalLB may take pool c-dual instead: it tries pools of equal rank in no fixed order.',
  });
});

// --- Validation MetalLB does ------------------------------------------------------------------

const POOL = resource('IPAddressPool', 'p', '  addresses: [10.0.0.64/27]\n');
const PEERS = resource('BGPPeer', 'r', '  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64500\n');

test('label selectors are checked as Kubernetes LabelSelectorAsSelector checks them (config.go via metav1.LabelSelectorAsSelector)', () => {
  const selectors = (expressions: string) => POOL + resource('L2Advertisement', 'a', `  ipAddressPools: [p]\n  nodeSelectors:\n  - matchExpressions:\n${expressions}`);
  assert.deepEqual(problemsIn(selectors('    - {operator: In, values: [a]}\n    - {key: zone, values: [a]}\n    - {key: zone, operator: Equals, values: [a]}\n    - {key: zone, operator: In}\n    - {key: zone, operator: Exists, values: [a]}\n')), [
    'error in.yaml:19:7 this match expression has no key; name the label it tests.',
    'error in.yaml:20:7 this match expression has no operator; use one of In, NotIn, Exists, DoesNotExist.',
    'error in.yaml:21:29 operator "Equals" is not a label selector operator; expected one of: "In", "NotIn", "Exists", "DoesNotExist".',
    'error in.yaml:22:7 operator In needs values; list the label values it tests.',
    'error in.yaml:23:45 operator Exists takes no values; remove them.',
  ]);
  assert.deepEqual(problemsIn(selectors('    - {key: -zone, operator: In, values: [a, "b c"]}\n')), [
    `error in.yaml:19:13 "-zone" is not a label key: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally after a prefix and '/' (example.com/zone).`,
    `error in.yaml:19:46 "b c" is not a label value: empty, or up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.`,
  ]);
});

test('duplicates in selectors: refused in resources (v0.13 on, config.go validateLabelSelectorDuplicate), a warning in a v0.12 ConfigMap, which dropped them', () => {
  const crd = POOL + resource('L2Advertisement', 'a', '  nodeSelectors:\n  - matchLabels: {zone: a}\n  - matchLabels: {zone: a}\n  - matchExpressions:\n    - {key: rack, operator: In, values: [r1, r1]}\n');
  assert.deepEqual(problemsIn(crd), [
    'error in.yaml:18:5 the nodeSelectors selector "zone=a" is also at in.yaml:17:5; MetalLB refuses duplicates, so remove one.',
    'error in.yaml:20:46 the match expression value "r1" is also at in.yaml:20:42; MetalLB refuses duplicates, so remove one.',
  ]);
  const legacy = 'peers:\n- peer-address: 10.0.1.1\n  peer-asn: 64500\n  my-asn: 64501\n  node-selectors:\n  - match-labels: {zone: a}\n  - match-labels: {zone: a}\n';
  assert.deepEqual(problemsIn(legacy), [
    'warning in.yaml:7:5 the node-selectors selector "zone=a" is also at in.yaml:6:5; MetalLB accepts it, but it says nothing twice, so remove one.',
  ]);
});

test('duplicates of every kind in resources (config.go bgpAdvertisementFromCR, addressPoolServiceAllocationsFromCR, communitiesFromCrs)', () => {
  const text =
    resource('IPAddressPool', 'p', '  addresses: [10.0.0.64/27]\n  serviceAllocation:\n    namespaces: [a, a]\n') +
    resource('BGPAdvertisement', 'b', '  ipAddressPools: [p, p]\n  communities: ["64500:1", "64500:1"]\n  peers: [r, r]\n') +
    resource('Community', 'c1', '  communities:\n  - {name: gold, value: "64500:1"}\n') +
    resource('Community', 'c2', '  communities:\n  - {name: gold, value: "64500:1"}\n') +
    PEERS;
  assert.deepEqual(problemsIn(text).filter((line) => line.startsWith('error')), [
    'error in.yaml:10:21 namespace in the serviceAllocation of IPAddressPool "p" "a" is also at in.yaml:10:18; MetalLB refuses duplicates, so remove one.',
    'error in.yaml:18:23 pool in BGPAdvertisement "b" "p" is also at in.yaml:18:20; MetalLB refuses duplicates, so remove one.',
    'error in.yaml:19:28 community in BGPAdvertisement "b" "64500:1" is also at in.yaml:19:17; MetalLB refuses duplicates, so remove one.',
    'error in.yaml:20:14 peer in BGPAdvertisement "b" "r" is also at in.yaml:20:11; MetalLB refuses duplicates, so remove one.',
    'error in.yaml:38:5 community alias "gold" is also defined at in.yaml:29:5; MetalLB refuses a name defined twice, so remove one.',
  ]);
});

test('duplicates in a v0.12 ConfigMap: equal advertisements, a community twice, a key twice (v0.12 config.go validateDuplicateAdvertisements, validateDuplicateCommunities, yaml.UnmarshalStrict)', () => {
  const text = 'peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64500}\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.64/27]\n  bgp-advertisements:\n  - {localpref: 100, communities: ["64500:1", "64500:1"]}\n  - {localpref: 100, communities: ["64500:1", "64500:1"]}\n';
  assert.deepEqual(problemsIn(text), [
    'error in.yaml:8:47 community in a bgp-advertisement of address pool "p" "64500:1" is also at in.yaml:8:36; MetalLB refuses duplicates, so remove one.',
    'error in.yaml:9:5 this advertisement of address pool "p" repeats the one at in.yaml:8:5; MetalLB refuses equal advertisements, so remove one.',
    'error in.yaml:9:47 community in a bgp-advertisement of address pool "p" "64500:1" is also at in.yaml:9:36; MetalLB refuses duplicates, so remove one.',
  ]);
  assert.deepEqual(problemsIn('address-pools:\n- name: p\n  protocol: layer2\n  protocol: bgp\n  addresses: [10.0.0.64/27]\n'), ['error in.yaml:4:3 YAML syntax error: Map keys must be unique.']);
});

test('an aggregation length is checked against the CIDRs a first-last range splits into (config.go validateBGPAdvPerPool, lowestMask)', () => {
  const text = (length: number) =>
    'peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64500}\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.1-10.0.0.6]\n' +
    `  bgp-advertisements:\n  - aggregation-length: ${length}\n`;
  // 10.0.0.1-10.0.0.6 is 10.0.0.1/32, 10.0.0.2/31, 10.0.0.4/31, 10.0.0.6/32: its widest prefix is /31.
  assert.deepEqual(problemsIn(text(30)), [
    'error in.yaml:8:5 aggregation length /30 is shorter than /31, the widest prefix in 10.0.0.1-10.0.0.6 of pool "p", so the aggregate would announce addresses outside the pool; use /31 or longer.',
  ]);
  assert.deepEqual(problemsIn(text(31)), []);
});

test('two BGPAdvertisements giving one pool\'s routes different LOCAL_PREFs on the same nodes and peers are refused (config.go validateBGPAdvPerPool, BGPAdvertisementsHaveCompatibleLocalPref)', () => {
  const ad = (name: string, spec: string) => resource('BGPAdvertisement', name, `  ipAddressPools: [p]\n${spec}`);
  const nodes = '---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {rack: a}}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n2, labels: {rack: b}}\n';
  assert.deepEqual(problemsIn(POOL + PEERS + ad('one', '  localPref: 100\n') + ad('two', '  localPref: 200\n')), [
    'error in.yaml:35:3 this BGPAdvertisement gives pool "p" localPref 200 but the one at in.yaml:26:3 gives the same routes 100; MetalLB refuses two LOCAL_PREFs for one route, so give them one.',
  ]);
  // Other routes, other peers, other nodes, or services chosen by selectors: no clash.
  assert.deepEqual(problemsIn(POOL + PEERS + ad('one', '  localPref: 100\n') + ad('two', '  localPref: 200\n  aggregationLength: 27\n')), []);
  assert.deepEqual(problemsIn(POOL + PEERS + ad('one', '  localPref: 100\n  peers: [r]\n') + ad('two', '  localPref: 200\n  peers: [s]\n')), []);
  const byRack = (rack: string) => `  nodeSelectors:\n  - matchLabels: {rack: ${rack}}\n`;
  assert.deepEqual(problemsIn(nodes + POOL + PEERS + ad('one', `  localPref: 100\n${byRack('a')}`) + ad('two', `  localPref: 200\n${byRack('b')}`)), []);
  assert.equal(problemsIn(nodes + POOL + PEERS + ad('one', `  localPref: 100\n${byRack('a')}`) + ad('two', '  localPref: 200\n')).length, 1);
  assert.deepEqual(problemsIn(POOL + PEERS + ad('one', '  localPref: 100\n') + ad('two', '  localPref: 200\n  serviceSelectors:\n  - matchLabels: {app: web}\n')), []);
});

test('BGPAdvertisement fields: serviceSelectors exclude aggregation; aggregationLength is at least 1; a pool name no pool has is skipped (api/v1beta1/bgpadvertisement_types.go, config.go)', () => {
  const ad = (spec: string) => POOL + PEERS + resource('BGPAdvertisement', 'b', spec);
  assert.deepEqual(problemsIn(ad('  aggregationLength: 27\n  serviceSelectors:\n  - matchLabels: {app: web}\n')), [
    'error in.yaml:28:3 BGPAdvertisement "b" has serviceSelectors and an aggregation length; MetalLB refuses the two together, so announce /32 and /128 routes or drop the selectors.',
  ]);
  assert.deepEqual(problemsIn(ad('  aggregationLength: 0\n')), ['error in.yaml:26:22 "aggregationLength" in BGPAdvertisement "b" is 0; it must be a whole number from 1 to 32.']);
  assert.deepEqual(problemsIn(ad('  ipAddressPools: [p, gone]\n')), [
    'warning in.yaml:26:19 the advertisement names pool "gone", which does not exist, so it advertises nothing for it; MetalLB accepts that; expected one of: "p".',
  ]);
});

test('peers: ebgp-multihop on an iBGP peer is refused; hold and keepalive times as MetalLB defaults them (config.go parsePeer v0.12, peerFromCR and parseTimers v0.13 on)', () => {
  assert.deepEqual(problemsIn('peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64500, ebgp-multihop: true}\n'), [
    'error in.yaml:2:3 peer 10.0.1.1 is iBGP (AS 64500 on both ends), and MetalLB refuses ebgp-multihop on an iBGP peer; remove it.',
  ]);
  // v0.12: a keepalive time alone is measured against the default hold time, 90 s.
  assert.deepEqual(problemsIn('peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64501, keepalive-time: 100s}\n'), [
    "error in.yaml:2:76 keepalive-time (100 s) is longer than MetalLB's default hold time (90 s); MetalLB refuses that, so make it at most a third of the hold time.",
  ]);
  // v0.13 on: a keepalive time alone sets the hold time to three times it.
  const peer = (timers: string) => resource('BGPPeer', 'r', `  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64501\n${timers}`);
  assert.deepEqual(problemsIn(peer('  keepaliveTime: 100s\n')), []);
  assert.deepEqual(problemsIn(peer('  keepaliveTime: 100s\n  holdTime: 90s\n')), [
    'error in.yaml:11:18 keepaliveTime (100 s) is longer than holdTime (90 s); MetalLB refuses that, so make it at most a third of the hold time.',
  ]);
});

test('pool addresses as MetalLB\'s ParseCIDR reads them: no bare address, no blanks around a CIDR, blanks allowed in a range (config.go ParseCIDR)', () => {
  const pool = (address: string) => `address-pools:\n- name: p\n  protocol: layer2\n  avoid-buggy-ips: true\n  addresses: ["${address}"]\n`;
  assert.deepEqual(problemsIn(pool('10.0.0.1')), ['error in.yaml:5:15 "10.0.0.1" is not a CIDR or a range, and MetalLB refuses it; give the prefix length, like 10.0.0.1/32.']);
  assert.deepEqual(problemsIn(pool(' 10.0.0.0/24')), ['error in.yaml:5:15 " 10.0.0.0/24" is not a CIDR or a range, and MetalLB refuses it; remove the blanks around it.']);
  assert.deepEqual(problemsIn(pool('10.0.0.1 - 10.0.0.5')), []);
});

// --- False errors -------------------------------------------------------------------------------

test('dynamicASN stands for peerASN; not both, and only internal or external (config.go peerFromCR)', () => {
  const peer = (asn: string) => POOL + resource('BGPAdvertisement', 'b', '  ipAddressPools: [p]\n') + resource('BGPPeer', 'r', `  peerAddress: 10.0.1.1\n  myASN: 64500\n${asn}`);
  assert.deepEqual(problemsIn(peer('  dynamicASN: external\n')), []);
  assert.equal(loadText(peer('  dynamicASN: internal\n')).config.peers[0]!.dynamicAsn, 'internal');
  assert.deepEqual(problemsIn(peer('  dynamicASN: internal\n  peerASN: 64500\n')), ['error in.yaml:26:15 BGPPeer "r" has both peerASN and dynamicASN; MetalLB refuses the two together, so keep one.']);
  assert.deepEqual(problemsIn(peer('  dynamicASN: externel\n')), [
    'error in.yaml:24:3 peer 10.0.1.1 has no peer ASN; add peer-asn (peerASN or dynamicASN in a BGPPeer, asn= in --peer).',
    'error in.yaml:26:15 dynamicASN "externel" of BGPPeer "r" is not internal or external; did you mean "external"?',
  ]);
});

test('one router twice: refused only when the peers are equal; in another VRF it is another session (config.go peersFor, validation.go PeerIdentifier)', () => {
  const peer = (name: string, extra = '') => resource('BGPPeer', name, `  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64501\n${extra}`);
  assert.deepEqual(problemsIn(peer('a') + peer('b', '  vrf: red\n')), []);
  // Two BGPPeers differ at least by name, so MetalLB never finds them equal; two legacy peers can be.
  assert.deepEqual(problemsIn(peer('a') + peer('b', '  holdTime: 30s\n')), [
    'warning in.yaml:18:3 peer 10.0.1.1 is also defined at in.yaml:8:3 with other settings; MetalLB accepts it (FRR mode not on a node both select), but the two sessions to one router would clash, so merge them.',
  ]);
  // A BGPPeer per group of nodes (each rack with its own ASN) meets one router from different nodes: no clash in
  // native mode (FRR modes, knowing no Node, assume the two share one: validation.go peersShareNode).
  const rack = (name: string, asn: number) => peer(name, `  nodeSelectors:\n  - matchLabels: {rack: ${name}}\n`).replace('myASN: 64501', `myASN: ${asn}`);
  assert.deepEqual(problemsIn(rack('r1', 64501) + rack('r2', 64502), { bgpType: 'native' }), []);
  assert.deepEqual(problemsIn('peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64501}\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64501}\n'), [
    'error in.yaml:3:3 peer 10.0.1.1 is also defined at in.yaml:2:3 with the same settings; MetalLB refuses a peer defined twice, so remove one.',
  ]);
  assert.deepEqual(problemsIn(peer('a', '  peerPort: 16385\n')), ['error in.yaml:11:13 "peerPort" in BGPPeer "a" is 16385; it must be a whole number from 1 to 16384.']);
});

test('an empty bgp-advertisements item is an advertisement with the defaults; peer-port 0 is 179 (v0.12 config.go parseBGPAdvertisements, parsePeer)', () => {
  const source = loadText('peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64501, peer-port: 0}\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.64/27]\n  bgp-advertisements:\n  -\n');
  assert.deepEqual(described(source.problems), []);
  assert.deepEqual(source.config.pools[0]!.bgpAdvertisements.map((ad) => ad.communities), [[]]);
  assert.equal(source.config.peers[0]!.port, undefined);
});

test('host bits in a CIDR and pools holding a router or node are warnings, and allocate still runs (config.go ParseCIDR keeps the network)', () => {
  const text = 'peers:\n- {peer-address: 1000::5, peer-asn: 64500, my-asn: 64501}\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses: [1000::1/127, 1000::4/126]\n';
  const source = loadText(text);
  const problems = [...source.problems, ...checkConfig(source.config, { nodeAddresses: [], services: [] })];
  assert.deepEqual(described(sortProblems(problems)), [
    'warning in.yaml:6:15 "1000::1/127" has host bits set; MetalLB accepts it as 1000::/127, so write that.',
    'warning in.yaml:6:28 1000::4/126 in pool "p" holds BGP peer 1000::5; MetalLB accepts it, but a Service given that address would take it over, so leave it out of the pool.',
  ]);
  assert.deepEqual(brief(planAllocations(source.config.pools, [service('a/v6', { families: [6] })])), ['a/v6 1000:: p']);
});

// --- What vipkit did not understand: BFD profiles, password Secrets, BGPPeer's newer fields ---

test('legacy bfd-profiles and BFDProfile resources: ranges, unique names, and peers naming one that exists (v0.12 config.go parseBFDProfile; config.go bfdProfileFromCR, peersFor)', () => {
  const legacy = (profiles: string, peer = 'bfd-profile: fast') =>
    `peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64501, ${peer}}\nbfd-profiles:\n${profiles}`;
  const source = loadText(legacy('- {name: fast, receive-interval: 100, transmit-interval: 100, detect-multiplier: 3, echo-mode: true}\n'));
  assert.deepEqual(described(source.problems), []);
  assert.deepEqual((modelView(source.config) as PoolsConfig).bfdProfiles, [{ name: 'fast', receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3, echoMode: true }]);
  assert.deepEqual(problemsIn(legacy('- {name: fast, detect-multiplier: 1, minimum-ttl: 255}\n- {name: fast}\n')), [
    'error in.yaml:4:35 "detect-multiplier" in a BFD profile is 1; it must be a whole number from 2 to 255.',
    'error in.yaml:4:51 "minimum-ttl" in a BFD profile is 255; it must be a whole number from 1 to 254.',
    'error in.yaml:5:3 BFD profile "fast" is also defined at in.yaml:4:3; MetalLB refuses a name defined twice, so remove one.',
  ]);
  assert.deepEqual(problemsIn(legacy('- {name: fast}\n', 'bfd-profile: fsat')), ['error in.yaml:2:3 peer 10.0.1.1 uses BFD profile "fsat", which is not defined in this config; did you mean "fast"?']);
  // A BGPPeer may come before its BFDProfile: MetalLB's webhook lets it in and the speaker waits (a transient error).
  assert.deepEqual(problemsIn(resource('BGPPeer', 'r', '  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64501\n  bfdProfile: later\n')), [
    'warning in.yaml:8:3 peer 10.0.1.1 uses BFD profile "later", which is not defined in these files; MetalLB accepts that and waits for it, so make sure a BFDProfile of that name exists.',
  ]);
  const crd = resource('BFDProfile', 'slow', '  receiveInterval: 5\n  echoMode: false\n');
  assert.deepEqual(problemsIn(crd), ['error in.yaml:8:20 "receiveInterval" in BFDProfile "slow" is 5; it must be a whole number from 10 to 60000.']);
});

test('a BFD profile with echo mode cannot serve a peer IPv6 routes go to (v0.14 on: validation.go validateConfig)', () => {
  const text = (echo: boolean) =>
    resource('BFDProfile', 'echo', `  echoMode: ${echo}\n`) +
    resource('BGPPeer', 'r', '  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64501\n  bfdProfile: echo\n') +
    resource('IPAddressPool', 'v6', '  addresses: ["2001:db8::/120"]\n') +
    resource('BGPAdvertisement', 'b', '  ipAddressPools: [v6]\n');
  assert.deepEqual(problemsIn(text(false)), []);
  assert.deepEqual(problemsIn(text(true)), [
    'error in.yaml:35:3 this BGPAdvertisement sends IPv6 routes of pool "v6" to peer 10.0.1.1, whose BFD profile "echo" has echo mode, which MetalLB refuses; turn echo mode off or keep IPv6 from that peer.',
  ]);
});

test('passwordSecret: not with password; the Secret is basic-auth with a password; one not in the files is waited for (config.go peerFromCR, passwordFromSecretForPeer)', () => {
  const peer = (extra: string) => resource('BGPPeer', 'r', `  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64501\n  passwordSecret: {name: bgp, namespace: metallb-system}\n${extra}`);
  const secret = (type: string, data: string) => `---\napiVersion: v1\nkind: Secret\nmetadata: {name: bgp, namespace: metallb-system}\ntype: ${type}\n${data}`;
  assert.deepEqual(problemsIn(peer('') + secret('kubernetes.io/basic-auth', 'data: {password: czNjcmV0}\n')), []);
  assert.equal(loadText(peer('')).config.peers[0]!.passwordSecret, 'bgp');
  assert.deepEqual(problemsIn(peer('  password: plain\n')), [
    'warning in.yaml:8:3 Secret "bgp" of peer 10.0.1.1 is not in these files; MetalLB accepts that and waits for it, so make sure it exists in MetalLB\'s namespace.',
    'error in.yaml:11:19 BGPPeer "r" has both password and passwordSecret; MetalLB refuses the two together, so keep one.',
  ]);
  assert.deepEqual(problemsIn(peer('') + secret('Opaque', 'stringData: {password: s3cret}\n')), [
    'error in.yaml:13:1 Secret "bgp" is of type Opaque, and MetalLB takes a BGP password only from type kubernetes.io/basic-auth; change its type.',
  ]);
  assert.deepEqual(problemsIn(peer('') + secret('kubernetes.io/basic-auth', 'stringData: {username: x}\n')), [
    'error in.yaml:13:1 Secret "bgp" has no "password" key, where MetalLB reads the BGP password; add it under data or stringData.',
  ]);
});

test('BGPPeer v0.16 fields: interface (unnumbered) instead of peerAddress, localASN, connectTime; disableMP is deprecated (config.go peerFromCR, api/v1beta2/bgppeer_types.go, webhookv1beta2)', () => {
  const peer = (spec: string) => resource('BGPPeer', 'r', `  peerASN: 64500\n  myASN: 64501\n${spec}`);
  const unnumbered = loadText(peer('  interface: eth1\n  localASN: 64999\n  connectTime: 5s\n  vrf: red\n'));
  assert.deepEqual(described(unnumbered.problems), []);
  assert.deepEqual((modelView(unnumbered.config) as PoolsConfig).peers, [{ address: '', asn: 64500, myAsn: 64501, nodeSelectors: [], vrf: 'red', interface: 'eth1', localAsn: 64999, connectTime: 5 }]);
  assert.deepEqual(problemsIn(peer('  interface: eth1\n  peerAddress: 10.0.1.1\n')), ['error in.yaml:8:3 BGPPeer "r" has both peerAddress and interface; keep one of them.']);
  assert.deepEqual(problemsIn(peer('')), [
    "error in.yaml:8:3 BGPPeer \"r\" has neither peerAddress nor interface; add the router's address as spec.peerAddress, or for unnumbered BGP its interface as spec.interface.",
  ]);
  assert.deepEqual(problemsIn(peer('  peerAddress: 10.0.1.1\n  connectTime: 0s\n  disableMP: true\n')), [
    'error in.yaml:11:16 connectTime of BGPPeer "r" is 0 s; MetalLB takes 1 to 65535 s.',
    'warning in.yaml:12:14 disableMP is deprecated and has no effect, as MetalLB warns; remove it.',
  ]);
});

test('convert --to crds writes what configmaptocrs writes for a legacy config: names, order, BFD profiles, sorted aliases, quoted communities (configmaptocrs/main.go)', () => {
  const legacy = [
    'peers:',
    '- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64501, hold-time: 2m, bfd-profile: Fast_BFD}',
    'bgp-communities: {zeta: "64500:9", alpha: "65535:65281"}',
    'bfd-profiles:',
    '- {name: Fast_BFD, receive-interval: 100, echo-mode: false}',
    'address-pools:',
    '- {name: 1st_Pool, protocol: bgp, addresses: [10.0.0.0/28], bgp-advertisements: [{communities: ["64500:1", zeta], localpref: 100}]}',
    '- {name: l2, protocol: layer2, addresses: [10.0.0.16/28]}',
    '',
  ].join('\n');
  const source = loadText(legacy);
  assert.deepEqual(described(source.problems), []);
  const result = convert(source.config, 'crds');
  assert.ok('text' in result);
  assert.deepEqual(result.warnings, [
    'pool "1st_Pool" is named "st-pool" in the CRDs, a valid Kubernetes name; update annotations that name it.',
    'BFD profile "Fast_BFD" is named "fast-bfd" in the CRDs, a valid Kubernetes name.',
  ]);
  const objects = result.objects as Resource[];
  assert.deepEqual(objects.map((object) => `${object.kind}/${object.metadata.name}`), [
    'BGPPeer/peer1',
    'IPAddressPool/st-pool',
    'IPAddressPool/l2',
    'BGPAdvertisement/bgpadvertisement1',
    'L2Advertisement/l2advertisement1',
    'BFDProfile/fast-bfd',
    'Community/communities',
  ]);
  assert.deepEqual(objects[0]!.spec, { myASN: 64501, peerASN: 64500, peerAddress: '10.0.1.1', holdTime: '120s', bfdProfile: 'fast-bfd' });
  assert.deepEqual(objects[5]!.spec, { receiveInterval: 100, echoMode: false });
  assert.deepEqual(objects[6]!.spec, { communities: [{ name: 'alpha', value: '65535:65281' }, { name: 'zeta', value: '64500:9' }] });
  // A YAML 1.1 reader (PyYAML, MetalLB v0.12's yaml.v2) reads an unquoted 64500:1 as the base-60 integer 232201.
  assert.match(result.text, /- "64500:1"\n/);
  assert.match(result.text, /value: "64500:9"\n/);
  assert.deepEqual(described(loadText(result.text).problems), []);
});

test('converting refuses what the target cannot hold: BGPPeer-only settings in the legacy config or flags, an IPv6 zone in a BGPPeer', () => {
  const crds = loadText(resource('BGPPeer', 'r', '  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64501\n  vrf: red\n')).config;
  assert.deepEqual(convert(crds, 'legacy'), { reason: 'peer 10.0.1.1 has vrf, which the legacy config cannot express.' });
  assert.deepEqual(convert(crds, 'flags'), { reason: 'peer 10.0.1.1 has vrf, which --peer cannot express.' });
  const zoned = loadText('', { peers: ['fe80::1%eth0,asn=64500,my-asn=64501'] }).config;
  assert.deepEqual(convert(zoned, 'crds'), { reason: 'peer fe80::1%eth0 has an IPv6 zone, which a BGPPeer cannot hold (MetalLB reads peerAddress with net.ParseIP); for BGP over a link, use interface.' });
  assert.deepEqual(convert(zoned, 'legacy'), { reason: 'peer fe80::1%eth0 has an IPv6 zone, which MetalLB cannot read (net.ParseIP).' });
});

test('RequireDualStack with cluster IPs of one family gets no address and loses what it held (controller/service.go convergeBalancer)', () => {
  const text = (clusterIps: string) =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n  ipFamilyPolicy: RequireDualStack\n${clusterIps}status:\n  loadBalancer:\n    ingress: [{ip: 10.0.0.1}]\n`;
  const pools = poolsOf('', ['dual=10.0.0.0/30,2001:db8::/126']);
  assert.deepEqual(brief(planAllocations(pools, readServices(text('  clusterIPs: [10.96.0.10]\n'), 's.yaml', []))), [
    'default/web - - it requires dual stack (RequireDualStack) but its cluster IPs are of one family, so MetalLB gives it no address.',
  ]);
  // Without cluster IPs written, Kubernetes would have given it one of each family.
  assert.deepEqual(brief(planAllocations(pools, readServices(text(''), 's.yaml', []))), ['default/web 10.0.0.0,2001:db8:: dual']);
});

test('an L2Advertisement\'s nodeSelectors, interfaces and serviceSelectors survive convert --to crds, and the legacy config and flags refuse them (config.go l2AdvertisementFromCR)', () => {
  const text = POOL + resource('L2Advertisement', 'edge', '  ipAddressPools: [p]\n  interfaces: [eth1]\n  nodeSelectors:\n  - matchLabels: {edge: "true"}\n');
  const source = loadText(text);
  assert.deepEqual(described(source.problems), []);
  const result = convert(source.config, 'crds');
  assert.ok('objects' in result);
  assert.deepEqual((result.objects as Resource[]).find((object) => object.kind === 'L2Advertisement')!.spec, {
    ipAddressPools: ['p'],
    nodeSelectors: [{ matchLabels: { edge: 'true' } }],
    interfaces: ['eth1'],
  });
  assert.deepEqual(convert(source.config, 'legacy'), { reason: 'pool p is announced at layer 2 only by some nodes, interfaces or services, which the legacy config cannot express.' });
  assert.deepEqual(convert(source.config, 'flags'), { reason: 'pool p is announced at layer 2 only by some nodes, interfaces or services, which --pool cannot express.' });
  // A plain L2Advertisement is what a legacy layer2 pool means: nothing to refuse.
  assert.equal(loadText(POOL + L2_ALL).config.pools[0]!.l2Advertisements, undefined);
});

test('convert writes every range so that its reader takes it: a lone --pool address as /32, a CIDR with host bits as its network (config.go ParseCIDR)', () => {
  const flags = loadText('', { pools: ['p=192.0.2.5,2001:db8::7,192.0.2.10-192.0.2.12'] }).config;
  const crds = convert(flags, 'crds');
  assert.ok('objects' in crds);
  assert.deepEqual((crds.objects as Resource[])[0]!.spec.addresses, ['192.0.2.5/32', '2001:db8::7/128', '192.0.2.10-192.0.2.12']);
  const hostBits = loadText('address-pools:\n- {name: p, protocol: layer2, addresses: [1000::1/127]}\n').config;
  assert.deepEqual(convert(hostBits, 'flags'), { text: '--pool p=1000::/127,protocol=layer2\n', objects: [{ args: ['--pool', 'p=1000::/127,protocol=layer2'] }], warnings: [] });
});

test("MetalLB's own configsamples read without errors: an advertisement alone names a pool not in the file, which is a warning (configsamples/bgpadvertisement_with_node_selector.yaml)", () => {
  const advertisement = resource('BGPAdvertisement', 'advertisement', '  aggregationLength: 32\n  ipAddressPools: [first-pool]\n  nodeSelectors:\n  - matchLabels: {kubernetes.io/hostname: kind-worker}\n');
  assert.deepEqual(problemsIn(advertisement), [
    'warning in.yaml:9:19 the advertisement names pool "first-pool", which does not exist, so it advertises nothing for it; MetalLB accepts that.',
  ]);
});

test('an empty document, such as the trailing --- configmaptocrs writes, is skipped (website/content/configuration/migration_to_crds.md)', () => {
  assert.deepEqual(problemsIn(POOL + L2_ALL + '---\n'), []);
});

test('a v0.12 ConfigMap reads standard communities only; the resources take large ones too (v0.12 config.go ParseCommunity; internal/bgp/community)', () => {
  const legacy = 'bgp-communities: {big: "large:64500:1:2"}\npeers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64500}\naddress-pools:\n- {name: p, protocol: bgp, addresses: [10.0.0.64/27], bgp-advertisements: [{communities: ["large:64500:3:4"]}]}\n';
  assert.deepEqual(problemsIn(legacy), [
    "error in.yaml:1:19 community large:64500:1:2 is a large community, which MetalLB's legacy config (v0.12) cannot read; use a standard one like 65002:100, or the CRDs.",
    "error in.yaml:5:76 community large:64500:3:4 is a large community, which MetalLB's legacy config (v0.12) cannot read; use a standard one like 65002:100, or the CRDs.",
  ]);
  const crds = POOL + PEERS + resource('BGPAdvertisement', 'b', '  communities: ["large:64500:3:4"]\n');
  assert.deepEqual(problemsIn(crds), []);
  assert.deepEqual(convert(loadText(crds).config, 'legacy'), { reason: 'community large:64500:3:4 is a large community, which the legacy config (MetalLB v0.12) cannot read.' });
});

test('two IPAddressPools of one name: kubectl apply keeps the later, which replaces the earlier (a warning; config.go poolsFor, which never sees two, as the API server holds one object per name); a v0.12 ConfigMap naming a pool twice is refused (v0.12 config.go Parse)', () => {
  const text = resource('IPAddressPool', 'p', '  addresses: [10.0.0.64/27]\n') + resource('IPAddressPool', 'p', '  addresses: [10.0.1.64/27]\n  autoAssign: false\n') + L2_ALL;
  const source = loadText(text);
  assert.deepEqual(described(source.problems), [
    'warning in.yaml:13:9 IPAddressPool "p" is defined again here, and kubectl apply keeps this later one, which replaces the one at in.yaml:5:9; remove that one.',
  ]);
  assert.deepEqual(source.config.pools.map((pool) => [pool.name, pool.ranges.map((range) => range.text), pool.autoAssign, pool.protocols]), [['p', ['10.0.1.64/27'], false, ['layer2']]]);
  assert.deepEqual(problemsIn('address-pools:\n- {name: p, protocol: layer2, addresses: [10.0.0.64/27]}\n- {name: p, protocol: layer2, addresses: [10.0.1.64/27]}\n'), [
    'error in.yaml:3:3 pool "p" is also defined at in.yaml:2:3; remove one or rename it.',
  ]);
});

test('a BGPAdvertisement naming a Community alias the files do not define is a warning, since the webhook lets it in and the Community may come later (v0.14 on: internal/config/validator.go resetTransientErrorsFields, config.go getCommunityValue); a v0.12 ConfigMap refuses it (v0.12 config.go parseBGPAdvertisements)', () => {
  const advertisement = (communities: string) => resource('BGPAdvertisement', 'b', `  communities: [${communities}]\n`);
  assert.deepEqual(problemsIn(POOL + PEERS + advertisement('gold, "64500:x", "1:2:3"')), [
    'warning in.yaml:26:3 community "gold" is not a value and no Community in these files defines it; MetalLB accepts that and waits for one, so make sure a Community resource defines it.',
    'error in.yaml:26:3 community "64500:x" is neither a value like 65002:100 nor a defined alias; write it like 65002:100 (16-bit halves) or large:65002:7:8.',
    'error in.yaml:26:3 community "1:2:3" is neither a value like 65002:100 nor a defined alias; write it like 65002:100 (16-bit halves) or large:65002:7:8.',
  ]);
  const golden = resource('Community', 'c', '  communities:\n  - {name: golden, value: "64500:1"}\n');
  assert.deepEqual(problemsIn(POOL + PEERS + golden + advertisement('gold')), [
    'warning in.yaml:35:3 community "gold" is not a value and no Community in these files defines it; MetalLB accepts that and waits for one, so make sure a Community resource defines it (or did you mean "golden"?)',
  ]);
  const legacy = 'peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64500}\naddress-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.64/27]\n  bgp-advertisements:\n  - communities: [gold]\n';
  assert.deepEqual(problemsIn(legacy), ['error in.yaml:8:5 community "gold" is neither a value like 65002:100 nor a defined alias; write it like 65002:100 (16-bit halves) or large:65002:7:8.']);
});

test('native BGP mode refuses what only FRR implements: FRR-only peer settings, BFD profiles, IPv6 pools announced over BGP, large communities (validation.go DiscardFRROnly, findIPv6BGPAdvertisement, findNonLegacyCommunity)', () => {
  const text =
    resource('IPAddressPool', 'v6', '  addresses: [10.0.0.64/27, "2001:db8::/120"]\n') +
    resource('BGPAdvertisement', 'b', '  communities: ["large:64500:1:2", "64500:1", gold]\n') +
    resource('Community', 'c', '  communities:\n  - {name: gold, value: "large:64500:7:8"}\n') +
    resource('BFDProfile', 'fast', '  receiveInterval: 100\n') +
    resource('BGPPeer', 'r', '  peerAddress: 10.0.1.1\n  peerASN: 64500\n  myASN: 64500\n  bfdProfile: fast\n  keepaliveTime: 10s\n  vrf: red\n') +
    resource('BGPPeer', 'plain', '  peerAddress: 10.0.1.2\n  peerASN: 64500\n  myASN: 64500\n  keepaliveTime: 0s\n');
  assert.deepEqual(problemsIn(text, { bgpType: 'native' }), [
    'error in.yaml:8:29 2001:db8::/120 of pool "v6" is IPv6, which MetalLB in native BGP mode cannot announce; announce it over layer2 instead, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
    'error in.yaml:16:3 community large:64500:1:2 is a large community, which MetalLB refuses in native BGP mode; use a standard one like 65002:100, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
    'error in.yaml:25:5 community large:64500:7:8 is a large community, which MetalLB refuses in native BGP mode; use a standard one like 65002:100, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
    'error in.yaml:33:3 BFD profile "fast" is refused by MetalLB in native BGP mode, which has no BFD; remove it, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
    'error in.yaml:41:3 peer 10.0.1.1 sets a BFD profile, a keepalive time and a VRF, which MetalLB refuses in native BGP mode (FRR only); remove them, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
  ]);
  assert.deepEqual(problemsIn(text, { bgpType: 'frr-k8s' }), []);
  // v0.12 validate.go DiscardFRROnly: a legacy peer's bfd-profile and keepalive-time, the bfd-profiles section, IPv6 in a bgp pool.
  const legacy = 'peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64500, bfd-profile: fast, keepalive-time: 10s}\nbfd-profiles:\n- name: fast\naddress-pools:\n- {name: v6, protocol: bgp, addresses: ["2001:db8::/120"]}\n';
  assert.deepEqual(problemsIn(legacy, { bgpType: 'native' }), [
    'error in.yaml:2:3 peer 10.0.1.1 sets a BFD profile and a keepalive time, which MetalLB refuses in native BGP mode (FRR only); remove them, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
    'error in.yaml:4:3 BFD profile "fast" is refused by MetalLB in native BGP mode, which has no BFD; remove it, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
    'error in.yaml:6:41 2001:db8::/120 of pool "v6" is IPv6, which MetalLB in native BGP mode cannot announce; announce it over layer2 instead, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
  ]);
  assert.deepEqual(problemsIn(legacy, { bgpType: 'frr' }), []);
});

test('FRR modes refuse peers one node runs that disagree on router ID or, within a VRF, local ASN, or name one router twice; Nodes in the files decide which peers share one (v0.16 validation.go DiscardNativeOnly, peersCanRunOnSameNode, peersShareNode; v0.12 validate.go: every pair)', () => {
  const peer = (name: string, address: string, extra: string) => resource('BGPPeer', name, `  peerAddress: ${address}\n  peerASN: 64500\n${extra}`);
  const peers =
    peer('a', '10.0.1.1', '  myASN: 64501\n  routerID: 10.0.0.1\n  nodeSelectors: [{matchLabels: {rack: a}}]\n') +
    peer('b', '10.0.1.2', '  myASN: 64502\n  nodeSelectors: [{matchLabels: {rack: b}}]\n') +
    peer('c', '10.0.1.1', '  myASN: 64501\n  routerID: 10.0.0.1\n  nodeSelectors: [{matchLabels: {rack: a}}]\n  holdTime: 30s\n') +
    peer('d', '10.0.1.3', '  myASN: 64503\n  routerID: 10.0.0.1\n  vrf: red\n  nodeSelectors: [{matchLabels: {rack: a}}]\n');
  const nodes = (racks: string[]) => racks.map((rack, at) => `---\napiVersion: v1\nkind: Node\nmetadata:\n  name: n${at}\n  labels: {rack: ${rack}}\n`).join('');
  const errors = (text: string, bgpType: BgpType) => problemsIn(text, { bgpType }).filter((line) => line.startsWith('error'));
  // Without Node objects every pair may share a node, as validation.go assumes.
  assert.deepEqual(errors(peers, 'frr'), [
    'error in.yaml:20:3 peer 10.0.1.2 has no router ID but peer 10.0.1.1 (in.yaml:8:3), which runs on the same node, has router ID 10.0.0.1; MetalLB\'s FRR mode needs one router ID per node, so give them the same one.',
    'error in.yaml:20:3 peer 10.0.1.2 has local ASN 64502 but peer 10.0.1.1 (in.yaml:8:3), which runs on the same node, has 64501; MetalLB\'s FRR mode needs one local ASN per node and VRF, so give them the same one.',
    'error in.yaml:31:3 peer 10.0.1.1 is also defined at in.yaml:8:3, and MetalLB\'s FRR mode refuses two sessions to one router from one node; merge them.',
    'error in.yaml:44:3 peer 10.0.1.3 has router ID 10.0.0.1 but peer 10.0.1.2 (in.yaml:20:3), which runs on the same node, has no router ID; MetalLB\'s FRR mode needs one router ID per node, so give them the same one.',
  ]);
  // Racks a and b are other nodes: only a and c meet, and d is in another VRF.
  assert.deepEqual(errors(peers + nodes(['a', 'b']), 'frr-k8s'), [
    'error in.yaml:31:3 peer 10.0.1.1 is also defined at in.yaml:8:3, and MetalLB\'s FRR mode refuses two sessions to one router from one node; merge them.',
  ]);
  // Native mode runs a session per peer: none of that is refused, only the VRF.
  assert.deepEqual(errors(peers, 'native'), [
    'error in.yaml:44:3 peer 10.0.1.3 sets a VRF, which MetalLB refuses in native BGP mode (FRR only); remove it, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.',
  ]);
  // v0.12 validate.go DiscardNativeOnly: every legacy peer runs on every node it may.
  const legacy = 'peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64501, node-selectors: [{match-labels: {rack: a}}]}\n- {peer-address: 10.0.1.2, peer-asn: 64500, my-asn: 64502, node-selectors: [{match-labels: {rack: b}}]}\n';
  assert.deepEqual(errors(legacy, 'frr'), [
    'error in.yaml:3:3 peer 10.0.1.2 has local ASN 64502 but peer 10.0.1.1 (in.yaml:2:3), which runs on the same node, has 64501; MetalLB\'s FRR mode needs one local ASN per node and VRF, so give them the same one.',
  ]);
  assert.deepEqual(errors(legacy, 'native'), []);
});

test('LOCAL_PREF follows v0.15 on: a one-family pool\'s advertisements send other routes when that family\'s aggregation length differs (v0.15 config.go isAggrLengthDifferent; v0.13-v0.14 advertisementsAreCompatible wanted both lengths to differ and refuse this, as the README says)', () => {
  const ad = (name: string, spec: string) => resource('BGPAdvertisement', name, `  ipAddressPools: [p]\n${spec}`);
  const pair = ad('host', '  localPref: 100\n') + ad('aggregate', '  localPref: 200\n  aggregationLength: 24\n');
  const errors = (text: string) => problemsIn(text).filter((line) => line.startsWith('error'));
  assert.deepEqual(errors(resource('IPAddressPool', 'p', '  addresses: [10.0.0.0/24]\n') + PEERS + pair), []);
  // A dual-stack pool also sends its IPv6 /128s from both: still one route with two LOCAL_PREFs.
  assert.deepEqual(errors(resource('IPAddressPool', 'p', '  addresses: [10.0.0.0/24, "2001:db8::/120"]\n') + PEERS + pair), [
    'error in.yaml:35:3 this BGPAdvertisement gives pool "p" localPref 200 but the one at in.yaml:26:3 gives the same routes 100; MetalLB refuses two LOCAL_PREFs for one route, so give them one.',
  ]);
});
