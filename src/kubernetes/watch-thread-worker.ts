/**
 * The worker thread of WatchThread: opens the watches the main thread asks for with its
 * own client, and passes their bodies on as they arrive, so that no watch waits for the
 * main thread to be free.
 */
import { finished, type Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { KubernetesApiError, KubernetesClient } from './api-client.js';
import type { ClusterAccess } from './cluster-access.js';
import type { WatchReport, WatchRequest } from './watch-thread.js';

const port = parentPort!;
const client = new KubernetesClient(workerData as ClusterAccess);
/** Watches asked for and not yet closed: the abort of the opening, then the body. */
const opening = new Map<number, AbortController>();
const open = new Map<number, Readable>();

const report = (message: WatchReport, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function watch({ id, path, query, idleMs }: Extract<WatchRequest, { type: 'open' }>): Promise<void> {
  const abort = new AbortController();
  opening.set(id, abort);
  let response: Readable;
  try {
    response = await client.openStream(path, query, idleMs, abort.signal);
  } catch (error) {
    if (!opening.delete(id)) return;
    const refusal = error instanceof KubernetesApiError ? error : new KubernetesApiError('GET', path, 0, (error as Error).message);
    report({ type: 'refused', id, method: refusal.method, path: refusal.path, status: refusal.status, answer: refusal.answer, ...(refusal.reason === undefined ? {} : { reason: refusal.reason }) });
    return;
  }
  if (!opening.delete(id)) {
    response.destroy();
    return;
  }
  open.set(id, response);
  report({ type: 'opened', id });
  response.on('data', (data: Buffer) => {
    // A copy of its own, so that its memory moves to the main thread instead of being copied again.
    const chunk = new Uint8Array(data);
    report({ type: 'data', id, chunk }, [chunk.buffer]);
  });
  finished(response, (error) => {
    if (!open.delete(id)) return;
    report(error ? { type: 'error', id, message: error.message } : { type: 'end', id });
  });
}

port.on('message', (request: WatchRequest) => {
  if (request.type === 'open') {
    void watch(request);
    return;
  }
  opening.get(request.id)?.abort();
  opening.delete(request.id);
  const response = open.get(request.id);
  open.delete(request.id);
  response?.destroy();
});
