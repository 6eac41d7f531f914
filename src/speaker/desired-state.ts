/**
 * What this node should announce, as a pure function of what it knows: the services and
 * their addresses, the nodes of the cluster with their labels and liveness, and where this
 * host could answer. `run` recomputes it whenever one of those changes and hands it to
 * Speaker.set; the decisions say why, for logs, `--dry-run` and `vipkit status`.
 *
 * Layer 2 and BGP differ in who announces: at Layer 2 exactly one node, the first of the
 * placement order among the live eligible nodes; over BGP every eligible node, each for
 * itself, and the routers spread the traffic (ECMP) and notice a dead node themselves.
 */
import type { RoutePolicy, Routes } from '../bgp/announcer.js';
import type { LabelSelector } from '../pools/model.js';
import { place, whyNotCandidate, type ElectionNode, type Placement } from './election.js';
import { prefixesOf, routeBlocks, type AggregationLengths } from './route-targets.js';
import type { DesiredState } from './speaker.js';

/** One BGPAdvertisement of a service's pool, resolved: the prefixes it makes and what they carry. */
export interface BgpAdvertising {
  aggregation: AggregationLengths;
  policy: RoutePolicy;
  /** Only nodes matching one of these announce (none: every node). */
  nodeSelectors?: readonly LabelSelector[];
}

/** A service as the speaker announces it. */
export interface ClusterService {
  /** "namespace/name" */
  key: string;
  /** Its addresses, the first one deciding placement (as MetalLB's speaker hashes it). */
  ips: readonly string[];
  pool: string;
  /** Answered at Layer 2, by one node among those its L2Advertisements select, on the interfaces they name; absent: not at Layer 2. */
  layer2?: { nodeSelectors?: readonly LabelSelector[]; interfaces?: readonly string[] };
  /** Announced over BGP, once per advertisement of its pool; absent or empty: not over BGP. */
  bgp?: readonly BgpAdvertising[];
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

export interface BgpDecision {
  service: string;
  ip: string;
  pool: string;
  /** The prefixes this node announces for it (one per advertisement that selects this node). */
  prefixes: string[];
  /** Why this node announces none; absent when it does. */
  notAnnounced?: string;
}

/**
 * This node (`self`) announces each address of every Layer 2 service it owns, on the
 * interface `interfaceFor` names (by default the one whose subnet holds the address).
 */
export function layer2DesiredState(
  services: readonly ClusterService[],
  self: string,
  nodes: readonly ElectionNode[],
  interfaceFor: (ip: string) => string | undefined,
): { l2: DesiredState['l2']; decisions: Layer2Decision[] } {
  const decisions: Layer2Decision[] = [];
  for (const service of services) {
    const [first] = service.ips;
    if (first === undefined || service.layer2 === undefined) continue;
    const placement = place({ ip: first, ...eligibility(service.layer2.nodeSelectors, service.endpointNodes) }, nodes);
    for (const ip of service.ips) {
      const decision: Layer2Decision = { service: service.key, ip, pool: service.pool, placement };
      const iface = placement.owner === self ? interfaceFor(ip) : undefined;
      const allowed = service.layer2.interfaces;
      if (placement.owner === undefined) decision.notAnnounced = noOwner(placement);
      else if (placement.owner !== self) decision.notAnnounced = `${placement.owner} owns it`;
      else if (iface === undefined) decision.notAnnounced = `no interface here has a subnet holding ${ip}`;
      else if (allowed !== undefined && !allowed.includes(iface)) decision.notAnnounced = `its subnet is on ${iface}, which its L2Advertisements do not name (${allowed.join(', ')})`;
      else decision.interface = iface;
      decisions.push(decision);
    }
  }
  return { l2: desiredOf(decisions), decisions };
}

/** What the Layer 2 decisions announce: every address with an interface, on it. */
export function desiredOf(decisions: readonly Layer2Decision[]): DesiredState['l2'] {
  const byInterface = new Map<string, string[]>();
  for (const { ip, interface: iface } of decisions) {
    if (iface !== undefined) byInterface.set(iface, [...(byInterface.get(iface) ?? []), ip]);
  }
  return byInterface;
}

/**
 * The routes this node (`self`) announces: for every BGP service's address, the prefix of
 * each advertisement that selects this node (a host route unless an aggregation length
 * asks for the covering prefix). Two advertisements making the same prefix announce it
 * once, with both their communities (MetalLB merges them the same way).
 */
export function bgpDesiredState(services: readonly ClusterService[], self: ElectionNode): { routes: Routes; decisions: BgpDecision[] } {
  const routes = new Map<string, RoutePolicy>();
  const merged = new Map<string, RoutePolicy>();
  const decisions: BgpDecision[] = [];
  for (const service of services) {
    if (service.bgp === undefined || service.bgp.length === 0) continue;
    for (const ip of service.ips) {
      const decision: BgpDecision = { service: service.key, ip, pool: service.pool, prefixes: [] };
      const reasons: string[] = [];
      for (const advertising of service.bgp) {
        const excluded = whyNotCandidate(self, { ip, ...eligibility(advertising.nodeSelectors, service.endpointNodes) });
        if (excluded !== undefined) {
          reasons.push(excluded);
          continue;
        }
        const prefix = prefixOf(ip, advertising.aggregation);
        const existing = routes.get(prefix!);
        routes.set(prefix!, existing === undefined ? advertising.policy : mergedPolicy(existing, advertising.policy, merged));
        if (!decision.prefixes.includes(prefix!)) decision.prefixes.push(prefix!);
      }
      if (decision.prefixes.length === 0) decision.notAnnounced = `this node ${[...new Set(reasons)].join('; ')}`;
      decisions.push(decision);
    }
  }
  return { routes, decisions };
}

/** Why no node owns a VIP: what kept each node out, once each. */
function noOwner({ excluded }: Placement): string {
  const reasons = [...new Set(excluded.map((exclusion) => exclusion.reason))];
  return reasons.length === 0 ? 'no live eligible node' : `no live eligible node: ${reasons.join('; ')}`;
}

/** The route for `ip`: a host route, or the covering prefix of the aggregation length. */
function prefixOf(ip: string, aggregation: AggregationLengths): string {
  const ipv6 = ip.includes(':');
  const length = ipv6 ? aggregation.ipv6 : aggregation.ipv4;
  if (length === undefined || length === (ipv6 ? 128 : 32)) return `${ip}/${ipv6 ? 128 : 32}`;
  return prefixesOf(routeBlocks([ip], aggregation, 1)).next().value!;
}

function eligibility(nodeSelectors: readonly LabelSelector[] | undefined, endpointNodes: ReadonlySet<string> | undefined) {
  return { ...(nodeSelectors ? { nodeSelectors } : {}), ...(endpointNodes ? { endpointNodes } : {}) };
}

/** One policy for a prefix two advertisements make; the same pair always gives the same object (attributes are shared per policy). */
function mergedPolicy(a: RoutePolicy, b: RoutePolicy, cache: Map<string, RoutePolicy>): RoutePolicy {
  if (a === b) return a;
  const key = JSON.stringify([a, b, [...(a.peers ?? [])], [...(b.peers ?? [])]]);
  const cached = cache.get(key);
  if (cached) return cached;
  const { peers: _peers, ...shared } = a;
  const localPref = a.localPref ?? b.localPref;
  const policy: RoutePolicy = {
    ...shared,
    ...(localPref !== undefined ? { localPref } : {}),
    communities: [...new Set([...a.communities, ...b.communities])],
    largeCommunities: [...new Map([...a.largeCommunities, ...b.largeCommunities].map((community) => [JSON.stringify(community), community])).values()],
    // To every peer that either advertisement sends to.
    ...(a.peers && b.peers ? { peers: new Set([...a.peers, ...b.peers]) } : {}),
  };
  cache.set(key, policy);
  return policy;
}
