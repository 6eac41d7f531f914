/**
 * The informer's own handling, against a scripted HTTP server: pages, watch streams cut
 * anywhere, bookmarks, 410 as an answer and as an ERROR event, a broken connection,
 * server errors and a clean stop. (What a real API server does is tested in the lab.)
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { afterEach, test } from 'node:test';
import { KubernetesClient } from '../../src/kubernetes/api-client.js';
import type { Service } from '../../src/kubernetes/api-objects.js';
import { Informer, type Change } from '../../src/kubernetes/informer.js';
import { SERVICES } from '../../src/kubernetes/resources.js';
import { eventLine, FakeApiServer, json, startWatch, status, type SeenRequest } from '../helpers/fake-api-server.js';

const PATH = '/api/v1/services';
const service = (name: string, resourceVersion: string, labels: Record<string, string> = {}): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', resourceVersion, labels },
  spec: { type: 'LoadBalancer' },
});
const list = (resourceVersion: string, items: Service[], next?: string) => ({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion, ...(next ? { continue: next } : {}) }, items });

let server: FakeApiServer | undefined;
let informer: Informer<Service> | undefined;
let client: KubernetesClient | undefined;
afterEach(async () => {
  await informer?.stop();
  client?.close();
  await server?.close();
  informer = client = server = undefined;
});

/** An informer of services against a fake answering with `handler`; its changes and other events, in order. */
async function start(handler: (request: SeenRequest, response: ServerResponse) => void, options: { pageSize?: number; maxObjects?: number } = {}) {
  server = await FakeApiServer.start(handler);
  client = new KubernetesClient({ server: server.url, token: 'secret-token' });
  informer = new Informer({ client, resource: SERVICES, watchTimeoutSeconds: 60, backoff: { initialMs: 20, maxMs: 40 }, ...options });
  const log: string[] = [];
  const changes: Change<Service>[] = [];
  informer.on('change', (change) => {
    changes.push(change);
    log.push(`${change.type} ${change.key}@${change.object.metadata?.resourceVersion}`);
  });
  informer.on('synced', ({ objects, resourceVersion, relisted }) => log.push(`synced ${objects}@${resourceVersion}${relisted ? ' again' : ''}`));
  informer.on('expired', () => log.push('expired'));
  informer.on('disconnected', () => log.push('disconnected'));
  informer.on('reconnected', () => log.push('reconnected'));
  informer.start();
  return { log, changes, informer, server };
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('lists page by page, then watches from the list version with bookmarks, a bearer token and the chosen timeout', async () => {
  const pending: ServerResponse[] = [];
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') {
      startWatch(response);
      pending.push(response);
    } else if (request.query.get('continue') === 'page2') {
      json(response, 200, list('100', [service('b', '90')]));
    } else {
      json(response, 200, list('100', [service('a', '80')], 'page2'));
    }
  }, { pageSize: 1 });
  await informer!.waitForSync(5_000);
  await fake.waitForRequests(3);
  const [first, second, watch] = fake.requests;
  assert.equal(first!.query.get('limit'), '1');
  assert.equal(first!.query.get('continue'), null);
  assert.equal(second!.query.get('continue'), 'page2');
  assert.equal(watch!.path, PATH);
  assert.equal(watch!.query.get('resourceVersion'), '100');
  assert.equal(watch!.query.get('allowWatchBookmarks'), 'true');
  assert.equal(watch!.query.get('timeoutSeconds'), '60');
  assert.equal(watch!.headers.authorization, 'Bearer secret-token');
  assert.deepEqual(log, ['added default/a@80', 'added default/b@90', 'synced 2@100']);
  assert.deepEqual(informer!.objects().map((object) => object.metadata?.name), ['a', 'b']);
  pending[0]!.end();
});

test("a list's items, which the API server sends without apiVersion and kind, are stored with them", async () => {
  const bare = ({ apiVersion: _apiVersion, kind: _kind, ...rest }: Service) => rest;
  const { server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') return startWatch(response);
    json(response, 200, list('1', [bare(service('a', '1'))]));
  });
  await informer!.waitForSync(5_000);
  await fake.waitForRequests(2);
  assert.deepEqual(informer!.get('default/a'), service('a', '1'));
});

test('watch events split across chunks at odd places are applied in order; bookmarks move the version only', async () => {
  let watchResponse: ServerResponse | undefined;
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') {
      startWatch(response);
      watchResponse ??= response;
    } else json(response, 200, list('5', [service('a', '5')]));
  });
  await fake.waitForRequests(2);
  const body = [
    eventLine('ADDED', service('b', '6')),
    eventLine('MODIFIED', service('a', '7', { tier: 'front' })),
    eventLine('BOOKMARK', { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: '20' } }),
    eventLine('DELETED', service('b', '21')),
  ].join('');
  // Written in uneven pieces, with pauses, so the client really sees partial lines.
  for (let start = 0; start < body.length; start += 37) {
    watchResponse!.write(body.slice(start, start + 37));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await until('the deletion', () => log.includes('deleted default/b@21'));
  assert.deepEqual(log, ['added default/a@5', 'synced 1@5', 'added default/b@6', 'modified default/a@7', 'deleted default/b@21']);
  assert.equal(informer!.version, '21');
  assert.equal(informer!.get('default/a')?.metadata?.labels?.tier, 'front');
  // The server ends the watch (its timeout): the next starts where the last left off.
  watchResponse!.end();
  await fake.waitForRequests(3);
  assert.equal(fake.watches()[1]!.query.get('resourceVersion'), '21');
  assert.equal(fake.lists().length, 1, 'no new list after a watch that ended normally');
});

test('the same object version twice (a watch replaying what the list gave) is reported once', async () => {
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') {
      startWatch(response);
      response.write(eventLine('ADDED', service('a', '5')) + eventLine('MODIFIED', service('a', '5')) + eventLine('MODIFIED', service('a', '6')));
    } else json(response, 200, list('5', [service('a', '5')]));
  });
  await fake.waitForRequests(2);
  await until('the modification', () => log.includes('modified default/a@6'));
  assert.deepEqual(log, ['added default/a@5', 'synced 1@5', 'modified default/a@6']);
});

test('410 Gone answering the watch: listed again, and only the differences are reported', async () => {
  let lists = 0;
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') {
      if (request.query.get('resourceVersion') === '10') return status(response, 410, 'Expired', 'too old resource version: 10 (50)');
      startWatch(response);
    } else {
      lists += 1;
      json(response, 200, lists === 1 ? list('10', [service('a', '10'), service('b', '10'), service('c', '10')]) : list('60', [service('a', '10'), service('b', '55'), service('d', '58')]));
    }
  });
  await fake.waitForRequests(4);
  await until('the second list', () => log.some((line) => line.endsWith('again')));
  assert.deepEqual(log, [
    'added default/a@10',
    'added default/b@10',
    'added default/c@10',
    'synced 3@10',
    'expired',
    'deleted default/c@10',
    'modified default/b@55',
    'added default/d@58',
    'synced 3@60 again',
  ]);
  assert.equal(fake.watches()[1]!.query.get('resourceVersion'), '60');
});

test('an ERROR event with code 410 in the stream lists again; other ERROR events back off and watch again', async () => {
  let watches = 0;
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') !== 'true') return json(response, 200, list(watches === 0 ? '10' : '70', [service('a', watches === 0 ? '10' : '65')]));
    watches += 1;
    startWatch(response);
    if (watches === 1) response.end(eventLine('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'etcd hiccup' }));
    else if (watches === 2) response.end(eventLine('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'The resourceVersion for the provided watch is too old.' }));
  });
  await until('the second list', () => log.some((line) => line.endsWith('again')));
  await fake.waitForRequests(5);
  assert.deepEqual(log, ['added default/a@10', 'synced 1@10', 'disconnected', 'reconnected', 'expired', 'modified default/a@65', 'synced 1@70 again']);
  assert.deepEqual(fake.watches().map((watch) => watch.query.get('resourceVersion')), ['10', '10', '70']);
});

test('a connection broken mid-event: the half event is dropped, and the watch resumes from the last whole one without a list', async () => {
  let watches = 0;
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') !== 'true') return json(response, 200, list('10', []));
    watches += 1;
    startWatch(response);
    if (watches === 1) {
      const half = eventLine('ADDED', service('b', '12'));
      response.write(eventLine('ADDED', service('a', '11')) + half.slice(0, half.length / 2));
      setTimeout(() => response.socket?.destroy(), 20);
    } else response.write(eventLine('ADDED', service('b', '12')));
  });
  await until('b', () => log.includes('added default/b@12'));
  assert.deepEqual(log, ['synced 0@10', 'added default/a@11', 'disconnected', 'reconnected', 'added default/b@12']);
  assert.deepEqual(fake.watches().map((watch) => watch.query.get('resourceVersion')), ['10', '11']);
  assert.equal(fake.lists().length, 1);
});

test('errors on the list back off with growing, jittered delays until a list succeeds', async () => {
  let lists = 0;
  const delays: number[] = [];
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') return startWatch(response);
    lists += 1;
    if (lists <= 3) return status(response, 503, 'ServiceUnavailable', 'starting');
    json(response, 200, list('3', [service('a', '3')]));
  });
  informer!.on('disconnected', ({ error, retryInMs }) => {
    delays.push(retryInMs);
    assert.match(error.message, /503 starting/);
  });
  await informer!.waitForSync(5_000);
  assert.deepEqual(log, ['disconnected', 'disconnected', 'disconnected', 'reconnected', 'added default/a@3', 'synced 1@3']);
  assert.equal(delays.length, 3);
  assert.ok(delays[0]! >= 10 && delays[0]! <= 20 && delays.slice(1).every((delay) => delay >= 20 && delay <= 40), `initial 20 ms, then up to the 40 ms ceiling, less up to half: ${delays.join(', ')}`);
  assert.equal(informer!.isConnected, true);
  await fake.waitForRequests(5);
});

test('a watch the server ends at once, again and again, is backed off rather than spun on', async () => {
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') !== 'true') return json(response, 200, list('1', []));
    startWatch(response);
    response.end();
  });
  await fake.waitForRequests(4);
  await informer!.stop();
  const started = fake.watches().length;
  assert.ok(started <= 6, `${started} watches`);
  assert.ok(log.filter((line) => line === 'disconnected').length >= 2);
});

test('stop() ends an open watch and a back-off wait at once; waitForSync then rejects', async () => {
  const { server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') return startWatch(response);
    json(response, 200, list('1', []));
  });
  await fake.waitForRequests(2);
  const before = Date.now();
  await informer!.stop();
  assert.ok(Date.now() - before < 1_000);

  await server!.close();
  server = await FakeApiServer.start((_request, response) => status(response, 500, 'InternalError', 'down'));
  const failing = new Informer({ client: new KubernetesClient({ server: server.url }), resource: SERVICES, backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
  failing.start();
  const sync = failing.waitForSync(10_000);
  await server.waitForRequests(1);
  const stopping = Date.now();
  await failing.stop();
  assert.ok(Date.now() - stopping < 1_000, 'the minute-long back-off did not hold stop() up');
  await assert.rejects(sync, /stopped before the first list/);
});

test('more objects than allowed is an error, not unbounded memory', async () => {
  const { log } = await start((request, response) => {
    if (request.query.get('watch') === 'true') return startWatch(response);
    json(response, 200, list('1', [service('a', '1'), service('b', '1'), service('c', '1')]));
  }, { maxObjects: 2 });
  await until('the refusal', () => log.includes('disconnected'));
  assert.equal(informer!.synced, false);
});

test('a server answering every watch with 410 is listed again after growing delays, not in a loop', async () => {
  const { log, server: fake } = await start((request, response) => {
    if (request.query.get('watch') === 'true') return status(response, 410, 'Expired', 'too old resource version');
    json(response, 200, list('1', [service('a', '1')]));
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await informer!.stop();
  const lists = fake.lists().length;
  assert.ok(lists >= 3 && lists <= 15, `${lists} lists in 300 ms`);
  assert.deepEqual(log.filter((line) => line.startsWith('added')), ['added default/a@1'], 'nothing reported twice meanwhile');
});
