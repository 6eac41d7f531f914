/**
 * Everything `vipkit run --kubernetes` reads from the cluster, watched together: Services,
 * EndpointSlices (the version the server serves), Nodes, Namespaces, and MetalLB's
 * resources when the server serves metallb.io. After the first list of each, every change
 * gives a new snapshot (settled for a moment, so a burst gives one); when the server
 * cannot be reached, the last snapshot stands and `connected` says so.
 */
import { EventEmitter } from 'node:events';
import { KubernetesApiError, type KubernetesClient } from './api-client.js';
import type { KubernetesObject } from './api-objects.js';
import type { BackoffOptions } from './backoff.js';
import { clusterSnapshot, type ClusterSnapshot } from './cluster-snapshot.js';
import { endpointSliceResource } from './endpoint-slices.js';
import { Informer } from './informer.js';
import { METALLB, NAMESPACES, NODES, SERVICES, type Resource } from './resources.js';

const DEFAULT_SETTLE_MS = 20;

export interface ClusterWatchEvents {
  snapshot: [snapshot: ClusterSnapshot];
  /** One resource's watch cannot reach the API server; `connected` is false until all are back. */
  disconnected: [info: { resource: string; error: Error; retryInMs: number }];
  reconnected: [info: { resource: string }];
  /** A resource was listed again after 410 Gone. */
  expired: [info: { resource: string; message: string }];
}

export interface ClusterWatchOptions {
  /** Changes within this long make one snapshot. Default 20 ms. */
  settleMs?: number;
  backoff?: BackoffOptions;
  watchTimeoutSeconds?: number;
}

/**
 * MetalLB's kinds at the version vipkit prefers when served, else at another version
 * that serves them; none when the server does not serve metallb.io (no CRDs installed).
 */
export async function metallbResources(client: KubernetesClient, signal?: AbortSignal): Promise<Resource[]> {
  const options = signal === undefined ? {} : { signal };
  let group: { versions?: { version?: string }[] };
  try {
    group = await client.request('GET', '/apis/metallb.io', options);
  } catch (error) {
    if (error instanceof KubernetesApiError && error.status === 404) return [];
    throw error;
  }
  const served = new Map<string, Set<string>>();
  for (const { version } of group.versions ?? []) {
    if (version === undefined) continue;
    const list = await client.request<{ resources?: { name?: string }[] }>('GET', `/apis/metallb.io/${version}`, options);
    served.set(version, new Set((list.resources ?? []).map((resource) => resource.name ?? '')));
  }
  return Object.values(METALLB).flatMap((resource): Resource[] => {
    if (served.get(resource.version)?.has(resource.plural)) return [resource];
    const other = [...served].find(([, plurals]) => plurals.has(resource.plural));
    return other === undefined ? [] : [{ ...resource, version: other[0] }];
  });
}

export class ClusterWatch extends EventEmitter<ClusterWatchEvents> {
  private readonly informers = new Map<string, Informer<KubernetesObject>>();
  private readonly disconnected = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private last: ClusterSnapshot | undefined;
  private stopped = false;

  private constructor(private readonly settleMs: number) {
    super();
  }

  /** Asks the server what it serves, then starts listing and watching all of it. */
  static async start(client: KubernetesClient, options: ClusterWatchOptions = {}): Promise<ClusterWatch> {
    const resources: Resource[] = [SERVICES, await endpointSliceResource(client), NODES, NAMESPACES, ...(await metallbResources(client))];
    const watch = new ClusterWatch(options.settleMs ?? DEFAULT_SETTLE_MS);
    for (const resource of resources) {
      const name = `${resource.plural}.${resource.group || 'core'}`;
      const informer = new Informer({
        client,
        resource,
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
        ...(options.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: options.watchTimeoutSeconds }),
      });
      informer.on('change', () => watch.changed());
      informer.on('synced', () => watch.changed());
      informer.on('disconnected', ({ error, retryInMs }) => {
        watch.disconnected.add(name);
        watch.emit('disconnected', { resource: name, error, retryInMs });
      });
      informer.on('reconnected', () => {
        watch.disconnected.delete(name);
        watch.emit('reconnected', { resource: name });
      });
      informer.on('expired', ({ message }) => watch.emit('expired', { resource: name, message }));
      watch.informers.set(name, informer);
    }
    for (const informer of watch.informers.values()) informer.start();
    return watch;
  }

  /** The watched resources, e.g. services.core, endpointslices.discovery.k8s.io, ipaddresspools.metallb.io. */
  get resources(): string[] {
    return [...this.informers.keys()];
  }

  get synced(): boolean {
    return [...this.informers.values()].every((informer) => informer.synced);
  }

  /** False while any resource cannot reach the API server. */
  get connected(): boolean {
    return this.disconnected.size === 0;
  }

  /** The latest snapshot, once every resource was listed. */
  get snapshot(): ClusterSnapshot | undefined {
    return this.last;
  }

  /** Resolves with the first snapshot, or rejects after `timeoutMs`. */
  async waitForSnapshot(timeoutMs: number): Promise<ClusterSnapshot> {
    if (this.last !== undefined) return this.last;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('snapshot', onSnapshot);
        reject(new Error(`the cluster was not listed within ${timeoutMs / 1000} s (${this.resources.filter((name) => !this.informers.get(name)!.synced).join(', ')} missing)`));
      }, timeoutMs);
      const onSnapshot = (snapshot: ClusterSnapshot): void => {
        clearTimeout(timer);
        resolve(snapshot);
      };
      this.once('snapshot', onSnapshot);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }

  private changed(): void {
    if (this.stopped || !this.synced || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      const objects = (plural: string) => [...this.informers].filter(([name]) => name.startsWith(`${plural}.`)).flatMap(([, informer]) => informer.objects());
      this.last = clusterSnapshot({
        services: objects('services'),
        endpointSlices: objects('endpointslices'),
        nodes: objects('nodes'),
        namespaces: objects('namespaces'),
        metallb: [...this.informers].filter(([name]) => name.endsWith('.metallb.io')).flatMap(([, informer]) => informer.objects()),
      });
      this.emit('snapshot', this.last);
    }, this.settleMs);
  }
}
