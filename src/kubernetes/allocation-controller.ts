/**
 * What MetalLB's controller does, from the speakers themselves: one of them at a time —
 * the holder of a coordination.k8s.io Lease — writes each Service's
 * status.loadBalancer.ingress with the addresses vipkit's allocator gives it, and records
 * an Event (IPAllocated, or AllocationFailed with the reason) so that `kubectl describe
 * service` explains. Every speaker computes the same allocation from the same snapshot,
 * so announcing never waits for the write; the leader only makes it visible.
 */
import type { ClusterConfig } from '../speaker/cluster-config.js';
import type { KubernetesClient } from './api-client.js';
import type { ClusterSnapshot } from './cluster-snapshot.js';
import { EventRecorder } from './event-recorder.js';
import { LeaderElection } from './lease.js';
import { objectKey } from './resources.js';
import { ingressIps, setLoadBalancerIngress } from './services.js';

/** client-go's defaults for a controller's lease: 15 s, renewed every 2 s. */
const LEASE_DURATION_S = 15;
const RENEW_EVERY_MS = 2000;
export const LEASE_NAME = 'vipkit-controller';

export interface ControllerLog {
  (level: 'info' | 'warn', event: string, msg: string, fields: Record<string, unknown>): void;
}

export class AllocationController {
  private readonly election: LeaderElection;
  private readonly events: EventRecorder;
  private leader = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** The latest wish: what the snapshot holds and what the allocator made of it. */
  private latest?: { snapshot: ClusterSnapshot; config: ClusterConfig };
  /** Service key -> the last Event recorded for it, so that a repeat is not recorded again. */
  private readonly reported = new Map<string, string>();
  private writing = Promise.resolve();

  constructor(
    private readonly client: KubernetesClient,
    namespace: string,
    identity: string,
    private readonly log: ControllerLog,
  ) {
    this.election = new LeaderElection(client, { namespace, name: LEASE_NAME, identity, leaseDurationSeconds: LEASE_DURATION_S });
    this.events = new EventRecorder(client, 'vipkit.io/controller', identity);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    void this.campaign();
  }

  /** A new snapshot, allocated: the leader brings the Services' status to it. */
  reconcile(snapshot: ClusterSnapshot, config: ClusterConfig): void {
    this.latest = { snapshot, config };
    if (this.leader) this.write();
  }

  /** Stops campaigning and gives the Lease up, so that another speaker takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.writing;
    if (this.leader) await this.election.release().catch(() => undefined);
  }

  private async campaign(): Promise<void> {
    if (this.stopped) return;
    try {
      const { leader, holder } = await this.election.tryAcquireOrRenew();
      if (leader !== this.leader) {
        this.log('info', leader ? 'leaderElected' : 'leaderLost', leader ? 'this speaker now writes the Services\u2019 addresses' : 'another speaker writes the Services\u2019 addresses', { lease: LEASE_NAME, holder });
        this.leader = leader;
        if (leader) this.write();
      }
    } catch (error) {
      // Without an answer, a leader must assume its lease lapses, as client-go's does.
      if (this.leader) this.log('warn', 'leaderLost', 'the lease could not be renewed', { lease: LEASE_NAME, reason: (error as Error).message });
      this.leader = false;
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.campaign(), RENEW_EVERY_MS);
  }

  /** One write at a time, of the latest wish. */
  private write(): void {
    this.writing = this.writing.then(() => this.bringStatus()).catch((error: Error) => this.log('warn', 'statusNotWritten', 'could not write a Service\u2019s status', { reason: error.message }));
  }

  private async bringStatus(): Promise<void> {
    if (!this.leader || this.latest === undefined) return;
    const { snapshot, config } = this.latest;
    const services = snapshot.serviceObjects;
    const allocated = new Map(config.services.map((service) => [service.key, [...service.ips]]));
    const failed = new Map(config.unallocated.map((entry) => [entry.service, entry.reason]));
    for (const service of services) {
      const key = objectKey(service);
      const ips = allocated.get(key) ?? [];
      const current = ingressIps(service);
      if (JSON.stringify(current) !== JSON.stringify(ips)) {
        await setLoadBalancerIngress(this.client, service.metadata!.namespace ?? 'default', service.metadata!.name!, ips);
      }
      const reason = failed.get(key);
      const event = reason === undefined ? (ips.length > 0 ? `IPAllocated ${ips.join(',')}` : undefined) : `AllocationFailed ${reason}`;
      if (event === undefined || this.reported.get(key) === event) continue;
      this.reported.set(key, event);
      await this.events.record(
        reason === undefined
          ? { about: { ...service, apiVersion: 'v1', kind: 'Service' }, type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ${JSON.stringify(ips)}`, action: 'Allocate' }
          : { about: { ...service, apiVersion: 'v1', kind: 'Service' }, type: 'Warning', reason: 'AllocationFailed', message: `Failed to allocate IP for "${key}": ${reason}`, action: 'Allocate' },
      );
    }
  }
}
