import type { BgpType, BgpTypes } from './bgp-type.js';
import { CrdReader } from './crds.js';
import { readFlags, type PeerDefaults } from './flags.js';
import { LEGACY_KEYS, readLegacyConfig } from './legacy-config.js';
import { emptyConfig, formatLocation, peerName, type Peer, type PoolsConfig, type Problem } from './model.js';
import { closest } from './suggest.js';
import { entry, expectMap, parseEmbeddedYaml, parseYaml, type YamlMap } from './yaml-source.js';

/**
 * A pools source: any mix of files (legacy config as ConfigMap, bare document or Helm
 * values; CRDs) and `--pool`/`--peer` flags, merged into one model. The same pool or peer
 * defined twice is a conflict, reported at both places.
 */
export interface SourceFile {
  path: string;
  text: string;
}

export interface SourceFlags {
  pools: string[];
  peers: string[];
  defaults: PeerDefaults;
}

export interface LoadedSource {
  config: PoolsConfig;
  problems: Problem[];
}

const HELM_KEY = 'configInline';
const TOP_LEVEL_KEYS = [HELM_KEY, ...LEGACY_KEYS, 'apiVersion', 'kind'];

/** bgpTypes: the MetalLB modes whose rules apply to each format; none, no mode's (the flags are vipkit's own, never a mode's). */
export function loadPoolsSource(files: SourceFile[], flags: SourceFlags, bgpTypes?: BgpTypes): LoadedSource {
  const problems: Problem[] = [];
  const parts: PoolsConfig[] = [];
  const crds = new CrdReader(problems, bgpTypes?.resources);
  for (const file of files) {
    const parsed = parseYaml(file.text, file.path);
    problems.push(...parsed.problems);
    if (parsed.documents.length === 0 && parsed.problems.length === 0) {
      problems.push({ severity: 'warning', at: { source: file.path, line: 1, column: 1 }, message: 'this file holds no YAML document (it is empty, or comments only).' });
    }
    for (const document of parsed.documents) {
      const map = expectMap(document, 'a MetalLB configuration document', problems);
      if (map) readDocument(map, file.text, crds, parts, problems, bgpTypes?.legacy);
    }
  }
  parts.push(crds.finish());
  parts.push(readFlags(flags.pools, flags.peers, flags.defaults, problems));
  return { config: merge(parts, problems), problems };
}

function readDocument(map: YamlMap, fileText: string, crds: CrdReader, parts: PoolsConfig[], problems: Problem[], bgpType: BgpType | undefined): void {
  const kindNode = entry(map, 'kind');
  const kind = kindNode?.kind === 'scalar' ? String(kindNode.value) : undefined;
  if (CrdReader.isCrd(map)) return crds.add(map);
  if (kind === 'ConfigMap') return readConfigMap(map, fileText, parts, problems, bgpType);
  // A manifest's other objects (a Namespace, Node, Secret...): MetalLB never reads them as config, some feed its selectors.
  if (kind !== undefined && kind !== 'Service' && kind !== 'List' && entry(map, 'apiVersion') !== undefined) return crds.addClusterObject(kind, map);
  const helm = entry(map, HELM_KEY);
  if (helm) {
    const inline = expectMap(helm, HELM_KEY, problems);
    if (inline) parts.push(readLegacyConfig(inline, problems, bgpType));
    return;
  }
  if (map.entries.some(({ key }) => (LEGACY_KEYS as readonly string[]).includes(key))) {
    parts.push(readLegacyConfig(map, problems, bgpType));
    return;
  }
  if (kind === 'Service' || kind === 'List') {
    problems.push({ severity: 'warning', at: map.at, message: 'this document holds Services, not pools; pass services with --services <file>.' });
    return;
  }
  const nearMiss = map.entries.find(({ key }) => closest(key, TOP_LEVEL_KEYS) !== undefined);
  if (nearMiss) {
    problems.push({ severity: 'error', at: nearMiss.keyAt, message: `unknown key "${nearMiss.key}"; did you mean "${closest(nearMiss.key, TOP_LEVEL_KEYS)}"?` });
    return;
  }
  problems.push({
    severity: 'warning',
    at: map.at,
    message: 'this document holds no MetalLB configuration (a ConfigMap with data.config, Helm values with configInline, address-pools and peers, or metallb.io resources), so it was skipped.',
  });
}

function readConfigMap(map: YamlMap, fileText: string, parts: PoolsConfig[], problems: Problem[], bgpType: BgpType | undefined): void {
  const data = entry(map, 'data');
  const config = data?.kind === 'map' ? entry(data, 'config') : undefined;
  if (config === undefined) return;
  if (config.kind !== 'scalar' || typeof config.value !== 'string') {
    problems.push({ severity: 'error', at: config.at, message: 'data.config of this ConfigMap is not a string; MetalLB reads its configuration as YAML text from there, so write it after "config: |".' });
    return;
  }
  const embedded = parseEmbeddedYaml(config, fileText);
  problems.push(...embedded.problems);
  for (const document of embedded.documents) {
    const inner = expectMap(document, 'data.config', problems);
    if (inner) parts.push(readLegacyConfig(inner, problems, bgpType));
  }
}

function merge(parts: PoolsConfig[], problems: Problem[]): PoolsConfig {
  const merged = emptyConfig();
  for (const part of parts) {
    for (const pool of part.pools) {
      const earlier = merged.pools.find((candidate) => candidate.name === pool.name && pool.name !== '');
      if (earlier) {
        problems.push({ severity: 'error', at: pool.at, message: `pool "${pool.name}" is also defined at ${formatLocation(earlier.at)}; remove one or rename it.` });
      } else {
        merged.pools.push(pool);
      }
    }
    for (const peer of part.peers) {
      // config.go peersFor refuses only a peer equal to another; the same router in another VRF or on another port is another session.
      const earlier = merged.peers.find(
        (candidate) => candidate.address === peer.address && candidate.interface === peer.interface && (candidate.port ?? 179) === (peer.port ?? 179) && candidate.vrf === peer.vrf,
      );
      if (earlier && peerSettings(earlier) === peerSettings(peer)) {
        problems.push({ severity: 'error', at: peer.at, message: `peer ${peerName(peer)} is also defined at ${formatLocation(earlier.at)} with the same settings; MetalLB refuses a peer defined twice, so remove one.` });
        continue;
      }
      // One router met from different nodes (a BGPPeer per rack, each with its node selectors) is no clash.
      if (earlier && surelyShareNode(earlier, peer)) {
        problems.push({
          severity: 'warning',
          at: peer.at,
          message: `peer ${peerName(peer)} is also defined at ${formatLocation(earlier.at)} with other settings; MetalLB accepts it (FRR mode not on a node both select), but the two sessions to one router would clash, so merge them.`,
        });
      }
      merged.peers.push(peer);
    }
    for (const profile of part.bfdProfiles) {
      // config.go bfdProfilesFor: "found duplicate bfd profile name".
      const earlier = merged.bfdProfiles.find((candidate) => candidate.name === profile.name);
      if (earlier) problems.push({ severity: 'error', at: profile.at, message: `BFD profile "${profile.name}" is also defined at ${formatLocation(earlier.at)}; MetalLB refuses a name defined twice, so remove one.` });
      else merged.bfdProfiles.push(profile);
    }
    for (const [name, alias] of part.communityAliases) {
      const earlier = merged.communityAliases.get(name);
      if (earlier && earlier.value !== alias.value) {
        problems.push({ severity: 'error', at: alias.at, message: `community "${name}" is ${alias.value} here but ${earlier.value} at ${formatLocation(earlier.at)}; give them one value.` });
      } else if (!earlier) {
        merged.communityAliases.set(name, alias);
      }
    }
  }
  return merged;
}

/** JSON.stringify's replacer that leaves out where things were written. */
const withoutLocations = (key: string, value: unknown) => (key === 'at' ? undefined : value);

/**
 * Whether some node surely runs both peers, whatever the cluster's Node labels: one of them
 * takes every node, or both take the same ones. A peer per rack (disjoint selectors) is not.
 */
function surelyShareNode(a: Peer, b: Peer): boolean {
  const selectors = (peer: Peer) => JSON.stringify(peer.nodeSelectors, withoutLocations);
  return a.nodeSelectors.length === 0 || b.nodeSelectors.length === 0 || selectors(a) === selectors(b);
}

/** A peer's settings, where it was written left out. */
function peerSettings(peer: Peer): string {
  return JSON.stringify(peer, withoutLocations);
}
