/**
 * What `vipkit run` is told, read into the model the speaker works from: this node and its
 * labels, the other members, the pools and BGP peers (flags and MetalLB files, through the
 * pools parser), and the services with the addresses the allocator gives them, each with
 * how its pool is advertised. Every mistake is a located problem, reported before anything
 * is sent.
 */
import type { RoutePolicy } from '../bgp/announcer.js';
import { planAllocations } from '../pools/allocator.js';
import { checkConfig } from '../pools/check.js';
import { readLabelsFlag, readMemberFlag, readServiceFlag, type PeerDefaults } from '../pools/flags.js';
import { selectorMatches } from '../pools/crds.js';
import type { BgpAdvertisement, LabelSelector, Member, Peer, Pool, PoolsConfig, Problem } from '../pools/model.js';
import { readServices, type ServiceClaim } from '../pools/services.js';
import { loadPoolsSource, type SourceFile } from '../pools/source.js';
import { parseCommunity, parseLargeCommunity } from '../wire/bgp/format.js';
import type { BgpAdvertising, ClusterService } from './desired-state.js';

export interface ClusterInput {
  nodeName: string;
  /** `--node-labels k=v,...` */
  nodeLabels?: string;
  /** `--member name=address[,label=k=v]...` */
  members: readonly string[];
  /** `--pool` and `--peer` flags (with `--peer-asn`/`--my-asn`) and MetalLB files (`--config`). */
  pools: readonly string[];
  peers?: readonly string[];
  peerDefaults?: PeerDefaults;
  configFiles: readonly SourceFile[];
  /** `--service ns/name[=ip][,pool=name]` flags and Service files (`--services`). */
  services: readonly string[];
  serviceFiles: readonly SourceFile[];
  /**
   * A service left without an address is an error (flags and files: fix it before
   * anything is sent), or, from a cluster, one service's trouble: reported in
   * `unallocated` while the others are announced.
   */
  unallocatedIsError?: boolean;
  /**
   * Every Service's EndpointSlices are in serviceFiles (a cluster's snapshot): one without
   * any has no ready endpoint, and is not announced, as MetalLB's speaker does not.
   */
  endpointsKnown?: boolean;
}

export interface ClusterConfig {
  self: { name: string; labels: Record<string, string> };
  /** The other members; a `--member` naming this node is this node. */
  members: Member[];
  services: ClusterService[];
  /** The services that got no address, and why (only when unallocatedIsError is false). */
  unallocated: { service: string; reason: string }[];
  /** Every BGP peer configured; which of them this node peers with is up to their node selectors. */
  peers: Peer[];
}

export function readClusterConfig(input: ClusterInput): { config: ClusterConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const labels = input.nodeLabels === undefined ? {} : readLabelsFlag(input.nodeLabels, '--node-labels', problems);
  const source = loadPoolsSource([...input.configFiles], { pools: [...input.pools], peers: [...(input.peers ?? [])], defaults: input.peerDefaults ?? {} });
  problems.push(...source.problems);
  const members = readMembers(input, problems);
  const claims: ServiceClaim[] = [
    ...input.services.flatMap((text, index) => readServiceFlag(text, `--service #${index + 1}`, problems) ?? []),
    ...input.serviceFiles.flatMap((file) => readServices(file.text, file.path, problems)),
  ];
  const { config: pools } = source;
  if (pools.pools.length === 0) problems.push({ severity: 'error', at: { source: '--pool', column: 1 }, message: 'run needs address pools: --pool name=range or a MetalLB file with --config.' });
  problems.push(...checkConfig(pools, { nodeAddresses: members.map((member) => member.address), services: claims }));
  const services: ClusterService[] = [];
  const unallocated: ClusterConfig['unallocated'] = [];
  const advertisingOf = new Map<BgpAdvertisement, BgpAdvertising>();
  const claimOf = new Map(claims.map((claim) => [claim.key, claim]));
  for (const allocation of planAllocations(pools.pools, claims)) {
    const claim = claimOf.get(allocation.service)!;
    const { at } = claim;
    if (allocation.error !== undefined) {
      if (input.unallocatedIsError === false) unallocated.push({ service: allocation.service, reason: allocation.error });
      else problems.push({ severity: 'error', at, message: `service ${allocation.service} gets no address: ${allocation.error}` });
      continue;
    }
    const pool = pools.pools.find((candidate) => candidate.name === allocation.pool)!;
    if (pool.protocols.length === 0) {
      problems.push({ severity: 'error', at, message: `service ${allocation.service} is in pool ${pool.name}, which is advertised neither at layer2 nor over bgp; advertise the pool or choose another.` });
      continue;
    }
    if (pool.protocols.includes('bgp') && pools.peers.length === 0) {
      problems.push({ severity: 'error', at, message: `service ${allocation.service} is in pool ${pool.name}, advertised over bgp, and no BGP peer is configured: add --peer.` });
      continue;
    }
    const layer2 = pool.protocols.includes('layer2') ? layer2Scope(pool, claim.labels) : undefined;
    const bgp = pool.protocols.includes('bgp') ? bgpAdvertising(pool, claim.labels, pools, advertisingOf) : [];
    if (layer2 === undefined && bgp.length === 0) {
      problems.push({ severity: 'warning', at, message: `service ${allocation.service} gets ${allocation.ips.join(' and ')} from pool ${pool.name}, but no advertisement of the pool selects the service's labels: it is not announced.` });
    }
    const ready = claim.endpointNodes ?? (input.endpointsKnown ? [] : undefined);
    if (claim.localTraffic && ready === undefined) {
      problems.push({ severity: 'warning', at, message: `service ${allocation.service} has externalTrafficPolicy Local, and nothing says which nodes host its endpoints: every node announces it. Add its EndpointSlices to the file, or endpoint=<node> to --service.` });
    }
    // Local: only where an endpoint is; either way, nowhere when there is none.
    const endpointNodes = ready !== undefined && (claim.localTraffic || ready.length === 0) ? new Set(ready) : undefined;
    services.push({ key: allocation.service, ips: allocation.ips, pool: pool.name, ...(layer2 ? { layer2 } : {}), ...(bgp.length > 0 ? { bgp } : {}), ...(endpointNodes ? { endpointNodes } : {}) });
  }
  return { config: { self: { name: input.nodeName, labels }, members, services, unallocated, peers: pools.peers }, problems };
}

/** An advertisement covers the services its serviceSelectors match (none: every service). */
function covers(advertisement: { serviceSelectors?: LabelSelector[] }, labels: Record<string, string>): boolean {
  const selectors = advertisement.serviceSelectors ?? [];
  return selectors.length === 0 || selectors.some((selector) => selectorMatches(selector, labels));
}

/**
 * Where and by whom a service is answered at Layer 2, from the L2Advertisements that cover
 * it: a node that any of them selects, on an interface any of them names (MetalLB ORs
 * them; one without node selectors or interfaces lifts that limit). Undefined: none covers it.
 */
function layer2Scope(pool: Pool, labels: Record<string, string>): ClusterService['layer2'] {
  const scopes = (pool.l2Advertisements ?? [{ at: pool.at }]).filter((scope) => covers(scope, labels));
  if (scopes.length === 0) return undefined;
  const everyNode = scopes.some((scope) => !scope.nodeSelectors?.length);
  const everyInterface = scopes.some((scope) => !scope.interfaces?.length);
  return {
    ...(everyNode ? {} : { nodeSelectors: scopes.flatMap((scope) => scope.nodeSelectors ?? []) }),
    ...(everyInterface ? {} : { interfaces: [...new Set(scopes.flatMap((scope) => scope.interfaces ?? []))] }),
  };
}

/**
 * The pool's advertisements that cover the service, as the speaker sends them: one object
 * per advertisement, so that routes share their attributes; an advertisement naming
 * BGPPeers goes to those peers' addresses only.
 */
function bgpAdvertising(pool: Pool, labels: Record<string, string>, config: PoolsConfig, cache: Map<BgpAdvertisement, BgpAdvertising>): BgpAdvertising[] {
  return pool.bgpAdvertisements.filter((advertisement) => covers(advertisement, labels)).map((advertisement) => {
    const cached = cache.get(advertisement);
    if (cached) return cached;
    // The checks above refused communities that are neither values nor aliases.
    const values = advertisement.communities.map((community) => config.communityAliases.get(community)?.value ?? community);
    const policy: RoutePolicy = {
      origin: 'igp',
      communities: values.filter((value) => !value.startsWith('large:')).map(parseCommunity),
      largeCommunities: values.filter((value) => value.startsWith('large:')).map((value) => parseLargeCommunity(value.slice('large:'.length))),
      asPathPrepend: 0,
      ...(advertisement.localPref !== undefined ? { localPref: advertisement.localPref } : {}),
      // The check above refused names of BGPPeers that do not exist.
      ...(advertisement.peers?.length ? { peers: new Set(config.peers.filter((peer) => advertisement.peers!.includes(peer.name ?? '')).map((peer) => peer.address)) } : {}),
    };
    const advertising: BgpAdvertising = {
      aggregation: { ...(advertisement.aggregationLength !== undefined ? { ipv4: advertisement.aggregationLength } : {}), ...(advertisement.aggregationLengthV6 !== undefined ? { ipv6: advertisement.aggregationLengthV6 } : {}) },
      policy,
      ...(advertisement.nodeSelectors?.length ? { nodeSelectors: advertisement.nodeSelectors } : {}),
    };
    cache.set(advertisement, advertising);
    return advertising;
  });
}

function readMembers(input: ClusterInput, problems: Problem[]): Member[] {
  const members: Member[] = [];
  input.members.forEach((text, index) => {
    const member = readMemberFlag(text, `--member #${index + 1}`, problems);
    if (member === undefined || member.name === input.nodeName) return;
    const twin = members.find((other) => other.name === member.name || other.address === member.address);
    if (twin) {
      problems.push({ severity: 'error', at: member.at, message: `member ${member.name} (${member.address}) repeats the name or address of member ${twin.name} (${twin.address}); every member once.` });
      return;
    }
    members.push(member);
  });
  return members;
}
