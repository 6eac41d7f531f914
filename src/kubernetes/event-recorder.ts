/**
 * core/v1 Events on the objects vipkit acts for (IPAllocated, AllocationFailed on a
 * Service), so `kubectl describe` explains. An Event with an eventTime must also name its
 * reportingComponent, reportingInstance, action and reason (the API server's
 * ValidateEvent); the legacy first/lastTimestamp and source are written too, which older
 * kubectl shows.
 */
import { randomBytes } from 'node:crypto';
import type { KubernetesClient } from './api-client.js';
import type { Event, KubernetesObject } from './api-objects.js';
import { formatMicroTime, formatTime } from './micro-time.js';
import { EVENTS, resourcePath } from './resources.js';

export interface EventReport {
  /** The object the event is about; its apiVersion and kind must be set. */
  about: KubernetesObject;
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. IPAllocated. */
  reason: string;
  message: string;
  /** What was done, e.g. Allocate. */
  action: string;
}

/** events.k8s.io/v1 refuses a note over 1 KiB; vipkit's core/v1 Events keep to the same bound. */
const MAX_MESSAGE_LENGTH = 1024;

export class EventRecorder {
  constructor(
    private readonly client: KubernetesClient,
    /** A qualified name, e.g. vipkit.io/speaker. */
    private readonly component: string,
    /** Which copy reports, e.g. the node name. */
    private readonly instance: string,
  ) {}

  /** Creates the Event and resolves with it as stored. */
  record(report: EventReport, now = new Date()): Promise<Event> {
    const about = report.about.metadata ?? {};
    if (about.name === undefined) throw new Error('an Event needs the name of the object it is about');
    const namespace = about.namespace || 'default';
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      // client-go names events <object>.<unique hex>.
      metadata: { name: `${about.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: report.about.apiVersion,
        kind: report.about.kind,
        namespace: about.namespace,
        name: about.name,
        uid: about.uid,
        resourceVersion: about.resourceVersion,
      },
      type: report.type,
      reason: report.reason,
      message: report.message.length > MAX_MESSAGE_LENGTH ? `${report.message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : report.message,
      action: report.action,
      eventTime: formatMicroTime(now),
      firstTimestamp: formatTime(now),
      lastTimestamp: formatTime(now),
      count: 1,
      source: { component: this.component, host: this.instance },
      reportingComponent: this.component,
      reportingInstance: this.instance,
    };
    return this.client.request<Event>('POST', resourcePath(EVENTS, { namespace }), { body: event });
  }
}
