/**
 * Nodes as cluster members: a name, the InternalIP addresses the speakers reach each
 * other on, the labels node selectors match, and the two things that take a node out of
 * announcing, as MetalLB's speaker reads them: a NetworkUnavailable condition that is
 * True, and the exclude-from-external-load-balancers label (any value).
 */
import type { Node } from './api-objects.js';

export const EXCLUDE_FROM_LOAD_BALANCERS_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export interface NodeView {
  name: string;
  internalIps: string[];
  labels: Record<string, string>;
  networkUnavailable: boolean;
  excludedFromLoadBalancers: boolean;
}

export function readNode(node: Node): NodeView | undefined {
  const name = node.metadata?.name;
  if (name === undefined || name === '') return undefined;
  const labels = node.metadata?.labels ?? {};
  return {
    name,
    internalIps: (node.status?.addresses ?? []).filter((address) => address.type === 'InternalIP' && address.address).map((address) => address.address!),
    labels,
    networkUnavailable: (node.status?.conditions ?? []).some((condition) => condition.type === 'NetworkUnavailable' && condition.status === 'True'),
    excludedFromLoadBalancers: EXCLUDE_FROM_LOAD_BALANCERS_LABEL in labels,
  };
}

/** A node that may announce: reachable network and not excluded. */
export function mayAnnounce(node: NodeView): boolean {
  return !node.networkUnavailable && !node.excludedFromLoadBalancers;
}
