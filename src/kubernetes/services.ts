/**
 * Services of type LoadBalancer, and writing the addresses they were given to
 * status.loadBalancer.ingress (the status subresource: a change to the Service itself
 * would be refused, and would race with its owner).
 */
import type { KubernetesClient } from './api-client.js';
import type { Service } from './api-objects.js';
import { resourcePath, SERVICES } from './resources.js';

export function isLoadBalancer(service: Service): boolean {
  return service.spec?.type === 'LoadBalancer';
}

/** The ingress IPs the status holds now. */
export function ingressIps(service: Service): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).flatMap((ingress) => (ingress.ip ? [ingress.ip] : []));
}

/**
 * Sets status.loadBalancer.ingress to exactly `ips` (none removes it) with a JSON merge
 * patch, and resolves with the Service as the server stored it.
 */
export function setLoadBalancerIngress(client: KubernetesClient, namespace: string, name: string, ips: string[], signal?: AbortSignal): Promise<Service> {
  return client.request<Service>('PATCH', resourcePath(SERVICES, { namespace, name, subresource: 'status' }), {
    body: { status: { loadBalancer: { ingress: ips.length === 0 ? null : ips.map((ip) => ({ ip })) } } },
    contentType: 'application/merge-patch+json',
    ...(signal === undefined ? {} : { signal }),
  });
}
