import { formatLocation, peerName, type Peer, type PoolsConfig, type Problem } from './model.js';

/**
 * MetalLB's BGP implementation (its METALLB_BGP_TYPE), which decides part of what it
 * refuses: internal/config/validation.go ValidationFor (v0.12: validate.go) runs
 * DiscardFRROnly in native mode, DiscardNativeOnly in FRR and FRR-K8s modes.
 */
export const BGP_TYPES = ['native', 'frr', 'frr-k8s'] as const;
export type BgpType = (typeof BGP_TYPES)[number];

/** The mode whose rules apply to each MetalLB format. */
export interface BgpTypes {
  legacy: BgpType;
  resources: BgpType;
}

/**
 * The mode MetalLB installs by default where each format is read: v0.12 ran native
 * (speaker/main.go; its FRR mode was experimental), v0.16's manifests and Helm chart
 * FRR-K8s (v0.13-v0.15's chart FRR, validated alike).
 */
export const DEFAULT_BGP_TYPES: BgpTypes = { legacy: 'native', resources: 'frr-k8s' };

/**
 * The rules of one mode over one format's config. In FRR modes a peer refused as a
 * second session to its router is left out of the config. sharesNode: whether some node
 * would run both peers (v0.12 to v0.15 held every pair of peers to the rules; v0.16
 * validation.go peersShareNode only those a node selects both of).
 */
export function checkBgpType(config: PoolsConfig, type: BgpType, sharesNode: (a: Peer, b: Peer) => boolean, problems: Problem[]): void {
  if (type === 'native') discardFrrOnly(config, problems);
  else config.peers = frrCompatiblePeers(config.peers, sharesNode, problems);
}

const RUN_FRR = 'or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s';

/** validation.go DiscardFRROnly (v0.12 validate.go): what only FRR implements; large communities are the caller's (v0.12's parser refuses them in any mode). */
function discardFrrOnly(config: PoolsConfig, problems: Problem[]): void {
  for (const peer of config.peers) {
    const settings = frrOnlySettings(peer);
    if (settings.length === 0) continue;
    const them = settings.length === 1 ? 'it' : 'them';
    problems.push({ severity: 'error', at: peer.at, message: `peer ${peerName(peer)} sets ${listed(settings)}, which MetalLB refuses in native BGP mode (FRR only); remove ${them}, ${RUN_FRR}.` });
  }
  for (const profile of config.bfdProfiles) {
    problems.push({ severity: 'error', at: profile.at, message: `BFD profile "${profile.name}" is refused by MetalLB in native BGP mode, which has no BFD; remove it, ${RUN_FRR}.` });
  }
  for (const pool of config.pools.filter((candidate) => candidate.protocols.includes('bgp'))) {
    for (const range of pool.ranges.filter((candidate) => candidate.range.family === 6)) {
      problems.push({ severity: 'error', at: range.at, message: `${range.text} of pool "${pool.name}" is IPv6, which MetalLB in native BGP mode cannot announce; announce it over layer2 instead, ${RUN_FRR}.` });
    }
  }
}

function frrOnlySettings(peer: Peer): string[] {
  const settings: [string, unknown][] = [
    ['a BFD profile', peer.bfdProfile],
    ['a keepalive time', peer.keepaliveTime || undefined],
    ['a VRF', peer.vrf],
    ['a connect time', peer.connectTime],
    ['graceful restart', peer.enableGracefulRestart || undefined],
    ['disableMP', peer.disableMP || undefined],
    ['dualStackAddressFamily', peer.dualStackAddressFamily || undefined],
    ['dynamicASN', peer.dynamicAsn],
    ['an interface (unnumbered BGP)', peer.interface],
    ['a local ASN', peer.localAsn],
  ];
  return settings.filter(([, value]) => value !== undefined).map(([name]) => name);
}

/**
 * validation.go DiscardNativeOnly: the peers one node runs share FRR's one BGP instance,
 * so they must agree on its router ID, and on its AS within a VRF, and name each router
 * (address or interface, in its VRF: PeerIdentifier) once.
 */
function frrCompatiblePeers(peers: Peer[], sharesNode: (a: Peer, b: Peer) => boolean, problems: Problem[]): Peer[] {
  const kept: Peer[] = [];
  for (const peer of peers) {
    const neighbours = kept.filter((other) => sharesNode(other, peer));
    const twin = neighbours.find((other) => peerIdentifier(other) === peerIdentifier(peer));
    if (twin) {
      problems.push({ severity: 'error', at: peer.at, message: `peer ${peerName(peer)} is also defined at ${formatLocation(twin.at)}, and MetalLB's FRR mode refuses two sessions to one router from one node; merge them.` });
      continue;
    }
    const otherId = neighbours.find((other) => other.routerId !== peer.routerId);
    if (otherId) {
      problems.push({
        severity: 'error',
        at: peer.at,
        message: `peer ${peerName(peer)} has ${routerId(peer)} but peer ${peerName(otherId)} (${formatLocation(otherId.at)}), which runs on the same node, has ${routerId(otherId)}; MetalLB's FRR mode needs one router ID per node, so give them the same one.`,
      });
    }
    const otherAsn = neighbours.find((other) => other.vrf === peer.vrf && other.myAsn !== peer.myAsn);
    if (otherAsn) {
      problems.push({
        severity: 'error',
        at: peer.at,
        message: `peer ${peerName(peer)} has local ASN ${peer.myAsn ?? 'none'} but peer ${peerName(otherAsn)} (${formatLocation(otherAsn.at)}), which runs on the same node${peer.vrf ? ` in VRF ${peer.vrf}` : ''}, has ${otherAsn.myAsn ?? 'none'}; MetalLB's FRR mode needs one local ASN per node and VRF, so give them the same one.`,
      });
    }
    kept.push(peer);
  }
  return kept;
}

function peerIdentifier(peer: Peer): string {
  return `${peer.address || peer.interface}%${peer.vrf ?? ''}`;
}

function routerId(peer: Peer): string {
  return peer.routerId === undefined ? 'no router ID' : `router ID ${peer.routerId}`;
}

function listed(items: string[]): string {
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
