/**
 * The worker thread of WorkerL2Plane: a LocalL2Plane over pcap links, driven by the main
 * thread's requests. The only thread of the process that loads cap (DESIGN.md: cap loads
 * in one thread per process).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isInterfaceUp } from '../link/interfaces.js';
import { openPcapLink } from '../link/pcap-link.js';
import { systemClock } from '../time.js';
import { UserError } from '../user-error.js';
import { LocalL2Plane, type L2Config, type L2PlaneEvents } from './l2-plane.js';
import type { PlaneError, PlaneReport, PlaneRequest } from './worker-l2-plane.js';

const port = parentPort!;
const config = workerData as L2Config;
const plane = new LocalL2Plane(config, { openLink: openPcapLink, clock: systemClock, isUp: isInterfaceUp });
const probes = new Map<number, AbortController>();

const report = (message: PlaneReport) => port.postMessage(message);
const planeError = (error: unknown): PlaneError => ({ message: error instanceof Error ? error.message : String(error), userError: error instanceof UserError });

const EVENTS: (keyof L2PlaneEvents)[] = ['answered', 'gratuitous', 'malformed-frame', 'send-failed', 'failed', 'bfd', 'bfd-discarded', 'member', 'conflict', 'link'];
for (const name of EVENTS) plane.on(name, (payload: L2PlaneEvents[typeof name][0]) => report({ type: 'event', name, payload }));

port.on('message', (request: PlaneRequest) => {
  switch (request.type) {
    case 'open':
      plane.open().then(
        () => report({ type: 'opened', macs: Object.fromEntries(config.interfaces.map((name) => [name, plane.macOf(name)!])) }),
        (error: unknown) => report({ type: 'open-failed', error: planeError(error) }),
      );
      break;
    case 'set':
      plane.set(request.interfaceName, request.addresses);
      break;
    case 'probe': {
      const abort = new AbortController();
      probes.set(request.id, abort);
      const onProgress = (sent: number, total: number) => report({ type: 'probe-progress', id: request.id, sent, total });
      plane
        .probe(request.interfaceName, request.addresses, { ...request.options, signal: abort.signal, onProgress })
        .then(
          (conflicts) => report({ type: 'probe-done', id: request.id, conflicts: [...conflicts] }),
          (error: unknown) => report({ type: 'probe-failed', id: request.id, error: planeError(error) }),
        )
        .finally(() => probes.delete(request.id));
      break;
    }
    case 'abort-probe':
      probes.get(request.id)?.abort();
      break;
    case 'admin-down':
      plane.adminDown();
      break;
    case 'close':
      void plane.close().then(() => {
        report({ type: 'closed' });
        port.close();
      });
      break;
  }
});
