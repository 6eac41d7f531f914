/**
 * The Layer 2 plane in a worker thread (l2-plane-worker.ts runs a LocalL2Plane over pcap
 * links there): the main thread only posts what to answer for and hears what happened.
 * A frame is answered on the worker's own event loop, which nothing else runs on.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ConflictProbeOptions } from '../l2/conflict-probe.js';
import { UserError } from '../user-error.js';
import type { L2Config, L2Plane, L2PlaneEvents } from './l2-plane.js';

/** What the main thread asks of the worker. */
export type PlaneRequest =
  | { type: 'open' }
  | { type: 'set'; interfaceName: string; addresses: readonly string[] }
  | { type: 'probe'; id: number; interfaceName: string; addresses: string[]; options: Omit<ConflictProbeOptions, 'signal' | 'onProgress'> }
  | { type: 'abort-probe'; id: number }
  | { type: 'admin-down' }
  | { type: 'close' };

/** An error as it crosses threads: a UserError stays one (its sentence ends the command with exit 2). */
export interface PlaneError {
  message: string;
  userError: boolean;
}

/** What the worker tells the main thread. */
export type PlaneReport =
  | { type: 'opened'; macs: Record<string, string> }
  | { type: 'open-failed'; error: PlaneError }
  | { type: 'event'; name: keyof L2PlaneEvents; payload: L2PlaneEvents[keyof L2PlaneEvents][0] }
  | { type: 'probe-progress'; id: number; sent: number; total: number }
  | { type: 'probe-done'; id: number; conflicts: [string, string[]][] }
  | { type: 'probe-failed'; id: number; error: PlaneError }
  | { type: 'closed' };

/** The data plane failed in a way the user can act on (no such interface, no CAP_NET_RAW...). */
class DataPlaneError extends UserError {
  override readonly name = 'DataPlaneError';
}

function revive(error: PlaneError): Error {
  return error.userError ? new DataPlaneError(error.message) : new Error(error.message);
}

export class WorkerL2Plane extends EventEmitter<L2PlaneEvents> implements L2Plane {
  private worker?: Worker;
  private macs: Record<string, string> = {};
  private nextProbe = 0;
  private readonly probes = new Map<number, { resolve(conflicts: Map<string, string[]>): void; reject(error: Error): void; onProgress?: ConflictProbeOptions['onProgress'] }>();
  private closing?: Promise<void>;
  private exited = false;

  constructor(private readonly config: L2Config) {
    super();
  }

  open(): Promise<void> {
    const worker = new Worker(new URL('./l2-plane-worker.js', import.meta.url), { workerData: this.config });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let opened = false;
      worker.on('message', (report: PlaneReport) => {
        if (report.type === 'opened') {
          opened = true;
          this.macs = report.macs;
          resolve();
        } else if (report.type === 'open-failed') {
          reject(revive(report.error));
        } else {
          this.receive(report);
        }
      });
      // An exception the worker did not catch is a bug: it ends the plane, never the process.
      let failure: string | undefined;
      worker.on('error', (error) => {
        if (!opened) return reject(error);
        failure = error.message;
      });
      worker.on('exit', (code) => {
        this.exited = true;
        for (const probe of this.probes.values()) probe.reject(new Error('the Layer 2 plane stopped during a conflict probe'));
        this.probes.clear();
        if (!opened) reject(new Error('the Layer 2 plane stopped before it opened'));
        else if (this.closing === undefined) this.emit('failed', { reason: failure ?? `its worker thread exited (code ${code})` });
      });
      this.post({ type: 'open' });
    });
  }

  macOf(interfaceName: string): string | undefined {
    return this.macs[interfaceName];
  }

  set(interfaceName: string, addresses: readonly string[]): void {
    this.post({ type: 'set', interfaceName, addresses: [...addresses] });
  }

  probe(interfaceName: string, addresses: string[], { signal, onProgress, ...options }: ConflictProbeOptions): Promise<Map<string, string[]>> {
    const id = this.nextProbe++;
    return new Promise((resolve, reject) => {
      this.probes.set(id, { resolve, reject, onProgress });
      signal?.addEventListener('abort', () => this.post({ type: 'abort-probe', id }), { once: true });
      this.post({ type: 'probe', id, interfaceName, addresses, options });
    });
  }

  adminDown(): void {
    this.post({ type: 'admin-down' });
  }

  close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined || this.exited) return Promise.resolve();
    this.closing ??= new Promise((resolve) => {
      worker.once('exit', () => resolve());
      this.post({ type: 'close' });
    });
    return this.closing;
  }

  private receive(report: PlaneReport): void {
    switch (report.type) {
      case 'event':
        (this.emit as (name: string, payload: unknown) => boolean)(report.name, report.payload);
        break;
      case 'probe-progress':
        this.probes.get(report.id)?.onProgress?.(report.sent, report.total);
        break;
      case 'probe-done':
        this.probes.get(report.id)?.resolve(new Map(report.conflicts));
        this.probes.delete(report.id);
        break;
      case 'probe-failed':
        this.probes.get(report.id)?.reject(revive(report.error));
        this.probes.delete(report.id);
        break;
      case 'closed':
        void this.worker?.terminate();
        break;
    }
  }

  private post(request: PlaneRequest): void {
    this.worker?.postMessage(request);
  }
}
