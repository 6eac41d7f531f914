import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, test } from 'node:test';
// The official client's generated models (a dev dependency only: vipkit has its own client).
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { KubernetesClient } from '../../src/kubernetes/api-client.js';
import type { EndpointSlice } from '../../src/kubernetes/api-objects.js';
import { endpointSliceResource, EndpointSlicesUnavailableError, readEndpointSlice, readyNodesByService } from '../../src/kubernetes/endpoint-slices.js';
import { Informer } from '../../src/kubernetes/informer.js';
import { apiVersionOf } from '../../src/kubernetes/resources.js';
import { FakeApiServer, json, startWatch, status } from '../helpers/fake-api-server.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/kubernetes/fixtures/${name}`, import.meta.url), 'utf8')) as EndpointSlice;
const V1 = fixture('endpointslice-v1.json');
const V1BETA1 = fixture('endpointslice-v1beta1.json');

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

test('v1: the node is nodeName; conditions as the API defines them (absent ready is ready, serving follows ready)', () => {
  assert.deepEqual(readEndpointSlice(V1), {
    service: 'shop/web',
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.5'], node: 'node1', ready: true, serving: true, terminating: false },
      { addresses: ['10.244.2.7'], node: 'node2', ready: false, serving: true, terminating: true },
      { addresses: ['10.244.3.9'], node: 'node3', ready: true, serving: true, terminating: false },
      { addresses: ['10.244.4.2'], node: 'node4', ready: false, serving: false, terminating: false },
    ],
  });
});

/** `object` read into the official client's V1EndpointSlice model and written back as JSON (fields it does not know are lost). */
const throughClientModel = (object: object): unknown =>
  JSON.parse(JSON.stringify(ObjectSerializer.serialize(ObjectSerializer.deserialize(object, 'V1EndpointSlice', ''), 'V1EndpointSlice', '')));

test("the v1 fixture is what the official client's V1EndpointSlice model reads and writes: no field unknown, renamed or misplaced", () => {
  const { _source, ...slice } = V1 as EndpointSlice & { _source: string };
  const roundTrip = throughClientModel(slice) as typeof slice;
  // The model holds creationTimestamp as a Date, which writes milliseconds back.
  const timestamp = slice.metadata!.creationTimestamp!;
  assert.equal(roundTrip.metadata!.creationTimestamp, new Date(timestamp).toISOString());
  assert.deepEqual({ ...roundTrip, metadata: { ...roundTrip.metadata, creationTimestamp: timestamp } }, slice);
  const withV1beta1Field = structuredClone(slice) as { endpoints: Record<string, unknown>[] };
  withV1beta1Field.endpoints[0]!.topology = { 'kubernetes.io/hostname': 'node1' };
  assert.notDeepEqual(throughClientModel(withV1beta1Field), withV1beta1Field, "a field the model lacks (v1beta1's topology) is dropped, so this check can fail");
});

test('v1beta1 (captured from kube-apiserver 1.20): the node is topology["kubernetes.io/hostname"]', () => {
  assert.deepEqual(readEndpointSlice(V1BETA1)?.endpoints, [
    { addresses: ['198.51.100.10'], node: 'node1', ready: true, serving: true, terminating: false },
    { addresses: ['198.51.100.11'], node: 'node2', ready: false, serving: false, terminating: false },
    { addresses: ['198.51.100.12'], ready: true, serving: true, terminating: false },
  ]);
});

test('ready nodes per service, over all slices of each, in both versions', () => {
  const second: EndpointSlice = { ...V1, metadata: { ...V1.metadata, name: 'web-def34' }, endpoints: [{ addresses: ['10.244.5.1'], nodeName: 'node5', conditions: { ready: true } }] };
  assert.deepEqual(
    readyNodesByService([V1, V1BETA1, second]),
    new Map([
      ['shop/web', new Set(['node1', 'node3', 'node5'])],
      ['default/web', new Set(['node1'])],
    ]),
  );
});

test('a slice no Service owns, or with null endpoints, is read without failing', () => {
  assert.equal(readEndpointSlice({ ...V1, metadata: { name: 'orphan', namespace: 'shop', labels: {} } }), undefined);
  assert.deepEqual(readEndpointSlice({ ...V1, endpoints: null })?.endpoints, []);
});

async function discover(versions: string[] | 'none') {
  server = await FakeApiServer.start((request, response) => {
    if (request.path !== '/apis/discovery.k8s.io') return status(response, 404, 'NotFound', 'no such path');
    if (versions === 'none') return status(response, 404, 'NotFound', 'the server could not find the requested resource');
    json(response, 200, { kind: 'APIGroup', apiVersion: 'v1', name: 'discovery.k8s.io', versions: versions.map((version) => ({ groupVersion: `discovery.k8s.io/${version}`, version })) });
  });
  return endpointSliceResource(new KubernetesClient({ server: server.url }));
}

test('discovery prefers v1, falls back to v1beta1, and refuses a server with neither', async () => {
  assert.equal(apiVersionOf(await discover(['v1', 'v1beta1'])), 'discovery.k8s.io/v1');
  await server!.close();
  assert.equal(apiVersionOf(await discover(['v1beta1'])), 'discovery.k8s.io/v1beta1');
  await server!.close();
  await assert.rejects(discover('none'), EndpointSlicesUnavailableError);
  await server!.close();
  await assert.rejects(discover(['v1alpha1']), /only as v1alpha1/);
});

test('the v1 path: a server serving v1 is listed and watched at /apis/discovery.k8s.io/v1/endpointslices', async () => {
  server = await FakeApiServer.start((request, response) => {
    if (request.path === '/apis/discovery.k8s.io') return json(response, 200, { kind: 'APIGroup', versions: [{ version: 'v1' }, { version: 'v1beta1' }] });
    if (request.path !== '/apis/discovery.k8s.io/v1/endpointslices') return status(response, 404, 'NotFound', 'not here');
    if (request.query.get('watch') === 'true') return startWatch(response);
    json(response, 200, { kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: '48211' }, items: [V1] });
  });
  const client = new KubernetesClient({ server: server.url });
  const informer = new Informer({ client, resource: await endpointSliceResource(client) });
  informer.start();
  try {
    await informer.waitForSync(5_000);
    await server.waitForRequests(3);
    assert.equal(server.watches()[0]?.path, '/apis/discovery.k8s.io/v1/endpointslices');
    assert.deepEqual(readyNodesByService(informer.objects()), new Map([['shop/web', new Set(['node1', 'node3'])]]));
  } finally {
    await informer.stop();
    client.close();
  }
});
