/**
 * List, then watch, one resource: a local copy of every object (the store) kept current
 * and every change reported once. As client-go's reflector does it: the list is read in
 * pages and the watch starts from its resourceVersion with bookmarks; a watch that ends
 * is reopened from the last version seen; 410 Gone (an answer, or an ERROR event with
 * code 410) means that version is compacted away, so the resource is listed again and
 * the difference reported, nothing lost and nothing twice. Errors wait a jittered,
 * growing back-off; the store stays as it was meanwhile (the last known state).
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubernetesApiError, type KubernetesClient, type Query } from './api-client.js';
import type { KubernetesObject, ObjectList } from './api-objects.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { apiVersionOf, objectKey, resourcePath, type Resource } from './resources.js';
import { WatchDecoder, type WatchEvent } from './watch-stream.js';

export type Change<T> =
  | { type: 'added'; key: string; object: T }
  | { type: 'modified'; key: string; object: T; previous: T }
  | { type: 'deleted'; key: string; object: T };

export interface InformerEvents<T> {
  /** One object appeared, changed or went, in the order the server said so. */
  change: [change: Change<T>];
  /** A list completed and the store holds exactly what it returned (differences were reported as changes). */
  synced: [info: { objects: number; resourceVersion: string; relisted: boolean }];
  /** The API server cannot be reached or refused; the store keeps the last known state. */
  disconnected: [info: { error: Error; retryInMs: number }];
  /** Talking to the API server again after `disconnected`. */
  reconnected: [];
  /** The watch's resourceVersion expired (410 Gone): the resource is listed again. */
  expired: [info: { resourceVersion: string; message: string }];
}

export interface InformerOptions<T extends KubernetesObject> {
  client: KubernetesClient;
  resource: Resource<T>;
  /** Only this namespace; default all. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Objects per list page. Default 500. */
  pageSize?: number;
  /** The server ends each watch after this long (a random 5-10 min by default, as client-go). */
  watchTimeoutSeconds?: number;
  /** More objects than this is an error rather than unbounded memory. Default 100,000. */
  maxObjects?: number;
  backoff?: BackoffOptions;
}

const IDLE_MARGIN_SECONDS = 30;
/** A watch that ends sooner than this without an event counts as a failure (back off). */
const SHORT_WATCH_MS = 1_000;

export class InformerError extends Error {}

class Gone extends Error {}

function isGone(error: unknown): boolean {
  return error instanceof Gone || (error instanceof KubernetesApiError && error.status === 410);
}

export class Informer<T extends KubernetesObject> extends EventEmitter<InformerEvents<T>> {
  private readonly store = new Map<string, T>();
  private resourceVersion = '';
  private hasSynced = false;
  private connected = true;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly relistBackoff: Backoff;
  /** An event arrived since the last 410. */
  private progressed = true;
  private readonly path: string;
  private readonly apiVersion: string;
  private readonly pageSize: number;
  private readonly maxObjects: number;

  constructor(private readonly options: InformerOptions<T>) {
    super();
    this.backoff = new Backoff(options.backoff);
    this.relistBackoff = new Backoff(options.backoff);
    this.path = resourcePath(options.resource, options.namespace === undefined ? {} : { namespace: options.namespace });
    this.apiVersion = apiVersionOf(options.resource);
    this.pageSize = options.pageSize ?? 500;
    this.maxObjects = options.maxObjects ?? 100_000;
  }

  /** Starts listing and watching; a second call does nothing. */
  start(): void {
    this.running ??= this.run();
  }

  /** Ends the watch and any wait; resolves when nothing runs any more. The store stays readable. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  /** False from a failed request until the next one succeeds. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** The version the store is at: the last list's, then the last event's or bookmark's. */
  get version(): string {
    return this.resourceVersion;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  objects(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  /** Resolves after the first list, or rejects after `timeoutMs` or when stopped first. */
  waitForSync(timeoutMs: number): Promise<void> {
    if (this.hasSynced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.off('synced', onSynced);
        this.abort.signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onSynced = (): void => done();
      const onAbort = (): void => done(new InformerError(`${this.options.resource.plural}: stopped before the first list`));
      const timer = setTimeout(() => done(new InformerError(`${this.options.resource.plural}: not listed within ${timeoutMs / 1000} s`)), timeoutMs);
      this.on('synced', onSynced);
      this.abort.signal.addEventListener('abort', onAbort);
    });
  }

  private get selectors(): Query {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let mustList = true;
    while (!signal.aborted) {
      try {
        if (mustList) {
          await this.list(signal);
          mustList = false;
        }
        await this.watch(signal);
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          mustList = true;
          this.emit('expired', { resourceVersion: this.resourceVersion, message: (error as Error).message });
          // Gone again before any event: a server that keeps saying so is not listed in a loop.
          if (this.progressed) this.relistBackoff.reset();
          else if (!(await this.pause(this.relistBackoff.next(), signal))) break;
          this.progressed = false;
          continue;
        }
        const retryInMs = this.backoff.next();
        this.connected = false;
        this.emit('disconnected', { error: error as Error, retryInMs });
        if (!(await this.pause(retryInMs, signal))) break;
      }
    }
  }

  /** Waits `ms`; false when stopped meanwhile. */
  private async pause(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }

  private markConnected(): void {
    this.backoff.reset();
    if (this.connected) return;
    this.connected = true;
    this.emit('reconnected');
  }

  /** Reads every page, then replaces the store and reports what differs from it. */
  private async list(signal: AbortSignal): Promise<void> {
    const listed = new Map<string, T>();
    let version = '';
    let next: string | undefined;
    do {
      const page = await this.options.client.request<ObjectList<T>>('GET', this.path, {
        query: { ...this.selectors, limit: this.pageSize, continue: next },
        signal,
      });
      // A list's items come without apiVersion and kind (watch events' objects have them).
      for (const item of page.items ?? []) listed.set(objectKey(item), { ...item, apiVersion: item.apiVersion ?? this.apiVersion, kind: item.kind ?? this.options.resource.kind });
      if (listed.size > this.maxObjects) throw new InformerError(`${this.options.resource.plural}: more than ${this.maxObjects} objects`);
      version = page.metadata?.resourceVersion ?? version;
      next = page.metadata?.continue || undefined;
    } while (next !== undefined);
    this.markConnected();
    const relisted = this.hasSynced;
    for (const [key, object] of [...this.store]) {
      if (!listed.has(key)) {
        this.store.delete(key);
        this.emit('change', { type: 'deleted', key, object });
      }
    }
    for (const [key, object] of listed) this.upsert(key, object);
    this.resourceVersion = version;
    this.hasSynced = true;
    this.emit('synced', { objects: this.store.size, resourceVersion: version, relisted });
  }

  private upsert(key: string, object: T): void {
    const previous = this.store.get(key);
    if (previous !== undefined && previous.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    if (previous === undefined && this.store.size >= this.maxObjects) throw new InformerError(`${this.options.resource.plural}: more than ${this.maxObjects} objects`);
    this.store.set(key, object);
    this.emit('change', previous === undefined ? { type: 'added', key, object } : { type: 'modified', key, object, previous });
  }

  /** One watch, from the store's version until the server ends it (resolves) or it fails (throws). */
  private async watch(signal: AbortSignal): Promise<void> {
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? Math.round(300 * (1 + Math.random()));
    const started = Date.now();
    const response = await this.options.client.openStream(
      this.path,
      { ...this.selectors, watch: true, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
      (timeoutSeconds + IDLE_MARGIN_SECONDS) * 1000,
      signal,
    );
    this.markConnected();
    const decoder = new WatchDecoder<T>();
    let events = 0;
    try {
      for await (const chunk of response) {
        for (const event of decoder.push(chunk as Buffer)) {
          events += 1;
          this.apply(event);
        }
      }
      for (const event of decoder.end()) {
        events += 1;
        this.apply(event);
      }
    } finally {
      response.destroy();
    }
    if (events === 0 && Date.now() - started < SHORT_WATCH_MS) throw new InformerError(`${this.options.resource.plural}: the watch ended at once`);
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      const status = event.object;
      const message = `${this.options.resource.plural}: watch error ${status.code ?? '?'} ${status.reason ?? ''}: ${status.message ?? ''}`;
      throw status.code === 410 ? new Gone(message) : new InformerError(message);
    }
    this.progressed = true;
    const version = event.object.metadata?.resourceVersion;
    if (event.type !== 'BOOKMARK') {
      const key = objectKey(event.object);
      if (event.type === 'DELETED') {
        const previous = this.store.get(key);
        this.store.delete(key);
        if (previous !== undefined) this.emit('change', { type: 'deleted', key, object: event.object });
      } else {
        this.upsert(key, event.object);
      }
    }
    if (version !== undefined && version !== '') this.resourceVersion = version;
  }
}
