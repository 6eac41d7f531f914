import { stringify } from 'yaml';
import { selectorSpec, toCrds, withoutUndefined } from './crds.js';
import { toFlags } from './flags.js';
import type { PoolsConfig } from './model.js';
import { formatDuration } from './value-parsers.js';

/**
 * A config written back out: as MetalLB's CRDs (what configmaptocrs makes of a legacy
 * config), as the equivalent `vipkit run` flags, or as the legacy ConfigMap.
 */
export type Target = 'crds' | 'flags' | 'legacy';
export const TARGETS: readonly Target[] = ['crds', 'flags', 'legacy'];

/** The text and its objects, with warnings for what changed on the way (a pool renamed); or why it cannot be written. */
export type Converted = { text: string; objects: unknown[]; warnings: string[] } | { reason: string };

export function convert(config: PoolsConfig, target: Target): Converted {
  switch (target) {
    case 'crds': {
      const crds = toCrds(config);
      if ('reason' in crds) return crds;
      return { text: crds.resources.map((resource) => stringify(resource)).join('---\n'), objects: crds.resources, warnings: crds.warnings };
    }
    case 'flags': {
      const flags = toFlags(config);
      if ('reason' in flags) return flags;
      const lines: string[] = [];
      for (let i = 0; i < flags.args.length; i += 2) lines.push(`${flags.args[i]} ${flags.args[i + 1]}`);
      return { text: lines.join('\n') + '\n', objects: [{ args: flags.args }], warnings: [] };
    }
    case 'legacy':
      return toLegacy(config);
  }
}

function toLegacy(config: PoolsConfig): Converted {
  for (const pool of config.pools) {
    if (pool.protocols.length !== 1) return { reason: `pool ${pool.name} is advertised ${pool.protocols.length === 0 ? 'by no protocol' : 'both by layer2 and bgp'}; a legacy pool has exactly one protocol.` };
    if (pool.serviceAllocation) return { reason: `pool ${pool.name} has a serviceAllocation, which the legacy config cannot express.` };
  }
  const document = withoutUndefined({
    peers: config.peers.length === 0 ? undefined : config.peers.map((peer) =>
      withoutUndefined({
        'peer-address': peer.address,
        'peer-asn': peer.asn,
        'my-asn': peer.myAsn,
        'peer-port': peer.port,
        'hold-time': peer.holdTime === undefined ? undefined : formatDuration(peer.holdTime),
        'keepalive-time': peer.keepaliveTime === undefined ? undefined : formatDuration(peer.keepaliveTime),
        'router-id': peer.routerId,
        'source-address': peer.sourceAddress,
        password: peer.password,
        'bfd-profile': peer.bfdProfile,
        'ebgp-multihop': peer.ebgpMultiHop,
        'node-selectors': peer.nodeSelectors.length === 0 ? undefined : peer.nodeSelectors.map((selector) => selectorSpec(selector, 'match-labels', 'match-expressions')),
      }),
    ),
    'bgp-communities': config.communityAliases.size === 0 ? undefined : Object.fromEntries([...config.communityAliases].map(([name, { value }]) => [name, value])),
    'address-pools': config.pools.map((pool) => {
      const advertisements = pool.bgpAdvertisements.map((advertisement) =>
        withoutUndefined({
          'aggregation-length': advertisement.aggregationLength,
          'aggregation-length-v6': advertisement.aggregationLengthV6,
          localpref: advertisement.localPref,
          communities: advertisement.communities.length > 0 ? advertisement.communities : undefined,
        }),
      );
      const onlyDefaults = advertisements.length === 1 && Object.keys(advertisements[0]!).length === 0;
      return withoutUndefined({
        name: pool.name,
        protocol: pool.protocols[0],
        addresses: pool.ranges.map((range) => range.text),
        'auto-assign': pool.autoAssign ? undefined : false,
        'avoid-buggy-ips': pool.avoidBuggyIPs || undefined,
        'bgp-advertisements': advertisements.length === 0 || onlyDefaults ? undefined : advertisements,
      });
    }),
  });
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'metallb-system', name: 'config' }, data: { config: stringify(document) } };
  return { text: stringify(configMap), objects: [configMap], warnings: [] };
}
