import assert from 'node:assert/strict';
import { test } from 'node:test';
import { described, fixture, flagsFile, loadFiles, loadText, modelView, SHARED_VALUES } from './helpers.js';

test('the starting deployment parses to one model from Helm values, CRDs and flags', () => {
  const helm = loadFiles([SHARED_VALUES]);
  const crds = loadFiles([fixture('metallb-values-crds.yaml')]);
  const flags = loadFiles([], flagsFile(fixture('metallb-values.flags')));
  for (const source of [helm, crds, flags]) assert.deepEqual(source.problems, []);
  assert.deepEqual(modelView(helm.config), {
    pools: [
      {
        name: 'default',
        protocols: ['bgp'],
        ranges: [{ text: '10.0.0.64/27', range: { family: 4, first: String(0x0a000040), last: String(0x0a00005f), prefixLength: 27 } }],
        autoAssign: true,
        avoidBuggyIPs: false,
        bgpAdvertisements: [{ communities: [] }],
      },
    ],
    peers: [{ address: '10.0.0.27', asn: 65002, myAsn: 64800, nodeSelectors: [] }],
    communityAliases: {},
    bfdProfiles: [],
  });
  assert.deepEqual(modelView(crds.config), modelView(helm.config));
  assert.deepEqual(modelView(flags.config), modelView(helm.config));
});

test("MetalLB's documented examples parse to the same model as ConfigMap and as CRDs", () => {
  for (const name of ['layer2', 'bgp']) {
    const legacy = loadFiles([fixture(`docs-${name}-configmap.yaml`)]);
    const crds = loadFiles([fixture(`docs-${name}-crds.yaml`)]);
    assert.deepEqual(described(legacy.problems), [], name);
    assert.deepEqual(described(crds.problems), [], name);
    assert.deepEqual(modelView(crds.config), modelView(legacy.config), name);
  }
  const bgp = loadFiles([fixture('docs-bgp-configmap.yaml')]).config;
  assert.deepEqual(
    bgp.pools[0]!.bgpAdvertisements.map(({ aggregationLength, localPref, communities }) => ({ aggregationLength, localPref, communities })),
    [
      { aggregationLength: 32, localPref: 100, communities: ['no-advertise'] },
      { aggregationLength: 24, localPref: undefined, communities: [] },
    ],
  );
});

test('files and flags merge into one model; the same pool twice is a conflict at both places', () => {
  const merged = loadFiles([SHARED_VALUES], { pools: ['extra=10.0.1.0/28,avoid-buggy-ips=true'] });
  assert.deepEqual(merged.problems, []);
  assert.deepEqual(merged.config.pools.map((pool) => pool.name), ['default', 'extra']);
  const conflict = loadFiles([SHARED_VALUES], { pools: ['default=10.0.1.0/28'] });
  assert.deepEqual(described(conflict.problems), [`error --pool #1:-:1 pool "default" is also defined at ${SHARED_VALUES}:7:7; remove one or rename it.`]);
});

test('a YAML alias reads as the node its anchor marks; one that cannot is a problem at the alias', () => {
  const shared = loadText('address-pools:\n- name: a\n  protocol: layer2\n  addresses: &ranges [10.0.0.64/28]\n- name: b\n  protocol: layer2\n  addresses: *ranges\n');
  assert.deepEqual(shared.problems, []);
  assert.deepEqual(shared.config.pools.map((pool) => [pool.name, pool.ranges.map((range) => `${range.text} ${range.at.line}:${range.at.column}`)]), [
    ['a', ['10.0.0.64/28 4:23']],
    ['b', ['10.0.0.64/28 4:23']],
  ]);
  assert.deepEqual(described(loadText('address-pools:\n- name: a\n  protocol: layer2\n  addresses: *nowhere\n').problems), [
    'error in.yaml:4:14 alias *nowhere has no anchor &nowhere before it.',
    'error in.yaml:2:3 address pool "a" has no addresses; list its CIDRs or ranges under addresses:.',
  ]);
  assert.deepEqual(described(loadText('address-pools: &pools\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.1/32]\n  bgp-advertisements: *pools\n').problems), [
    'error in.yaml:5:23 alias *pools is inside the node its anchor marks, so it would never end.',
  ]);
  // Each level doubles the last: 2^12 pools' worth of text from a few lines.
  const levels = Array.from({ length: 12 }, (_, level) => `l${level + 1}: &l${level + 1} [*l${level}, *l${level}]`).join('\n');
  const laughs = loadText(`l0: &l0 [10.0.0.1]\n${levels}\naddress-pools: []\n`);
  assert.equal(described(laughs.problems).filter((problem) => problem.includes('this document has more than 100 aliases; write the values out.')).length, 1);
});
