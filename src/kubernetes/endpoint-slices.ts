/**
 * EndpointSlices as vipkit reads them: which service they belong to and, per endpoint,
 * its node and whether it is ready. discovery.k8s.io/v1 (Kubernetes 1.21 and later) names
 * the node in nodeName; v1beta1 (1.17-1.24, all that 1.20 serves) in
 * topology["kubernetes.io/hostname"]. The served version is asked of the server.
 */
import { KubernetesApiError, type KubernetesClient } from './api-client.js';
import type { EndpointSlice } from './api-objects.js';
import { ENDPOINT_SLICES_V1, ENDPOINT_SLICES_V1BETA1, type Resource } from './resources.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';

export class EndpointSlicesUnavailableError extends Error {}

/** discovery.k8s.io/v1 when the server serves it, else v1beta1; refuses a server with neither. */
export async function endpointSliceResource(client: KubernetesClient, signal?: AbortSignal): Promise<Resource<EndpointSlice>> {
  let group: { versions?: { version?: string }[] };
  try {
    group = await client.request('GET', '/apis/discovery.k8s.io', signal === undefined ? {} : { signal });
  } catch (error) {
    if (error instanceof KubernetesApiError && error.status === 404) {
      throw new EndpointSlicesUnavailableError('the API server serves no EndpointSlices (discovery.k8s.io): Kubernetes 1.17 or later is needed.');
    }
    throw error;
  }
  const versions = new Set((group.versions ?? []).map((entry) => entry.version));
  if (versions.has('v1')) return ENDPOINT_SLICES_V1;
  if (versions.has('v1beta1')) return ENDPOINT_SLICES_V1BETA1;
  throw new EndpointSlicesUnavailableError(`the API server serves discovery.k8s.io only as ${[...versions].join(', ') || 'nothing'}; vipkit reads v1 and v1beta1.`);
}

export interface EndpointView {
  addresses: string[];
  node?: string;
  /** A missing condition counts as ready, as the API says consumers should read it. */
  ready: boolean;
  /** Ready, or still serving while terminating; absent means as ready. */
  serving: boolean;
  terminating: boolean;
}

export interface EndpointSliceView {
  /** "namespace/name" of the Service the slice belongs to. */
  service: string;
  addressType?: string;
  endpoints: EndpointView[];
}

/** The slice's service and endpoints, or undefined when no Service owns it (no service-name label). */
export function readEndpointSlice(slice: EndpointSlice): EndpointSliceView | undefined {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (service === undefined || service === '') return undefined;
  const endpoints = (slice.endpoints ?? []).map((endpoint): EndpointView => {
    const ready = endpoint.conditions?.ready !== false;
    const node = endpoint.nodeName ?? endpoint.topology?.[HOSTNAME_TOPOLOGY_KEY];
    return {
      addresses: endpoint.addresses ?? [],
      ...(node === undefined ? {} : { node }),
      ready,
      serving: endpoint.conditions?.serving ?? ready,
      terminating: endpoint.conditions?.terminating === true,
    };
  });
  return { service: `${slice.metadata?.namespace ?? 'default'}/${service}`, ...(slice.addressType === undefined ? {} : { addressType: slice.addressType }), endpoints };
}

/** Service key -> the nodes that host one of its ready endpoints, over all its slices. */
export function readyNodesByService(slices: Iterable<EndpointSlice>): Map<string, Set<string>> {
  const nodes = new Map<string, Set<string>>();
  for (const slice of slices) {
    const view = readEndpointSlice(slice);
    if (view === undefined) continue;
    const set = nodes.get(view.service) ?? nodes.set(view.service, new Set()).get(view.service)!;
    for (const endpoint of view.endpoints) if (endpoint.ready && endpoint.node !== undefined) set.add(endpoint.node);
  }
  return nodes;
}
