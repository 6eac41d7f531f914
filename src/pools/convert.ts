import { stringify } from 'yaml';
import { METALLB_NAMESPACE, selectorSpec, toCrds, withoutUndefined } from './crds.js';
import { toFlags } from './flags.js';
import { bgpAdvertisementOnlySetting, bgpPeerOnlySetting, peerName, portableRangeText, type PoolsConfig } from './model.js';
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
      return { text: crds.resources.map((resource) => yaml11(resource)).join('---\n'), objects: crds.resources, warnings: crds.warnings };
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

/**
 * YAML as YAML 1.1 readers read it: MetalLB's v0.12 parser (gopkg.in/yaml.v2) and PyYAML
 * take an unquoted 64512:1 for the base-60 integer 3870721, so such strings are quoted.
 */
function yaml11(value: unknown): string {
  return stringify(value, { version: '1.1' });
}

function toLegacy(config: PoolsConfig): Converted {
  for (const pool of config.pools) {
    if (pool.protocols.length !== 1) return { reason: `pool ${pool.name} is advertised ${pool.protocols.length === 0 ? 'by no protocol' : 'both by layer2 and bgp'}; a legacy pool has exactly one protocol.` };
    if (pool.serviceAllocation) return { reason: `pool ${pool.name} has a serviceAllocation, which the legacy config cannot express.` };
    const scoped = pool.bgpAdvertisements.map(bgpAdvertisementOnlySetting).find((setting) => setting !== undefined);
    if (scoped) return { reason: `a BGP advertisement of pool ${pool.name} has ${scoped}, which the legacy config cannot express.` };
    if (pool.l2Advertisements) return { reason: `pool ${pool.name} is announced at layer 2 only by some nodes, interfaces or services, which the legacy config cannot express.` };
  }
  const communities = [...[...config.communityAliases.values()].map(({ value }) => value), ...config.pools.flatMap((pool) => pool.bgpAdvertisements.flatMap((ad) => ad.communities))];
  const large = communities.find((value) => value.startsWith('large:'));
  if (large) return { reason: `community ${large} is a large community, which the legacy config (MetalLB v0.12) cannot read.` };
  for (const peer of config.peers) {
    const setting = bgpPeerOnlySetting(peer) ?? (peer.bfd !== undefined ? 'bfd' : undefined);
    if (setting) return { reason: `peer ${peerName(peer)} has ${setting}, which the legacy config cannot express.` };
    if (peer.address.includes('%')) return { reason: `peer ${peer.address} has an IPv6 zone, which MetalLB cannot read (net.ParseIP).` };
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
    'bfd-profiles':
      config.bfdProfiles.length === 0
        ? undefined
        : config.bfdProfiles.map((profile) =>
            withoutUndefined({
              name: profile.name,
              'receive-interval': profile.receiveInterval,
              'transmit-interval': profile.transmitInterval,
              'detect-multiplier': profile.detectMultiplier,
              'echo-interval': profile.echoInterval,
              'echo-mode': profile.echoMode,
              'passive-mode': profile.passiveMode,
              'minimum-ttl': profile.minimumTtl,
            }),
          ),
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
        addresses: pool.ranges.map(portableRangeText),
        'auto-assign': pool.autoAssign ? undefined : false,
        'avoid-buggy-ips': pool.avoidBuggyIPs || undefined,
        'bgp-advertisements': advertisements.length === 0 || onlyDefaults ? undefined : advertisements,
      });
    }),
  });
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: METALLB_NAMESPACE, name: 'config' }, data: { config: yaml11(document) } };
  return { text: yaml11(configMap), objects: [configMap], warnings: [] };
}
