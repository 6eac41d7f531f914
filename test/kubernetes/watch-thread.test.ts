/**
 * WatchThread against a scripted server: a watch read in the worker thread behaves as
 * KubernetesClient.openStream's own (the body as sent, refusals as typed errors, a broken
 * connection as an error), and whoever stops reading closes the connection. What a busy
 * main thread gains from it is tested against the real API server
 * (busy-consumer-api-server.test.ts).
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import { test, type TestContext } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { KubernetesApiError } from '../../src/kubernetes/api-client.js';
import type { ClusterAccess } from '../../src/kubernetes/cluster-access.js';
import { WatchThread } from '../../src/kubernetes/watch-thread.js';
import { eventLine, serveForTest, startWatch, status, type Handler } from '../helpers/fake-api-server.js';

/** A scripted server and a client of it whose watches go through a WatchThread, closed after the test `t`. */
const threadClient = (t: TestContext, handler: Handler, thread?: (access: ClusterAccess) => WatchThread) =>
  serveForTest(t, handler, {}, (access) => ({ watches: thread?.(access) ?? new WatchThread(access) }));

const closed = (response: ServerResponse) => new Promise<void>((resolve) => response.once('close', resolve));

test('a watch read in the thread: the body exactly as the server sent it, in pieces, then its end', async (t) => {
  const lines = [eventLine('ADDED', { metadata: { name: 'a', resourceVersion: '2' } }), eventLine('MODIFIED', { metadata: { name: 'a', resourceVersion: '3' } })];
  const { server, client } = await threadClient(t, (_request, response) => {
    startWatch(response);
    response.write(lines[0]!.slice(0, 10));
    setTimeout(() => response.end(lines[0]!.slice(10) + lines[1]!), 50);
  });
  const body = await client.openStream('/api/v1/services', { watch: true, resourceVersion: '1' }, 5_000);
  assert.equal(await text(body), lines.join(''));
  assert.equal(server.watches()[0]?.query.get('resourceVersion'), '1', 'the query went to the server');
});

test('a watch refused with 410 is a KubernetesApiError with its status and reason, as without the thread', async (t) => {
  const { client } = await threadClient(t, (_request, response) => status(response, 410, 'Expired', 'too old resource version: 1 (9)'));
  await assert.rejects(
    client.openStream('/api/v1/services', { watch: true, resourceVersion: '1' }, 5_000),
    (error: unknown) => error instanceof KubernetesApiError && error.status === 410 && error.reason === 'Expired' && /too old resource version/.test(error.answer),
  );
});

test('a connection broken mid-watch is an error on the stream', async (t) => {
  const { client } = await threadClient(t, (_request, response) => {
    startWatch(response);
    response.write(eventLine('ADDED', { metadata: { name: 'a' } }));
    setTimeout(() => response.socket?.destroy(), 50);
  });
  const body = await client.openStream('/api/v1/services', { watch: true }, 5_000);
  await assert.rejects(text(body));
});

test('destroying the stream closes the connection to the server', async (t) => {
  let answered: Promise<void> | undefined;
  const { client } = await threadClient(t, (_request, response) => {
    startWatch(response);
    answered = closed(response);
  });
  const body: Readable = await client.openStream('/api/v1/services', { watch: true }, 5_000);
  body.destroy();
  await answered;
});

test('aborting before the server answers rejects the opening and closes the connection', async (t) => {
  let answered: Promise<void> | undefined;
  const { server, client } = await threadClient(t, (_request, response) => {
    answered = closed(response);
  });
  const abort = new AbortController();
  const opening = client.openStream('/api/v1/services', { watch: true }, 5_000, abort.signal);
  await server.waitForRequests(1);
  abort.abort();
  await assert.rejects(opening, (error: unknown) => error instanceof KubernetesApiError && error.status === 0 && /aborted/.test(error.message));
  await answered;
});

test('a watch thread that died is started again for the next watch; the watches it carried fail, so their owners reopen them', async (t) => {
  let thread: WatchThread | undefined;
  const { client } = await threadClient(
    t,
    (_request, response) => {
      startWatch(response);
      response.write(eventLine('ADDED', { metadata: { name: 'a' } }));
    },
    (access) => (thread = new WatchThread(access)),
  );
  const first = await client.openStream('/api/v1/services', { watch: true }, 5_000);
  const failed = finished(first).then(
    () => undefined,
    (error: Error) => error,
  );
  // Nothing in vipkit ends the worker but close(); a crash is simulated by ending it from outside.
  await (Reflect.get(thread!, 'worker') as Worker).terminate();
  assert.match((await failed)?.message ?? '', /watch thread exited/);
  const second = await client.openStream('/api/v1/services', { watch: true }, 5_000, AbortSignal.timeout(5_000));
  const [chunk] = await second.take(1).toArray();
  assert.match(String(chunk), /"ADDED"/);
  second.destroy();
});

test('after close, a watch is refused at once', async (t) => {
  let thread: WatchThread | undefined;
  const { client } = await threadClient(t, (_request, response) => startWatch(response), (access) => (thread = new WatchThread(access)));
  await thread!.close();
  await assert.rejects(client.openStream('/api/v1/services', { watch: true }, 5_000), /watch thread is closed/);
});

test("watches opened, ended and refused one after another leave no listener on their owner's signal", async (t) => {
  let answers = 0;
  const { client } = await threadClient(t, (_request, response) => {
    if (answers++ % 2 === 0) return status(response, 410, 'Expired', 'too old resource version');
    startWatch(response);
    response.end(eventLine('ADDED', { metadata: { name: 'a' } }));
  });
  const owner = new AbortController();
  for (let index = 0; index < 20; index++) {
    const opening = client.openStream('/api/v1/services', { watch: true }, 5_000, owner.signal);
    if (index % 2 === 0) await assert.rejects(opening, /410|too old/);
    else assert.match(await text(await opening), /"ADDED"/);
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(getEventListeners(owner.signal, 'abort').length, 0);
});
