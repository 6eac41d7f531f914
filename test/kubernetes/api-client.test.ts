import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubernetesApiError, KubernetesClient, withQuery } from '../../src/kubernetes/api-client.js';
import { FakeApiServer, json, serveForTest, status } from '../helpers/fake-api-server.js';


test('query strings leave out undefined values and escape the rest', () => {
  assert.equal(withQuery('/api/v1/services', { watch: true, resourceVersion: '5', labelSelector: 'a=b,c in (d)', continue: undefined }), '/api/v1/services?watch=true&resourceVersion=5&labelSelector=a%3Db%2Cc+in+%28d%29');
  assert.equal(withQuery('/api/v1/services'), '/api/v1/services');
});

test("a JSON request: body, content type and token sent; the server's Status becomes a typed error", async (t) => {
  const { server, client } = await serveForTest(
    t,
    (request, response) => {
      if (request.method === 'PATCH') return json(response, 200, { echoed: JSON.parse(request.body), type: request.headers['content-type'] });
      status(response, 409, 'Conflict', 'Operation cannot be fulfilled on leases.coordination.k8s.io "x": the object has been modified');
    },
    { token: 't0k' },
  );
  assert.deepEqual(await client.request('PATCH', '/x', { body: { a: 1 }, contentType: 'application/merge-patch+json' }), { echoed: { a: 1 }, type: 'application/merge-patch+json' });
  assert.equal(server.requests[0]!.headers.authorization, 'Bearer t0k');
  const error = await client.request('PUT', '/y', { body: {} }).catch((caught: unknown) => caught);
  assert.ok(error instanceof KubernetesApiError);
  assert.equal(error.status, 409);
  assert.equal(error.reason, 'Conflict');
  assert.match(error.message, /^PUT \/y: 409 Operation cannot be fulfilled/);
});

test('errors without a Status, answers that are not JSON, answers too large, and silence are all KubernetesApiErrors', async (t) => {
  const { client } = await serveForTest(
    t,
    (request, response) => {
      if (request.path === '/plain') return response.writeHead(502).end('bad gateway\n');
      if (request.path === '/text') return response.writeHead(200).end('<html>');
      if (request.path === '/big') return json(response, 200, { data: 'x'.repeat(2_000) });
      // /silent: never answers
    },
    {},
    () => ({ requestTimeoutMs: 200, maxResponseBytes: 1_000 }),
  );
  await assert.rejects(client.request('GET', '/plain'), (error: unknown) => error instanceof KubernetesApiError && error.status === 502 && /502 bad gateway/.test(error.message));
  await assert.rejects(client.request('GET', '/text'), (error: unknown) => error instanceof KubernetesApiError && /not JSON/.test(error.message));
  await assert.rejects(client.request('GET', '/big'), (error: unknown) => error instanceof KubernetesApiError && /larger than 1000 bytes/.test(error.message));
  const started = Date.now();
  await assert.rejects(client.request('GET', '/silent'), (error: unknown) => error instanceof KubernetesApiError && error.status === 0 && /no answer within 0.2 s/.test(error.message));
  assert.ok(Date.now() - started < 2_000);
});

test('nothing listening: status 0, with the reason', async () => {
  const server = await FakeApiServer.start(() => undefined);
  await server.close();
  const client = new KubernetesClient({ server: server.url });
  await assert.rejects(client.request('GET', '/api'), (error: unknown) => error instanceof KubernetesApiError && error.status === 0 && /ECONNREFUSED/.test(error.message));
  client.close();
});

test('a token file is read at first use and again after a minute, not on every request', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-token-'));
  try {
    const tokenFile = join(folder, 'token');
    writeFileSync(tokenFile, 'first\n');
    const { server, client } = await serveForTest(t, (_request, response) => json(response, 200, {}), { tokenFile });
    await client.request('GET', '/a');
    writeFileSync(tokenFile, 'second\n');
    await client.request('GET', '/b');
    assert.deepEqual(server.requests.map((request) => request.headers.authorization), ['Bearer first', 'Bearer first']);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a watch refused with 410 is an error carrying the status, before any stream is handed over', async (t) => {
  const { client } = await serveForTest(t, (_request, response) => status(response, 410, 'Expired', 'too old resource version: 1 (9)'));
  await assert.rejects(client.openStream('/api/v1/services', { watch: true, resourceVersion: '1' }, 1_000), (error: unknown) => error instanceof KubernetesApiError && error.status === 410 && error.reason === 'Expired');
});
