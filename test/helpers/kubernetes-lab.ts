/**
 * Tests against a real API server in a lab: a test that skips loudly when the lab or the
 * API server binaries are missing, and a driver for vipkit's client running inside a lab
 * host's namespace (kubernetes-client-process.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, type TestContext, type TestOptions } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ClusterSnapshot } from '../../src/kubernetes/cluster-snapshot.js';
import { KubeApiServer, kubeApiServerUnavailableReason } from '../../src/lab/kube-apiserver.js';
import { Lab } from '../../src/lab/lab.js';
import { labTest, labUnavailableReason } from './root.js';

const CLIENT_PROCESS = fileURLToPath(new URL('./kubernetes-client-process.js', import.meta.url));
const CALL_TIMEOUT_MS = 20_000;
const WAIT_TIMEOUT_MS = 20_000;

/** A lab test that also needs kube-apiserver, kubectl and etcd; without them it skips saying which is missing. */
export function kubeLabTest(name: string, fn: (t: TestContext) => Promise<void>, options: TestOptions = {}): void {
  labTest(
    name,
    async (t) => {
      const reason = kubeApiServerUnavailableReason();
      if (reason !== undefined) {
        t.skip(reason);
        return;
      }
      await fn(t);
    },
    { timeout: 120_000, ...options },
  );
}

export interface Notification {
  informer: number;
  event: 'change' | 'synced' | 'expired' | 'disconnected' | 'reconnected' | 'snapshot';
  type?: 'added' | 'modified' | 'deleted';
  key?: string;
  object?: { metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> }; [field: string]: unknown };
  relisted?: boolean;
  objects?: number;
  resourceVersion?: string;
  message?: string;
  snapshot?: ClusterSnapshot;
  connected?: boolean;
}

export class RemoteCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** What one informer in the client process reported, in order. */
export class InformerFeed {
  readonly notifications: Notification[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    readonly id: number,
    readonly apiVersion: string,
  ) {}

  push(notification: Notification): void {
    this.notifications.push(notification);
    for (const wake of this.waiters.splice(0)) wake();
  }

  changes(key?: string): Notification[] {
    return this.notifications.filter((notification) => notification.event === 'change' && (key === undefined || notification.key === key));
  }

  /** The first notification at or after index `from` that matches, waiting for it up to `timeoutMs`. */
  async waitFor(what: string, matches: (notification: Notification) => boolean, from = 0, timeoutMs = WAIT_TIMEOUT_MS): Promise<Notification> {
    let found: Notification | undefined;
    await this.waitUntil(what, () => (found = this.notifications.slice(from).find(matches)) !== undefined, timeoutMs);
    return found!;
  }

  /** Waits up to `timeoutMs` until `holds()`, asking again at each notification. */
  async waitUntil(what: string, holds: () => boolean, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!holds()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const last = this.notifications.slice(-20).map(({ event, type, key }) => [event, type, key]);
        throw new Error(`informer ${this.id}: no ${what} within ${timeoutMs / 1000} s; saw ${this.notifications.length} notifications, the last ${JSON.stringify(last)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export class KubernetesClientProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly feeds = new Map<number, InformerFeed>();
  private readonly early = new Map<number, Notification[]>();

  private readonly ready: Promise<void>;
  private becameReady: () => void = () => undefined;

  private constructor(private readonly child: ChildProcess) {
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the client process did not start within 10 s')), 10_000);
      this.becameReady = () => {
        clearTimeout(timer);
        resolve();
      };
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the client process exited (${code ?? signal})`));
        for (const { reject: rejectCall } of this.pending.values()) rejectCall(new Error(`the client process exited (${code ?? signal})`));
        this.pending.clear();
      });
    });
    // Nobody awaits `ready` after start(); an exit later must not be an unhandled rejection.
    this.ready.catch(() => undefined);
    createInterface({ input: child.stdout! }).on('line', (line) => this.receive(JSON.parse(line) as Record<string, unknown>));
  }

  /** Starts the client in `host`'s namespace with `kubeconfig`, and waits until it says it is ready. */
  static async start(lab: Lab, host: string, kubeconfig: string): Promise<KubernetesClientProcess> {
    const child = lab.spawn(host, [process.execPath, CLIENT_PROCESS, kubeconfig], { stdio: ['pipe', 'pipe', 'inherit'] });
    const client = new KubernetesClientProcess(child);
    await client.ready;
    return client;
  }

  private receive(message: Record<string, unknown>): void {
    if (message.ready === true) return this.becameReady();
    if (typeof message.informer === 'number' && message.id === undefined) {
      const notification = message as unknown as Notification;
      const feed = this.feeds.get(notification.informer);
      if (feed) feed.push(notification);
      else this.early.set(notification.informer, [...(this.early.get(notification.informer) ?? []), notification]);
      return;
    }
    if (typeof message.id !== 'number') return;
    const waiter = this.pending.get(message.id);
    if (waiter === undefined) return;
    this.pending.delete(message.id);
    const error = message.error as { message: string; status?: number; reason?: string } | undefined;
    if (error) waiter.reject(new RemoteCallError(error.message, error.status, error.reason));
    else waiter.resolve(message.result);
  }

  /** One operation of the client process (see its `handle`), with its result. */
  call<T>(op: string, parameters: Record<string, unknown> = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${op} got no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...parameters })}\n`);
    });
  }

  /** Starts a ClusterWatch in the process; its snapshots arrive as notifications. `apiVersion` lists the resources it watches. */
  async clusterWatch(): Promise<InformerFeed> {
    const id = this.nextId;
    const { apiVersion } = await this.call<{ apiVersion: string }>('cluster-watch');
    return this.feedFor(id, apiVersion);
  }

  private feedFor(id: number, apiVersion: string): InformerFeed {
    const feed = new InformerFeed(id, apiVersion);
    this.feeds.set(id, feed);
    for (const notification of this.early.get(id) ?? []) feed.push(notification);
    this.early.delete(id);
    return feed;
  }

  /**
   * Starts an informer of `resource` (services, nodes, endpointslices, endpointslices-v1beta1)
   * in the process; `busyMsPerChange` blocks the process's main thread that long after each batch of changes.
   */
  async informer(resource: string, options: { watchTimeoutSeconds?: number; pageSize?: number; busyMsPerChange?: number } = {}): Promise<InformerFeed> {
    const id = this.nextId;
    const { apiVersion } = await this.call<{ apiVersion: string }>('informer', { resource, ...options });
    return this.feedFor(id, apiVersion);
  }

  /** Freezes the process (SIGSTOP): its connections stay open, unread, until resume(). */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** Ends the process: its informers stop, then it exits; killed if it takes longer than 5 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.resume();
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The lab for API server tests: the API server on `api` (192.0.2.2), clients on `node1`. */
export const KUBE_LAB_SPEC = {
  hosts: [
    { name: 'api', addresses: ['192.0.2.2/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
  ],
};
export const API_HOST = 'api';
export const API_ADDRESS = '192.0.2.2';
export const CLIENT_HOST = 'node1';

/**
 * One lab, API server and client process for every test of the enclosing file or describe
 * block (built before them when they can run, removed after them, also on failure).
 */
export function sharedKubeLab(options: { extraArgs?: string[] } = {}): () => { lab: Lab; api: KubeApiServer; client: KubernetesClientProcess } {
  let built: { lab: Lab; api: KubeApiServer; client: KubernetesClientProcess } | undefined;
  let lab: Lab | undefined;
  let api: KubeApiServer | undefined;
  let client: KubernetesClientProcess | undefined;
  before(async () => {
    if (labUnavailableReason() !== undefined || kubeApiServerUnavailableReason() !== undefined) return;
    lab = await Lab.create(KUBE_LAB_SPEC);
    api = await KubeApiServer.start(lab, { host: API_HOST, address: API_ADDRESS, ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}) });
    client = await KubernetesClientProcess.start(lab, CLIENT_HOST, api.kubeconfig);
    built = { lab, api, client };
  });
  after(async () => {
    await client?.close();
    await api?.stop();
    await lab?.destroy();
  });
  return () => {
    if (!built) throw new Error('the shared Kubernetes lab was not built');
    return built;
  };
}

/** A minimal CustomResourceDefinition for one of MetalLB's kinds: served and stored, any fields accepted. */
export function metallbCrd(kind: string, plural: string, version: string): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.metallb.io` },
    spec: {
      group: 'metallb.io',
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
}

/** Objects as one kubectl-applicable List. */
export function kubernetesList(items: object[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** A 1.20 (discovery.k8s.io/v1beta1) EndpointSlice of `service` in default with one endpoint on `node`. */
export function endpointSlice(service: string, node: string, ready = true): object {
  return {
    apiVersion: 'discovery.k8s.io/v1beta1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.51.100.10'], conditions: { ready }, topology: { 'kubernetes.io/hostname': node } }],
  };
}
