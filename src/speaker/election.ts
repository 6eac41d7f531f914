/**
 * Who answers for a VIP at Layer 2, decided the way MetalLB's speaker decides it, so that
 * users can predict it and every node computes the same answer from the same inputs — no
 * leader, no messages. The candidates are the live, eligible nodes; they are ordered by the
 * SHA-256 digest of `node name + "#" + the service's first IP` in canonical text, digests
 * compared bytewise, and the first one owns the VIP. Spreading by digest puts each VIP on
 * a different node, and only the VIPs of a node that leaves move.
 */
import { createHash } from 'node:crypto';
import { selectorMatches } from '../pools/crds.js';
import type { LabelSelector } from '../pools/model.js';

/** A node as the election sees it. */
export interface ElectionNode {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Reachable now (its liveness session is Up, or it is this node). */
  live: boolean;
}

/** What restricts a service's candidates. */
export interface ElectionService {
  /** Its first IP, in canonical text (the one MetalLB hashes). */
  ip: string;
  /** L2Advertisement node selectors: a node must match one of them (none: every node). */
  nodeSelectors?: readonly LabelSelector[];
  /** externalTrafficPolicy Local: only the nodes with a ready endpoint; empty: no node (the service has no ready endpoint at all). */
  endpointNodes?: ReadonlySet<string>;
}

export interface Placement {
  /** The candidates in placement order; the first owns the VIP. */
  order: string[];
  owner?: string;
  /** Every node that is not a candidate, and why. */
  excluded: { node: string; reason: string }[];
}

/** Kubernetes' well-known label: a node that must not carry external load-balancer traffic. */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export function place(service: ElectionService, nodes: readonly ElectionNode[]): Placement {
  const excluded: Placement['excluded'] = [];
  const candidates: string[] = [];
  for (const node of nodes) {
    const reason = whyNotCandidate(node, service);
    if (reason === undefined) candidates.push(node.name);
    else excluded.push({ node: node.name, reason });
  }
  const order = placementOrder(candidates, service.ip);
  return { order, ...(order.length > 0 ? { owner: order[0] } : {}), excluded };
}

/** `names` sorted by sha256(name + "#" + ip), bytewise: MetalLB's layer 2 order. */
export function placementOrder(names: readonly string[], ip: string): string[] {
  const digests = new Map(names.map((name) => [name, createHash('sha256').update(`${name}#${ip}`).digest()]));
  return [...names].sort((a, b) => Buffer.compare(digests.get(a)!, digests.get(b)!));
}

/** Why `node` may not announce `service` (not live, excluded, unselected, no endpoint), or undefined when it may. */
export function whyNotCandidate(node: ElectionNode, service: ElectionService): string | undefined {
  if (!node.live) return 'not live';
  if (Object.hasOwn(node.labels, EXCLUDE_LABEL)) return `labelled ${EXCLUDE_LABEL}`;
  const selectors = service.nodeSelectors ?? [];
  if (selectors.length > 0 && !selectors.some((selector) => selectorMatches(selector, node.labels))) return 'matches no node selector of the advertisement';
  if (service.endpointNodes?.size === 0) return 'the service has no ready endpoint';
  if (service.endpointNodes !== undefined && !service.endpointNodes.has(node.name)) return 'no ready endpoint here (externalTrafficPolicy: Local)';
  return undefined;
}
