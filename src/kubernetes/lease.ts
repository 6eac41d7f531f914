/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does
 * it: the holder renews renewTime; another candidate takes the Lease over only after it
 * has seen the same record unchanged for leaseDurationSeconds on its own clock (so clock
 * skew between nodes does not matter); every write carries the resourceVersion read, so
 * of two candidates writing at once the server accepts one and answers 409 to the other.
 */
import { KubernetesApiError, type KubernetesClient } from './api-client.js';
import type { Lease } from './api-objects.js';
import { formatMicroTime } from './micro-time.js';
import { LEASES, resourcePath } from './resources.js';

export function getLease(client: KubernetesClient, namespace: string, name: string): Promise<Lease | undefined> {
  return client.request<Lease>('GET', resourcePath(LEASES, { namespace, name })).catch((error: unknown) => {
    if (error instanceof KubernetesApiError && error.status === 404) return undefined;
    throw error;
  });
}

export function createLease(client: KubernetesClient, lease: Lease): Promise<Lease> {
  return client.request<Lease>('POST', resourcePath(LEASES, { namespace: lease.metadata?.namespace ?? 'default' }), { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease } });
}

/** PUT: refused with 409 Conflict when the Lease changed since metadata.resourceVersion. */
export function updateLease(client: KubernetesClient, lease: Lease): Promise<Lease> {
  const name = lease.metadata?.name;
  if (name === undefined) throw new Error('updateLease: the Lease has no name');
  return client.request<Lease>('PUT', resourcePath(LEASES, { namespace: lease.metadata?.namespace ?? 'default', name }), { body: lease });
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Who we are, e.g. the node name. */
  identity: string;
  leaseDurationSeconds: number;
  /** The local clock, in milliseconds; only differences are used. */
  now?: () => number;
}

export interface ElectionResult {
  leader: boolean;
  /** The holder the Lease names after this attempt. */
  holder?: string;
}

function isConflict(error: unknown): boolean {
  return error instanceof KubernetesApiError && (error.status === 409 || error.reason === 'AlreadyExists');
}

export class LeaderElection {
  private observed: { record: string; at: number } | undefined;
  private readonly now: () => number;

  constructor(
    private readonly client: KubernetesClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /** One round: create the Lease, renew it, or take over an expired one. Never throws for a lost race. */
  async tryAcquireOrRenew(): Promise<ElectionResult> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const time = formatMicroTime(new Date());
    const current = await getLease(this.client, namespace, name);
    if (current === undefined) {
      try {
        await createLease(this.client, {
          metadata: { namespace, name },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: time, renewTime: time, leaseTransitions: 0 },
        });
        return { leader: true, holder: identity };
      } catch (error) {
        if (isConflict(error)) return { leader: false };
        throw error;
      }
    }
    const spec = current.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime, spec.leaseTransitions]);
    if (this.observed?.record !== record) this.observed = { record, at: this.now() };
    const holder = spec.holderIdentity || undefined;
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== undefined && holder !== identity && this.now() - this.observed.at < duration) return { leader: false, holder };
    const ours = holder === identity;
    try {
      const written = await updateLease(this.client, {
        ...current,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: ours ? spec.acquireTime ?? time : time,
          renewTime: time,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (ours || holder === undefined ? 0 : 1),
        },
      });
      const writtenSpec = written.spec ?? {};
      this.observed = { record: JSON.stringify([writtenSpec.holderIdentity, writtenSpec.renewTime, writtenSpec.acquireTime, writtenSpec.leaseTransitions]), at: this.now() };
      return { leader: true, holder: identity };
    } catch (error) {
      if (isConflict(error)) return { leader: false, ...(holder === undefined ? {} : { holder }) };
      throw error;
    }
  }

  /** Gives the Lease up if we hold it, so the next candidate need not wait for it to expire. */
  async release(): Promise<void> {
    const current = await getLease(this.client, this.options.namespace, this.options.name);
    if (current?.spec?.holderIdentity !== this.options.identity) return;
    const time = formatMicroTime(new Date());
    try {
      await updateLease(this.client, { ...current, spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: time, acquireTime: time } });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
}
