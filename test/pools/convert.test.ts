import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convert, type Target } from '../../src/pools/convert.js';
import type { PoolsConfig } from '../../src/pools/model.js';
import { kubernetesName } from '../../src/pools/value-parsers.js';
import { described, fixture, loadFiles, loadText, modelView, SHARED_VALUES } from './helpers.js';

function converted(config: PoolsConfig, target: Target): string {
  const result = convert(config, target);
  assert.ok('text' in result, 'reason' in result ? result.reason : '');
  return result.text;
}

/** Reads what a conversion wrote back into the model. */
function reread(config: PoolsConfig, target: Target): PoolsConfig {
  const text = converted(config, target);
  const source =
    target === 'flags'
      ? loadText('', {
          pools: text.split('\n').filter((line) => line.startsWith('--pool ')).map((line) => line.slice('--pool '.length)),
          peers: text.split('\n').filter((line) => line.startsWith('--peer ')).map((line) => line.slice('--peer '.length)),
        })
      : loadText(text);
  assert.deepEqual(described(source.problems), []);
  return source.config;
}

test('legacy -> CRDs -> legacy and -> flags keep the model', () => {
  for (const path of [SHARED_VALUES, fixture('docs-layer2-configmap.yaml'), fixture('docs-bgp-configmap.yaml')]) {
    const original = loadFiles([path]).config;
    const viaCrds = reread(original, 'crds');
    assert.deepEqual(modelView(viaCrds), modelView(original), `${path} via CRDs`);
    assert.deepEqual(modelView(reread(viaCrds, 'legacy')), modelView(original), `${path} back to legacy`);
  }
  const starting = loadFiles([SHARED_VALUES]).config;
  assert.deepEqual(modelView(reread(starting, 'flags')), modelView(starting));
  assert.equal(converted(starting, 'flags'), '--pool default=10.0.0.64/27,protocol=bgp\n--peer 10.0.0.27,asn=65002,my-asn=64800\n');
});

test('CRDs are named as configmaptocrs names them', () => {
  const config = loadFiles([fixture('docs-bgp-configmap.yaml')]).config;
  const names = (convert(config, 'crds') as { objects: { kind: string; metadata: { name: string } }[] }).objects.map((object) => `${object.kind}/${object.metadata.name}`);
  assert.deepEqual(names, ['BGPPeer/peer1', 'IPAddressPool/default', 'BGPAdvertisement/bgpadvertisement1', 'BGPAdvertisement/bgpadvertisement2', 'Community/communities']);
  assert.equal(kubernetesName('01-numbered-addresspool'), 'numbered-addresspool');
  assert.equal(kubernetesName('Capitalized-AddressPool'), 'capitalized-addresspool');
  assert.equal(kubernetesName('underscored_bfd_profile'), 'underscored-bfd-profile');
  assert.equal(kubernetesName('tooLongBFDProfileName01-tooLongBFDProfileName02-tooLongBFDProfileName03'), 'toolongbfdprofilename01-toolongbfdprofilename02-toolongbfdprofi');
});

test('what a format cannot hold is refused with the reason', () => {
  const twoAdvertisements = loadFiles([fixture('docs-bgp-configmap.yaml')]).config;
  assert.deepEqual(convert(twoAdvertisements, 'flags'), { reason: 'pool default has 2 BGP advertisements; --pool holds one.' });
  const unadvertised = loadText('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: [192.0.2.0/28]}\n').config;
  assert.deepEqual(convert(unadvertised, 'legacy'), { reason: 'pool p is advertised by no protocol; a legacy pool has exactly one protocol.' });
});

test('CRDs are refused when two pools would share a Kubernetes name or a name comes out empty; renames are warned of', () => {
  const clashing = loadText('', { pools: ['Prod=192.0.2.0/28', 'prod=192.0.2.16/28'] }).config;
  assert.deepEqual(convert(clashing, 'crds'), { reason: 'pools "Prod" and "prod" would both be the IPAddressPool "prod"; rename one of them.' });
  const numbered = loadText('', { pools: ['123=192.0.2.0/28'] }).config;
  assert.deepEqual(convert(numbered, 'crds'), { reason: 'pool "123" has no letter to start a Kubernetes name with, so it cannot name an IPAddressPool; rename it.' });
  const renamed = convert(loadText('', { pools: ['Prod=192.0.2.0/28'] }).config, 'crds');
  assert.ok('warnings' in renamed);
  assert.deepEqual(renamed.warnings, ['pool "Prod" is named "prod" in the CRDs, a valid Kubernetes name; update annotations that name it.']);
});
