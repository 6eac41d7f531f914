import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfig, sortProblems } from '../../src/pools/check.js';
import { readServices } from '../../src/pools/services.js';
import { described, loadText } from './helpers.js';

/** Every problem reading and checking finds, as "severity file:line:column message". */
function problemsIn(text: string, options: { nodes?: string[]; services?: string; pools?: string[] } = {}): string[] {
  const source = loadText(text, { pools: options.pools ?? [] });
  const services = options.services === undefined ? [] : readServices(options.services, 'svc.yaml', source.problems);
  return described(sortProblems([...source.problems, ...checkConfig(source.config, { nodeAddresses: options.nodes ?? [], services })]));
}

const pool = (body: string) => `address-pools:\n- name: p\n${body}`;

test('unknown keys and values get a "did you mean"', () => {
  assert.deepEqual(problemsIn(pool('  protocol: bpg\n  addresses: [10.0.0.64/27]\n')), ['error in.yaml:3:13 protocol "bpg" is not layer2 or bgp; did you mean bgp?']);
  assert.deepEqual(problemsIn(pool('  protocol: layer2\n  adresses: [10.0.0.64/27]\n')), [
    'error in.yaml:2:3 address pool "p" has no addresses; list its CIDRs or ranges under addresses:.',
    'error in.yaml:4:3 unknown key "adresses" in address pool "p"; did you mean "addresses"?',
  ]);
  assert.deepEqual(problemsIn('adress-pools: []\n'), ['error in.yaml:1:1 unknown key "adress-pools"; did you mean "address-pools"?']);
  assert.deepEqual(problemsIn('apiVersion: metallb.io/v1beta1\nkind: IPAdressPool\nmetadata: {name: p}\n'), [
    'error in.yaml:2:7 kind "IPAdressPool" is not a MetalLB resource; did you mean "IPAddressPool"?',
  ]);
  assert.deepEqual(problemsIn('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: [10.0.0.64/27]\n  autoassign: false\n'), [
    'warning in.yaml:5:3 pool "p" is not advertised: no L2Advertisement or BGPAdvertisement selects it, so its addresses would be unreachable; MetalLB accepts it, but add an advertisement.',
    'error in.yaml:6:3 unknown key "autoassign" in IPAddressPool "p"; did you mean "autoAssign"?',
  ]);
});

test('invalid CIDRs, host bits and reversed ranges say how to fix them', () => {
  assert.deepEqual(problemsIn(pool('  protocol: layer2\n  addresses:\n  - 10.0.0.64/33\n  - 10.0.0.70/24\n  - 10.0.1.9-10.0.1.2\n')), [
    'error in.yaml:5:5 "10.0.0.64/33" is not a valid CIDR; write it like 192.0.2.64/27 or 2001:db8::/120.',
    'warning in.yaml:6:5 "10.0.0.70/24" has host bits set; MetalLB accepts it as 10.0.0.0/24, so write that.',
    'warning in.yaml:6:5 10.0.0.70/24 in pool "p" holds addresses ending in .0 or .255, which some clients mishandle; MetalLB accepts it, but avoid-buggy-ips (avoidBuggyIPs) would skip them.',
    'error in.yaml:7:5 "10.0.1.9-10.0.1.2" is reversed; did you mean 10.0.1.2-10.0.1.9?',
  ]);
});

test('overlapping pools are errors at the later range, naming the earlier one', () => {
  const text = 'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.64/27]\n- name: b\n  protocol: layer2\n  addresses: [10.0.0.90-10.0.0.100]\n';
  assert.deepEqual(problemsIn(text), [
    'error in.yaml:7:15 10.0.0.90-10.0.0.100 of pool "b" overlaps 10.0.0.64/27 of pool "a" (in.yaml:4:15); MetalLB refuses overlapping pools, so make them disjoint.',
  ]);
});

test('ranges holding .0 or .255 without avoid-buggy-ips are a warning', () => {
  assert.deepEqual(problemsIn(pool('  protocol: layer2\n  addresses: [10.0.0.0/24, 10.0.1.10-10.0.1.20]\n')), [
    'warning in.yaml:4:15 10.0.0.0/24 in pool "p" holds addresses ending in .0 or .255, which some clients mishandle; MetalLB accepts it, but avoid-buggy-ips (avoidBuggyIPs) would skip them.',
  ]);
  assert.deepEqual(problemsIn(pool('  protocol: layer2\n  avoid-buggy-ips: true\n  addresses: [10.0.0.0/24]\n')), []);
});

test('peers without ASNs, iBGP-only options on eBGP peers, bad hold times', () => {
  const text = [
    'peers:',
    '- peer-address: 10.0.0.27',
    '  my-asn: 64800',
    '- peer-address: 10.0.0.28',
    '  peer-asn: 65002',
    '  my-asn: 64800',
    '  hold-time: 2s',
    'address-pools:',
    '- name: p',
    '  protocol: bgp',
    '  addresses: [10.0.0.64/27]',
    '  bgp-advertisements:',
    '  - localpref: 100',
    '',
  ].join('\n');
  assert.deepEqual(problemsIn(text), [
    'error in.yaml:2:3 peer 10.0.0.27 has no peer ASN; add peer-asn (peerASN or dynamicASN in a BGPPeer, asn= in --peer).',
    'error in.yaml:7:14 hold-time is 2 s; MetalLB takes 0 or at least 3 s (RFC 4271 4.2).',
    'warning in.yaml:13:5 localpref 100 in pool "p" has no effect: LOCAL_PREF is sent only to iBGP peers (RFC 4271 5.1.5) and every peer here is eBGP; MetalLB accepts it, but remove it.',
  ]);
});

test('pools holding a router or a node address are a warning: MetalLB accepts them', () => {
  const text = 'peers:\n- peer-address: 10.0.0.65\n  peer-asn: 65002\n  my-asn: 64800\n' + pool('  protocol: bgp\n  addresses: [10.0.0.64/27]\n');
  assert.deepEqual(problemsIn(text, { nodes: ['10.0.0.70'] }), [
    'warning in.yaml:8:15 10.0.0.64/27 in pool "p" holds BGP peer 10.0.0.65; MetalLB accepts it, but a Service given that address would take it over, so leave it out of the pool.',
    'warning in.yaml:8:15 10.0.0.64/27 in pool "p" holds node address 10.0.0.70; MetalLB accepts it, but a Service given that address would take it over, so leave it out of the pool.',
  ]);
});

test('aggregation shorter than a pool prefix, and unknown communities', () => {
  const text = 'bgp-communities:\n  no-advertise: 65535:65282\npeers:\n- {peer-address: 10.0.0.1, peer-asn: 64500, my-asn: 64500}\n' +
    pool('  protocol: bgp\n  addresses: [10.0.0.64/27]\n  bgp-advertisements:\n  - aggregation-length: 24\n    communities: [no-advertize, "70000:1"]\n');
  assert.deepEqual(problemsIn(text), [
    'error in.yaml:10:5 aggregation length /24 is shorter than /27, the widest prefix in 10.0.0.64/27 of pool "p", so the aggregate would announce addresses outside the pool; use /27 or longer.',
    'error in.yaml:10:5 community "no-advertize" is neither a value like 65002:100 nor a defined alias; did you mean "no-advertise"?',
    'error in.yaml:10:5 community "70000:1" is neither a value like 65002:100 nor a defined alias; write it like 65002:100 (16-bit halves) or large:65002:7:8.',
  ]);
});

test('a community alias with a bad value is reported once, with two pools or none', () => {
  const aliases = 'bgp-communities:\n  broken: 65535-65282\n';
  const broken = 'error in.yaml:2:3 community "broken" has the value "65535-65282", which is not like 65002:100 or large:65002:7:8.';
  const twoPools = 'address-pools:\n- {name: a, protocol: layer2, addresses: [10.0.0.64/28]}\n- {name: b, protocol: layer2, addresses: [10.0.0.80/28]}\n';
  assert.deepEqual(problemsIn(aliases + twoPools), [broken]);
  assert.deepEqual(problemsIn(aliases), [broken]);
});

test('YAML syntax errors point at the line, also inside a ConfigMap', () => {
  assert.deepEqual(problemsIn('address-pools:\n- name: p\n  addresses: [10.0.0.1\n'), [
    'error in.yaml:4:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ].',
  ]);
  const configMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata:\n  config: |\n    address-pools:\n    - name: p\n      protocol: bpg\n      addresses: [10.0.0.64/27]\n';
  assert.deepEqual(problemsIn(configMap), ['error in.yaml:8:17 protocol "bpg" is not layer2 or bgp; did you mean bgp?']);
});

test('a file with no YAML document in it is a warning, not a silent pass', () => {
  assert.deepEqual(problemsIn('# the pools will go here\n'), ['warning in.yaml:1:1 this file holds no YAML document (it is empty, or comments only).']);
});

test('a service naming a pool that does not exist', () => {
  const services = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    metallb.universe.tf/address-pool: prod\nspec:\n  type: LoadBalancer\n';
  assert.deepEqual(problemsIn('', { pools: ['production=10.0.0.64/27'], services }), [
    'error svc.yaml:6:39 service default/web asks for pool "prod", which does not exist; did you mean "production"?',
  ]);
});

test('flag values are checked with their column', () => {
  assert.deepEqual(problemsIn('', { pools: ['prod=10.0.0.64/27,protocl=bgp,auto-assign=no'] }), [
    'error --pool #1:-:19 unknown --pool option "protocl"; did you mean "protocol"?',
    'error --pool #1:-:43 "no" is not true or false.',
  ]);
});
