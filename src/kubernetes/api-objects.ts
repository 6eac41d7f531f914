/**
 * The JSON shapes of the Kubernetes objects vipkit reads and writes, as the API server
 * sends them: only the fields vipkit uses, every one optional where Kubernetes may omit
 * it. Field names and versions follow k8s.io/api (core/v1, discovery.k8s.io/v1 and
 * v1beta1, coordination.k8s.io/v1, meta/v1).
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
}

export interface ObjectList<T extends KubernetesObject> {
  apiVersion?: string;
  kind?: string;
  metadata?: ListMeta;
  items?: T[];
}

/** meta/v1 Status: what the server answers an error with, and an ERROR watch event's object. */
export interface Status extends KubernetesObject {
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
}

export interface ServicePort {
  name?: string;
  protocol?: string;
  port?: number;
  nodePort?: number;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface Service extends KubernetesObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    loadBalancerIP?: string;
    loadBalancerClass?: string;
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** One endpoint of an EndpointSlice, in either served version. */
export interface Endpoint {
  addresses?: string[];
  conditions?: EndpointConditions;
  /** discovery.k8s.io/v1 */
  nodeName?: string;
  /** discovery.k8s.io/v1beta1: the node is topology["kubernetes.io/hostname"]. */
  topology?: Record<string, string>;
}

export interface EndpointSlice extends KubernetesObject {
  addressType?: string;
  endpoints?: Endpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

export interface NodeAddress {
  type?: string;
  address?: string;
}

export interface NodeCondition {
  type?: string;
  status?: string;
  reason?: string;
}

export interface Node extends KubernetesObject {
  spec?: { unschedulable?: boolean };
  status?: { addresses?: NodeAddress[]; conditions?: NodeCondition[] };
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

/** core/v1 Event. eventTime is a MicroTime (see micro-time.ts). */
export interface Event extends KubernetesObject {
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  action?: string;
  eventTime?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
}

/** coordination.k8s.io/v1 Lease. acquireTime and renewTime are MicroTimes. */
export interface Lease extends KubernetesObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}
