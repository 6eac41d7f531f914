/**
 * The API resources vipkit reads and writes, and their REST paths:
 * /api/v1/... for the core group, /apis/<group>/<version>/... for the others, with
 * /namespaces/<ns>/ for namespaced ones.
 */
import type { EndpointSlice, Event, KubernetesObject, Lease, Node, Service } from './api-objects.js';

export interface Resource<T extends KubernetesObject = KubernetesObject> {
  /** '' for the core group. */
  group: string;
  version: string;
  /** The lower-case plural of the path, e.g. services. */
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Only for typing: never set. */
  readonly object?: T;
}

function resource<T extends KubernetesObject>(group: string, version: string, plural: string, kind: string, namespaced = true): Resource<T> {
  return { group, version, plural, kind, namespaced };
}

export const SERVICES = resource<Service>('', 'v1', 'services', 'Service');
export const NODES = resource<Node>('', 'v1', 'nodes', 'Node', false);
export const NAMESPACES = resource('', 'v1', 'namespaces', 'Namespace', false);
export const EVENTS = resource<Event>('', 'v1', 'events', 'Event');
export const LEASES = resource<Lease>('coordination.k8s.io', 'v1', 'leases', 'Lease');
export const ENDPOINT_SLICES_V1 = resource<EndpointSlice>('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice');
/** Kubernetes 1.17-1.24; the only version 1.20 serves. */
export const ENDPOINT_SLICES_V1BETA1 = resource<EndpointSlice>('discovery.k8s.io', 'v1beta1', 'endpointslices', 'EndpointSlice');

/** MetalLB's custom resources (metallb.io), as its current CRDs serve them. */
export const METALLB = {
  ipAddressPools: resource('metallb.io', 'v1beta1', 'ipaddresspools', 'IPAddressPool'),
  l2Advertisements: resource('metallb.io', 'v1beta1', 'l2advertisements', 'L2Advertisement'),
  bgpAdvertisements: resource('metallb.io', 'v1beta1', 'bgpadvertisements', 'BGPAdvertisement'),
  bgpPeers: resource('metallb.io', 'v1beta2', 'bgppeers', 'BGPPeer'),
  communities: resource('metallb.io', 'v1beta1', 'communities', 'Community'),
  bfdProfiles: resource('metallb.io', 'v1beta1', 'bfdprofiles', 'BFDProfile'),
} as const;

export function apiVersionOf(resource: Resource): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

/** The group-version prefix, e.g. /api/v1 or /apis/discovery.k8s.io/v1beta1. */
export function groupVersionPath(resource: Resource): string {
  return resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
}

/**
 * The collection path (all namespaces when `namespace` is undefined), or one object's
 * path with `name`; `subresource` (e.g. status) after it.
 */
export function resourcePath(resource: Resource, options: { namespace?: string; name?: string; subresource?: string } = {}): string {
  const segments = [groupVersionPath(resource)];
  if (resource.namespaced && options.namespace !== undefined) segments.push('namespaces', encodeURIComponent(options.namespace));
  segments.push(resource.plural);
  if (options.name !== undefined) segments.push(encodeURIComponent(options.name));
  if (options.subresource !== undefined) segments.push(options.subresource);
  return segments.join('/');
}

/** "namespace/name", or "name" for cluster-scoped objects: the key of a watched object. */
export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}
