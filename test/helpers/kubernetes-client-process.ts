/**
 * vipkit's Kubernetes client in a process of its own, started inside a lab host's
 * namespace (Node.js cannot enter one itself) so that it reaches the lab's API server over
 * the lab segment, as a speaker would. Driven by test/helpers/kubernetes-lab.ts over
 * stdin/stdout, one JSON object a line: requests `{id, op, ...}`, replies `{id, result}`
 * or `{id, error}`, and informer notifications `{informer, event, ...}`.
 *
 * Usage: node kubernetes-client-process.js <kubeconfig>
 */
import { createInterface } from 'node:readline';
import { KubernetesApiError, KubernetesClient } from '../../src/kubernetes/api-client.js';
import type { KubernetesObject } from '../../src/kubernetes/api-objects.js';
import { kubeconfigAccess } from '../../src/kubernetes/cluster-access.js';
import { ClusterWatch } from '../../src/kubernetes/cluster-watch.js';
import { endpointSliceResource } from '../../src/kubernetes/endpoint-slices.js';
import { EventRecorder } from '../../src/kubernetes/event-recorder.js';
import { Informer } from '../../src/kubernetes/informer.js';
import { LeaderElection } from '../../src/kubernetes/lease.js';
import { apiVersionOf, ENDPOINT_SLICES_V1BETA1, NODES, SERVICES, type Resource } from '../../src/kubernetes/resources.js';
import { setLoadBalancerIngress } from '../../src/kubernetes/services.js';
import { WatchThread } from '../../src/kubernetes/watch-thread.js';

interface Request {
  id: number;
  op: string;
  [parameter: string]: unknown;
}

const access = kubeconfigAccess(process.argv[2]!);
// Watches in their own thread, as `vipkit run` reads them.
const client = new KubernetesClient(access, { requestTimeoutMs: 10_000, watches: new WatchThread(access) });
const informers = new Map<number, Informer<KubernetesObject>>();
const elections = new Map<string, LeaderElection>();
const clusterWatches: ClusterWatch[] = [];

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Blocks this thread for `ms` once per batch of changes, as a speaker's re-read of thousands of Services does. */
function keepBusyAfterChanges(informer: Informer<KubernetesObject>, ms: number): void {
  let scheduled = false;
  informer.on('change', () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    }, 20);
  });
}

async function resourceNamed(name: unknown): Promise<Resource> {
  switch (name) {
    case 'services':
      return SERVICES;
    case 'nodes':
      return NODES;
    case 'endpointslices-v1beta1':
      return ENDPOINT_SLICES_V1BETA1;
    case 'endpointslices':
      return endpointSliceResource(client);
    default:
      throw new Error(`no resource ${String(name)}`);
  }
}

async function startInformer(request: Request): Promise<object> {
  const resource = await resourceNamed(request.resource);
  const informer = new Informer({
    client,
    resource,
    ...(request.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: request.watchTimeoutSeconds as number }),
    ...(request.pageSize === undefined ? {} : { pageSize: request.pageSize as number }),
    backoff: { initialMs: 200, maxMs: 2_000 },
  });
  const id = request.id;
  informer.on('change', (change) => send({ informer: id, event: 'change', type: change.type, key: change.key, object: change.object }));
  informer.on('synced', (info) => send({ informer: id, event: 'synced', ...info }));
  informer.on('expired', (info) => send({ informer: id, event: 'expired', ...info }));
  informer.on('disconnected', ({ error, retryInMs }) => send({ informer: id, event: 'disconnected', message: error.message, retryInMs }));
  informer.on('reconnected', () => send({ informer: id, event: 'reconnected' }));
  if (request.busyMsPerChange !== undefined) keepBusyAfterChanges(informer, request.busyMsPerChange as number);
  informers.set(id, informer);
  informer.start();
  return { apiVersion: apiVersionOf(resource) };
}

async function startClusterWatch(request: Request): Promise<object> {
  const watch = await ClusterWatch.start(client, { backoff: { initialMs: 200, maxMs: 2_000 } });
  const id = request.id;
  watch.on('snapshot', (snapshot) => send({ informer: id, event: 'snapshot', snapshot, connected: watch.connected }));
  watch.on('disconnected', ({ resource, error }) => send({ informer: id, event: 'disconnected', key: resource, message: error.message }));
  watch.on('reconnected', ({ resource }) => send({ informer: id, event: 'reconnected', key: resource }));
  watch.on('expired', ({ resource, message }) => send({ informer: id, event: 'expired', key: resource, message }));
  clusterWatches.push(watch);
  return { apiVersion: watch.resources.join(' ') };
}

function informerOf(request: Request): Informer<KubernetesObject> {
  const informer = informers.get(request.informer as number);
  if (informer === undefined) throw new Error(`no informer ${String(request.informer)}`);
  return informer;
}

function election(request: Request): LeaderElection {
  const identity = request.identity as string;
  const key = `${String(request.namespace)}/${String(request.name)}/${identity}`;
  const existing = elections.get(key);
  if (existing !== undefined) return existing;
  const created = new LeaderElection(client, { namespace: request.namespace as string, name: request.name as string, identity, leaseDurationSeconds: request.leaseDurationSeconds as number });
  elections.set(key, created);
  return created;
}

async function handle(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'informer':
      return startInformer(request);
    case 'cluster-watch':
      return startClusterWatch(request);
    case 'objects':
      return informerOf(request).objects();
    case 'stop-informer': {
      const informer = informerOf(request);
      await informer.stop();
      return { keys: informer.objects().map((object) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`) };
    }
    case 'request':
      return client.request(request.method as string, request.path as string, (request.options ?? {}) as object);
    case 'set-ingress':
      return setLoadBalancerIngress(client, request.namespace as string, request.name as string, request.ips as string[]);
    case 'record-event':
      return new EventRecorder(client, 'vipkit.io/speaker', request.instance as string).record(request.report as never);
    case 'elect':
      return election(request).tryAcquireOrRenew();
    case 'release':
      await election(request).release();
      return {};
    default:
      throw new Error(`no op ${request.op}`);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const request = JSON.parse(line) as Request;
  handle(request).then(
    (result) => send({ id: request.id, result }),
    (error: Error) => send({ id: request.id, error: { message: error.message, ...(error instanceof KubernetesApiError ? { status: error.status, reason: error.reason } : {}) } }),
  );
});
lines.on('close', () => {
  void Promise.all([...informers.values(), ...clusterWatches].map((watch) => watch.stop())).then(() => client.close());
});
send({ ready: true });
