import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test, type TestContext } from 'node:test';
import { ClusterWatch, metallbResources } from '../../src/kubernetes/cluster-watch.js';
import { apiVersionOf } from '../../src/kubernetes/resources.js';
import { json, serveForTest, startWatch, status } from '../helpers/fake-api-server.js';


async function served(t: TestContext, versions: Record<string, string[]> | undefined) {
  const { client } = await serveForTest(t, (request, response) => {
    if (versions === undefined) return status(response, 404, 'NotFound', 'the server could not find the requested resource');
    if (request.path === '/apis/metallb.io') return json(response, 200, { kind: 'APIGroup', name: 'metallb.io', versions: Object.keys(versions).map((version) => ({ version })) });
    const version = request.path.split('/')[3]!;
    json(response, 200, { kind: 'APIResourceList', groupVersion: `metallb.io/${version}`, resources: versions[version]!.map((name) => ({ name })) });
  });
  return (await metallbResources(client)).map((resource) => `${resource.plural} ${apiVersionOf(resource)}`);
}

test("MetalLB's kinds at vipkit's versions when served, else at the version that serves them; none without CRDs", async (t) => {
  assert.deepEqual(await served(t, { v1beta1: ['ipaddresspools', 'l2advertisements', 'bgpadvertisements', 'bgppeers', 'communities', 'bfdprofiles'], v1beta2: ['bgppeers'] }), [
    'ipaddresspools metallb.io/v1beta1',
    'l2advertisements metallb.io/v1beta1',
    'bgpadvertisements metallb.io/v1beta1',
    'bgppeers metallb.io/v1beta2',
    'communities metallb.io/v1beta1',
    'bfdprofiles metallb.io/v1beta1',
  ]);
  assert.deepEqual(await served(t, { v1beta1: ['ipaddresspools', 'bgppeers', 'ipaddresspools/status'] }), ['ipaddresspools metallb.io/v1beta1', 'bgppeers metallb.io/v1beta1']);
  assert.deepEqual(await served(t, undefined), []);
});

test('one snapshot after every resource is listed, one per burst of changes; the last one stands while disconnected', async (t) => {
  const watches: ServerResponse[] = [];
  let failing = false;
  const { server, client } = await serveForTest(t, (request, response) => {
    if (failing) return status(response, 503, 'ServiceUnavailable', 'down');
    if (request.path === '/apis/discovery.k8s.io') return json(response, 200, { versions: [{ version: 'v1' }] });
    if (request.path === '/apis/metallb.io') return status(response, 404, 'NotFound', 'no');
    if (request.query.get('watch') === 'true') {
      startWatch(response);
      watches.push(response);
      return;
    }
    const items = request.path === '/api/v1/services' ? [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', resourceVersion: '1' }, spec: { type: 'LoadBalancer' } }] : [];
    json(response, 200, { metadata: { resourceVersion: '1' }, items });
  });
  const watch = await ClusterWatch.start(client, { settleMs: 30, backoff: { initialMs: 20, maxMs: 20 } });
  try {
    assert.deepEqual(watch.resources, ['services.core', 'endpointslices.discovery.k8s.io', 'nodes.core', 'namespaces.core']);
    const snapshots: string[] = [];
    watch.on('snapshot', (snapshot) => snapshots.push(snapshot.services.text));
    const first = await watch.waitForSnapshot(5_000);
    assert.match(first.services.text, /"web"/);
    assert.equal(first.metallb, undefined);
    await server.waitForRequests(10);
    const services = watches.find((_response, index) => server.watches()[index]!.path === '/api/v1/services')!;
    const line = (name: string, version: string) => `${JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', resourceVersion: version }, spec: { type: 'LoadBalancer' } } })}\n`;
    services.write(line('a', '2') + line('b', '3'));
    services.write(line('c', '4'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(snapshots.length, 2, 'the list gave one snapshot, the burst one more');
    assert.match(snapshots[1]!, /"a"[^]*"b"[^]*"c"[^]*"web"/);

    failing = true;
    const disconnected = new Promise((resolve) => watch.once('disconnected', resolve));
    for (const response of watches) response.destroy();
    await disconnected;
    assert.equal(watch.connected, false);
    assert.equal(watch.snapshot?.services.text, snapshots[1], 'the last known cluster stands');
  } finally {
    await watch.stop();
  }
});
