/**
 * Watches read in a worker thread. kube-apiserver (seen with 1.20) stops sending to a
 * watcher that falls behind — its buffer full while the client does not read — without
 * ending the response, so the client hears nothing more until the watch's timeout, minutes
 * later. A speaker's main thread is busy for a second or more per re-read when thousands
 * of Services change at once; reading the streams in their own thread keeps every watch
 * drained, and the events wait in the main thread's queue instead of the server's.
 */
import { PassThrough, type Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { KubernetesApiError, type Query } from './api-client.js';
import type { ClusterAccess } from './cluster-access.js';

/** Main thread -> worker. */
export type WatchRequest = { type: 'open'; id: number; path: string; query: Query; idleMs: number } | { type: 'close'; id: number };

/** Worker -> main thread, about watch `id`: opened or refused, then its data until it ends or fails. */
export type WatchReport =
  | { type: 'opened'; id: number }
  | { type: 'refused'; id: number; method: string; path: string; status: number; answer: string; reason?: string }
  | { type: 'data'; id: number; chunk: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; message: string };

export class WatchThread {
  /** The worker while it runs; a new one is started for the next watch after one died. */
  private worker: Worker | undefined;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (stream: Readable) => void; reject: (error: Error) => void; stream: PassThrough }>();
  private readonly streams = new Map<number, PassThrough>();

  constructor(private readonly access: ClusterAccess) {}

  /** As KubernetesClient.openStream: the body once the server accepted the watch, or its refusal. */
  open(path: string, query: Query, idleMs: number, signal?: AbortSignal): Promise<Readable> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new KubernetesApiError('GET', path, 0, 'aborted'));
      if (this.closed) return reject(new KubernetesApiError('GET', path, 0, 'the watch thread is closed'));
      const stream = new PassThrough();
      const close = () => {
        // The signal lives as long as the informer: a listener left on it per watch would pile up.
        signal?.removeEventListener('abort', onAbort);
        if (!this.streams.has(id) && !this.pending.has(id)) return;
        this.streams.delete(id);
        this.pending.delete(id);
        this.post({ type: 'close', id });
      };
      const onAbort = () => {
        const waiting = this.pending.get(id);
        close();
        waiting?.reject(new KubernetesApiError('GET', path, 0, 'aborted'));
        stream.destroy();
      };
      stream.once('close', close);
      signal?.addEventListener('abort', onAbort, { once: true });
      // A refused watch's stream is never handed out: destroying it runs `close`.
      const refuse = (error: Error) => {
        stream.destroy();
        reject(error);
      };
      this.pending.set(id, { resolve, reject: refuse, stream });
      this.post({ type: 'open', id, path, query, idleMs });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }

  private post(request: WatchRequest): void {
    if (!this.closed) this.running().postMessage(request);
  }

  /** The worker, started at the first watch and again after one died (its watches fail, and their owners open them again). */
  private running(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL('./watch-thread-worker.js', import.meta.url), { workerData: this.access });
    // Watches alone must not keep the process alive: their owners end them on stop.
    worker.unref();
    worker.on('message', (report: WatchReport) => this.receive(report));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error(`the watch thread exited (${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private receive(report: WatchReport): void {
    const waiting = this.pending.get(report.id);
    if (waiting !== undefined) {
      this.pending.delete(report.id);
      if (report.type === 'refused') waiting.reject(new KubernetesApiError(report.method, report.path, report.status, report.answer, report.reason));
      else {
        this.streams.set(report.id, waiting.stream);
        waiting.resolve(waiting.stream);
      }
      return;
    }
    const stream = this.streams.get(report.id);
    if (stream === undefined) return;
    if (report.type === 'data') stream.write(Buffer.from(report.chunk.buffer, report.chunk.byteOffset, report.chunk.byteLength));
    else if (report.type === 'end') {
      this.streams.delete(report.id);
      stream.end();
    } else if (report.type === 'error') {
      this.streams.delete(report.id);
      stream.destroy(new Error(report.message));
    }
  }

  private failAll(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    for (const stream of this.streams.values()) stream.destroy(error);
    this.pending.clear();
    this.streams.clear();
  }
}
