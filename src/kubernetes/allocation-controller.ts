/**
 * What MetalLB's controller does, from the speakers themselves: one of them at a time —
 * the holder of a coordination.k8s.io Lease — writes each Service's
 * status.loadBalancer.ingress with the addresses vipkit's allocator gives it, and records
 * an Event (IPAllocated, or AllocationFailed with the reason) so that `kubectl describe
 * service` explains. Every speaker computes the same allocation from the same snapshot,
 * so announcing never waits for the write; the leader only makes it visible.
 */
import type { ClusterConfig } from '../speaker/cluster-config.js';
import type { Service } from './api-objects.js';
import type { KubernetesClient } from './api-client.js';
import type { ClusterSnapshot } from './cluster-snapshot.js';
import { EventRecorder } from './event-recorder.js';
import { LeaderElection } from './lease.js';
import { objectKey } from './resources.js';
import { ingressIps, setLoadBalancerIngress } from './services.js';

/** client-go's defaults for a controller's lease: 15 s, renewed every 2 s. */
const LEASE_DURATION_S = 15;
const RENEW_EVERY_MS = 2000;
/**
 * Status writes and Events in flight at once. One at a time, a leader with thousands of
 * Services wrote about three a second: each write is a change every speaker re-reads the
 * cluster for, and the next write waited for that re-read.
 */
const WRITERS = 16;
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
  /** Service key -> why it got no address, as last recorded: a repeat is not recorded again. */
  private readonly failures = new Map<string, string>();
  /** The pass bringing the Services' status to the latest wish, while one runs. */
  private pass?: Promise<void>;
  /** A newer wish came during the pass: another follows it. */
  private again = false;

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
    await this.pass;
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

  /** One pass at a time; wishes that come meanwhile make one more pass, with the latest. */
  private write(): void {
    if (this.pass !== undefined) {
      this.again = true;
      return;
    }
    this.pass = (async () => {
      do {
        this.again = false;
        await this.bringStatus().catch((error: Error) => this.log('warn', 'statusNotWritten', 'could not write a Service\u2019s status', { reason: error.message }));
      } while (this.again && this.leader && !this.stopped);
      this.pass = undefined;
    })();
  }

  /** Every Service whose status or Event differs from the wish, WRITERS at a time; the first failure ends the pass. */
  private async bringStatus(): Promise<void> {
    if (!this.leader || this.latest === undefined) return;
    const { snapshot, config } = this.latest;
    const allocated = new Map(config.services.map((service) => [service.key, [...service.ips]]));
    const failed = new Map(config.unallocated.map((entry) => [entry.service, entry.reason]));
    const queue = [...snapshot.serviceObjects];
    let failure: Error | undefined;
    const writer = async () => {
      for (let service = queue.shift(); service !== undefined && failure === undefined && this.leader; service = queue.shift()) {
        try {
          await this.bring(service, allocated, failed);
        } catch (error) {
          failure ??= error as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    if (failure !== undefined) throw failure;
  }

  /**
   * As MetalLB's controller (controller/service.go convergeBalancer): IPAllocated when the
   * Service is given addresses its status did not hold, so a new leader that finds them
   * written says nothing; AllocationFailed when it cannot be given any, once per reason.
   */
  private async bring(service: Service, allocated: Map<string, string[]>, failed: Map<string, string>): Promise<void> {
    const key = objectKey(service);
    const about = { ...service, apiVersion: 'v1', kind: 'Service' };
    const ips = allocated.get(key) ?? [];
    if (JSON.stringify(ingressIps(service)) !== JSON.stringify(ips)) {
      await setLoadBalancerIngress(this.client, service.metadata!.namespace ?? 'default', service.metadata!.name!, ips);
      if (ips.length > 0) await this.events.record({ about, type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ${JSON.stringify(ips)}`, action: 'Allocate' });
    }
    const reason = failed.get(key);
    if (reason === undefined) {
      this.failures.delete(key);
    } else if (this.failures.get(key) !== reason) {
      this.failures.set(key, reason);
      await this.events.record({ about, type: 'Warning', reason: 'AllocationFailed', message: `Failed to allocate IP for "${key}": ${reason}`, action: 'Allocate' });
    }
  }
}
