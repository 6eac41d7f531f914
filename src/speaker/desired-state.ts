/**
 * What this node should announce, as a pure function of what it knows: the services and
 * their addresses, the nodes of the cluster with their labels and liveness, and where this
 * host could answer. `run` recomputes it whenever one of those changes and hands it to
 * Speaker.set; the decisions say why, for logs, `--dry-run` and `vipkit status`.
 */
import { NO_ROUTES } from '../bgp/announcer.js';
import type { LabelSelector } from '../pools/model.js';
import { place, type ElectionNode, type Placement } from './election.js';
import type { DesiredState } from './speaker.js';

/** A service announced at Layer 2. */
export interface Layer2Service {
  /** "namespace/name" */
  key: string;
  /** Its addresses, the first one deciding placement (as MetalLB's speaker hashes it). */
  ips: readonly string[];
  pool: string;
  nodeSelectors?: readonly LabelSelector[];
  /** externalTrafficPolicy Local: the nodes with a ready endpoint. */
  endpointNodes?: ReadonlySet<string>;
}

export interface Layer2Decision {
  service: string;
  ip: string;
  pool: string;
  placement: Placement;
  /** The interface this node answers on, when it announces the address. */
  interface?: string;
  /** Why this node does not announce it; absent when it does. */
  notAnnounced?: string;
}

/**
 * This node (`self`) announces each address of every service it owns, on the interface
 * `interfaceFor` names (by default the one whose subnet holds the address).
 */
export function layer2DesiredState(
  services: readonly Layer2Service[],
  self: string,
  nodes: readonly ElectionNode[],
  interfaceFor: (ip: string) => string | undefined,
): { desired: DesiredState; decisions: Layer2Decision[] } {
  const decisions: Layer2Decision[] = [];
  for (const service of services) {
    const [first] = service.ips;
    if (first === undefined) continue;
    const placement = place({ ip: first, ...(service.nodeSelectors ? { nodeSelectors: service.nodeSelectors } : {}), ...(service.endpointNodes ? { endpointNodes: service.endpointNodes } : {}) }, nodes);
    for (const ip of service.ips) {
      const decision: Layer2Decision = { service: service.key, ip, pool: service.pool, placement };
      const iface = placement.owner === self ? interfaceFor(ip) : undefined;
      if (placement.owner === undefined) decision.notAnnounced = 'no live eligible node';
      else if (placement.owner !== self) decision.notAnnounced = `${placement.owner} owns it`;
      else if (iface === undefined) decision.notAnnounced = `no interface here has a subnet holding ${ip}`;
      else decision.interface = iface;
      decisions.push(decision);
    }
  }
  return { desired: desiredOf(decisions), decisions };
}

/** What the decisions announce: every address with an interface, on it. */
export function desiredOf(decisions: readonly Layer2Decision[]): DesiredState {
  const byInterface = new Map<string, string[]>();
  for (const { ip, interface: iface } of decisions) {
    if (iface !== undefined) byInterface.set(iface, [...(byInterface.get(iface) ?? []), ip]);
  }
  return { l2: byInterface, bgp: NO_ROUTES };
}
