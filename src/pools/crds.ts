import type { BgpAdvertisement, L2Advertisement, LabelSelector, Location, Peer, Pool, PoolsConfig, Problem, Protocol, ServiceAllocation } from './model.js';
import { emptyConfig, formatLocation, peerName, portableRangeText, PROTOCOLS } from './model.js';
import { formatDuration, isCommunityValue, kubernetesName, MAX_ASN, readAddress } from './value-parsers.js';
import { addressField, checkBfdReferences, CRD_SELECTORS, durationField, labelSelectorsField, metallbRange, peerTimers, readBfdProfile, reportDuplicates, type BfdSpelling } from './yaml-fields.js';
import { checkBgpType, type BgpType } from './bgp-type.js';
import { readLegacyPool, type LegacyPoolSpelling } from './legacy-config.js';
import { suggestion } from './suggest.js';
import { entry, expectMap, FieldReader, type YamlMap, type YamlNode } from './yaml-source.js';

/**
 * MetalLB's custom resources (metallb.io, v0.13 on): IPAddressPool, L2Advertisement,
 * BGPAdvertisement, BGPPeer, Community. A pool's protocol is not written on the pool: it
 * is layer2 or bgp because an advertisement selects it.
 */

const CRD_KINDS = ['IPAddressPool', 'AddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'Community', 'BFDProfile'] as const;
type CrdKind = (typeof CRD_KINDS)[number];
const isCrdKind = (kind: string): kind is CrdKind => (CRD_KINDS as readonly string[]).includes(kind);
const OBJECT_KEYS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const POOL_KEYS = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'];
/** v0.13's AddressPool (api/v1beta1/addresspool_types.go), removed in v0.14: the legacy pool as a resource. */
const ADDRESS_POOL_KEYS = ['protocol', 'addresses', 'autoAssign', 'bgpAdvertisements'];
const ADDRESS_POOL_SPELLING: LegacyPoolSpelling = {
  autoAssign: 'autoAssign',
  bgpAdvertisements: 'bgpAdvertisements',
  aggregationLength: 'aggregationLength',
  aggregationLengthV6: 'aggregationLengthV6',
  localPref: 'localPref',
};
/** The namespace MetalLB's manifests and Helm chart install it in; its webhooks refuse resources elsewhere. */
export const METALLB_NAMESPACE = 'metallb-system';
const ALLOCATION_KEYS = ['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors'];
const L2_KEYS = ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces', 'serviceSelectors'];
const BGP_ADVERTISEMENT_KEYS = ['aggregationLength', 'aggregationLengthV6', 'localPref', 'communities', 'ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'peers', 'serviceSelectors'];
const PEER_KEYS = [
  'myASN',
  'peerASN',
  'peerAddress',
  'sourceAddress',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'routerID',
  'nodeSelectors',
  'password',
  'passwordSecret',
  'bfdProfile',
  'ebgpMultiHop',
  'vrf',
  'disableMP',
  'dynamicASN',
  'enableGracefulRestart',
  'dualStackAddressFamily',
  'interface',
  'localASN',
];
const BFD_KEYS: BfdSpelling = {
  receiveInterval: 'receiveInterval',
  transmitInterval: 'transmitInterval',
  detectMultiplier: 'detectMultiplier',
  echoInterval: 'echoInterval',
  echoMode: 'echoMode',
  passiveMode: 'passiveMode',
  minimumTtl: 'minimumTtl',
};
/** The Secret type MetalLB takes a BGP password from (config.go passwordFromSecretForPeer). */
const PASSWORD_SECRET_TYPE = 'kubernetes.io/basic-auth';

/** An advertisement and which pools it selects, resolved once all documents are read. */
interface Selecting {
  protocol: Protocol;
  poolNames: string[];
  poolSelectors: LabelSelector[];
  advertisement?: BgpAdvertisement;
  /** An L2Advertisement's scope, when it narrows anything. */
  l2?: L2Advertisement;
  at: Location;
}

/** A MetalLB resource as written, before it is read into the model: where its kind and its name are. */
interface PendingResource {
  kind: CrdKind;
  name: string;
  spec: YamlMap;
  what: string;
  labels: Record<string, string>;
  kindAt: Location;
  at: Location;
}

/** Collects CRD documents, then resolves them into one config. */
export class CrdReader {
  private readonly config = emptyConfig();
  private readonly advertisements: Selecting[] = [];
  private readonly poolLabels = new Map<Pool, Record<string, string>>();
  /** AddressPools: their protocol is written on them, no advertisement selects them. */
  private readonly legacyPools = new Set<Pool>();
  /** Labels of the Namespaces and Nodes in the files, which MetalLB's namespace and node selectors match. */
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly nodeLabels = new Map<string, Record<string, string>>();
  /** The Secrets in the files, by name: their type, and whether they hold a password. */
  private readonly secrets = new Map<string, { type?: string; hasPassword: boolean; at: Location }>();
  /** The MetalLB resources read, by kind, namespace and name, in the order written; read into the model by finish. */
  private readonly resources = new Map<string, PendingResource>();
  /** Where each Community alias was first defined, across Community resources. */
  private readonly aliasNames = new Map<string, Location>();
  /** The namespace the first MetalLB resource named, which every other one must share. */
  private namespace?: { name: string; at: Location };

  /** bgpType: the MetalLB mode whose rules apply; none, no mode's. */
  constructor(
    private readonly problems: Problem[],
    private readonly bgpType?: BgpType,
  ) {}

  static isCrd(map: YamlMap): boolean {
    const apiVersion = entry(map, 'apiVersion');
    return apiVersion?.kind === 'scalar' && String(apiVersion.value).startsWith('metallb.io/');
  }

  add(map: YamlMap): void {
    const object = new FieldReader(map, 'a MetalLB resource', this.problems, OBJECT_KEYS);
    const kind = object.string('kind') ?? '';
    if (!isCrdKind(kind)) {
      this.problems.push({ severity: 'error', at: object.at('kind'), message: `kind "${kind}" is not a MetalLB resource${suggestion(kind, CRD_KINDS)}` });
      return;
    }
    const metadata = object.mapping('metadata');
    const metadataFields = metadata ? new FieldReader(metadata, `${kind} metadata`, [], []) : undefined;
    const name = metadataFields?.string('name');
    if (name === undefined) {
      this.problems.push({ severity: 'error', at: map.at, message: `this ${kind} has no metadata.name; give it a name.` });
      return;
    }
    const specNode = object.mapping('spec');
    const spec: YamlMap = specNode ?? { kind: 'map', at: map.at, entries: [] };
    const what = `${kind} "${name}"`;
    const namespace = metadataFields!.string('namespace');
    if (namespace !== undefined) this.checkNamespace(namespace, metadataFields!.at('namespace'), what);
    // kubectl apply keeps one object per kind, namespace and name: the later of two in the files replaces the earlier.
    const key = `${kind}/${namespace ?? ''}/${name}`;
    const at = metadataFields!.at('name');
    const earlier = this.resources.get(key);
    if (earlier) {
      this.problems.push({ severity: 'warning', at, message: `${what} is defined again here, and kubectl apply keeps this later one, which replaces the one at ${formatLocation(earlier.at)}; remove that one.` });
      this.resources.delete(key);
    }
    this.resources.set(key, { kind, name, spec, what, labels: metadataFields!.stringMap('labels'), kindAt: object.at('kind'), at });
  }

  /** A resource kubectl apply would leave in the cluster, read into the model. */
  private read({ kind, name, spec, what, labels, kindAt }: PendingResource): void {
    switch (kind) {
      case 'IPAddressPool':
        this.addPool(name, spec, what, labels);
        break;
      case 'AddressPool':
        this.problems.push({ severity: 'warning', at: kindAt, message: `AddressPool is MetalLB v0.13's legacy pool, removed in v0.14; "vipkit pools convert --to crds" writes it as an IPAddressPool and an advertisement.` });
        this.addLegacyPool(name, spec, what);
        break;
      case 'L2Advertisement':
        this.addAdvertisement('layer2', spec, what, L2_KEYS);
        break;
      case 'BGPAdvertisement':
        this.addAdvertisement('bgp', spec, what, BGP_ADVERTISEMENT_KEYS);
        break;
      case 'BGPPeer':
        this.addPeer(name, spec, what);
        break;
      case 'Community':
        this.addCommunities(spec, what);
        break;
      case 'BFDProfile':
        this.config.bfdProfiles.push(readBfdProfile(new FieldReader(spec, what, this.problems, Object.values(BFD_KEYS)), name, BFD_KEYS));
        break;
    }
  }

  /**
   * A manifest's object that is not MetalLB's: Namespace and Node labels are what MetalLB's
   * namespace and node selectors match, a Secret may hold a BGPPeer's password
   * (internal/config/config.go reads them beside its resources); anything else is skipped.
   */
  addClusterObject(kind: string, map: YamlMap): void {
    const metadata = entry(map, 'metadata');
    const fields = metadata?.kind === 'map' ? new FieldReader(metadata, `${kind} metadata`, [], []) : undefined;
    const name = fields?.string('name');
    if (name === undefined) return;
    if (kind === 'Namespace') this.namespaceLabels.set(name, fields!.stringMap('labels'));
    if (kind === 'Node') this.nodeLabels.set(name, fields!.stringMap('labels'));
    if (kind === 'Secret') {
      const [type, data, stringData] = ['type', 'data', 'stringData'].map((key) => entry(map, key));
      const holdsPassword = (node: YamlNode | undefined) => node?.kind === 'map' && entry(node, 'password') !== undefined;
      this.secrets.set(name, { type: type?.kind === 'scalar' ? String(type.value) : undefined, hasPassword: holdsPassword(data) || holdsPassword(stringData), at: map.at });
    }
  }

  /**
   * MetalLB's webhooks refuse a resource outside the namespace MetalLB runs in
   * (internal/k8s/webhooks: "resource must be created in ... namespace"); which one that is
   * depends on how it was installed, so only resources that disagree are an error.
   */
  private checkNamespace(namespace: string, at: Location, what: string): void {
    if (this.namespace === undefined) {
      this.namespace = { name: namespace, at };
      if (namespace !== METALLB_NAMESPACE) {
        this.problems.push({ severity: 'warning', at, message: `${what} is in namespace "${namespace}"; MetalLB accepts its resources only in the namespace it runs in, ${METALLB_NAMESPACE} unless installed elsewhere.` });
      }
    } else if (namespace !== this.namespace.name) {
      this.problems.push({
        severity: 'error',
        at,
        message: `${what} is in namespace "${namespace}" but the resource at ${formatLocation(this.namespace.at)} is in "${this.namespace.name}"; MetalLB accepts its resources only in the one namespace it runs in.`,
      });
    }
  }

  /** The pools with the protocols and BGP advertisements that select them. */
  finish(): PoolsConfig {
    for (const resource of this.resources.values()) this.read(resource);
    for (const pool of this.config.pools) {
      const allocation = pool.serviceAllocation;
      if (allocation && allocation.namespaceSelectors.length > 0) {
        allocation.selectedNamespaces = [...this.namespaceLabels]
          .filter(([, labels]) => allocation.namespaceSelectors.some((selector) => selectorMatches(selector, labels)))
          .map(([name]) => name);
      }
      if (this.legacyPools.has(pool)) continue;
      const selecting = this.advertisements.filter((advertisement) => this.selects(advertisement, pool));
      pool.protocols = PROTOCOLS.filter((protocol) => selecting.some((advertisement) => advertisement.protocol === protocol));
      pool.bgpAdvertisements = selecting.flatMap((advertisement) => advertisement.advertisement ?? []);
      if (selecting.some((advertisement) => advertisement.l2)) {
        pool.l2Advertisements = selecting.filter((advertisement) => advertisement.protocol === 'layer2').map((advertisement) => advertisement.l2 ?? { at: advertisement.at });
      }
      if (pool.protocols.length === 0) {
        this.problems.push({ severity: 'warning', at: pool.at, message: `pool "${pool.name}" is not advertised: no L2Advertisement or BGPAdvertisement selects it, so its addresses would be unreachable; MetalLB accepts it, but add an advertisement.` });
      }
    }
    const known = this.config.pools.map((pool) => pool.name);
    for (const advertisement of this.advertisements) {
      for (const name of advertisement.poolNames.filter((poolName) => !known.includes(poolName))) {
        // config.go setBGPAdvertisementsToPools skips a name no pool has.
        this.problems.push({ severity: 'warning', at: advertisement.at, message: `the advertisement names pool "${name}", which does not exist, so it advertises nothing for it; MetalLB accepts that${known.length > 0 ? suggestion(name, known) : '.'}` });
      }
    }
    // v0.13's AddressPools were not held to it (bgpAdvertisementsFromLegacyCR).
    for (const pool of this.config.pools.filter((candidate) => !this.legacyPools.has(candidate))) this.checkLocalPrefs(pool);
    for (const peer of this.config.peers) this.checkPasswordSecret(peer);
    checkBfdReferences(this.config.peers, this.config.bfdProfiles, 'warning', this.problems);
    this.checkBfdEcho();
    if (this.bgpType !== undefined) {
      checkBgpType(this.config, this.bgpType, (a, b) => this.sharesNode(a, b), this.problems);
      if (this.bgpType === 'native') this.checkNativeCommunities();
    }
    return this.config;
  }

  /** validation.go peersShareNode (v0.16): a Node both peers select; without Node objects, surely one. */
  private sharesNode(a: Peer, b: Peer): boolean {
    if (this.nodeLabels.size === 0) return true;
    const nodes = this.selectedNodes(a.nodeSelectors) as Set<string>;
    return [...(this.selectedNodes(b.nodeSelectors) as Set<string>)].some((node) => nodes.has(node));
  }

  /** validation.go findNonLegacyCommunity (v0.13 on): native mode sends standard communities only, so it refuses a large one in a BGPAdvertisement or a Community. */
  private checkNativeCommunities(): void {
    const values = [
      ...[...this.config.communityAliases.values()],
      ...this.advertisements.flatMap(({ advertisement }) => (advertisement?.communities ?? []).map((value) => ({ value, at: advertisement!.at }))),
    ];
    for (const { value, at } of values.filter(({ value }) => value.startsWith('large:') && isCommunityValue(value))) {
      this.problems.push({ severity: 'error', at, message: `community ${value} is a large community, which MetalLB refuses in native BGP mode; use a standard one like 65002:100, or, if MetalLB runs FRR or FRR-K8s, check with --bgp-type frr-k8s.` });
    }
  }

  /**
   * config.go validateBGPAdvPerPool (v0.15 on; up to v0.14 advertisements differing only
   * in the aggregation length of the one family a pool has still clashed): two
   * BGPAdvertisements of one pool sending the same routes from the same node to the same
   * peer must agree on LOCAL_PREF. Routes differ by aggregation length (of each family the
   * pool has); advertisements with serviceSelectors are never compared. Without Node objects MetalLB sees no node, but a cluster has some:
   * two advertisements of every node then always meet.
   */
  private checkLocalPrefs(pool: Pool): void {
    const families = new Set(pool.ranges.map((range) => range.range.family));
    pool.bgpAdvertisements.forEach((later, at) => {
      if (later.serviceSelectors) return;
      const earlier = pool.bgpAdvertisements.slice(0, at).find((other) => !other.serviceSelectors && !this.localPrefsAgree(other, later, families));
      if (earlier === undefined) return;
      this.problems.push({
        severity: 'error',
        at: later.at,
        message: `this BGPAdvertisement gives pool "${pool.name}" localPref ${later.localPref ?? 0} but the one at ${formatLocation(earlier.at)} gives the same routes ${earlier.localPref ?? 0}; MetalLB refuses two LOCAL_PREFs for one route, so give them one.`,
      });
    });
  }

  private localPrefsAgree(a: BgpAdvertisement, b: BgpAdvertisement, families: Set<number>): boolean {
    if ((a.localPref ?? 0) === (b.localPref ?? 0)) return true;
    const v4Differs = (a.aggregationLength ?? 32) !== (b.aggregationLength ?? 32);
    const v6Differs = (a.aggregationLengthV6 ?? 128) !== (b.aggregationLengthV6 ?? 128);
    if (families.size === 0 || (v4Differs && !families.has(6)) || (v6Differs && !families.has(4)) || (v4Differs && v6Differs)) return true;
    if (a.peers && b.peers && !a.peers.some((peer) => b.peers!.includes(peer))) return true;
    const [nodesA, nodesB] = [this.selectedNodes(a.nodeSelectors), this.selectedNodes(b.nodeSelectors)];
    // Without Node objects, selectors match nothing known: only two advertisements of every node surely meet.
    if (nodesA === 'every' || nodesB === 'every') return nodesA !== nodesB;
    return ![...nodesA].some((node) => nodesB.has(node));
  }

  /**
   * config.go passwordFromSecretForPeer: a basic-auth Secret with a password. One not in the
   * files may exist in the cluster: MetalLB waits for it (a transient error).
   */
  private checkPasswordSecret(peer: Peer): void {
    if (peer.passwordSecret === undefined) return;
    const secret = this.secrets.get(peer.passwordSecret);
    const name = `Secret "${peer.passwordSecret}"`;
    if (secret === undefined) {
      this.problems.push({ severity: 'warning', at: peer.at, message: `${name} of peer ${peerName(peer)} is not in these files; MetalLB accepts that and waits for it, so make sure it exists in MetalLB's namespace.` });
    } else if (secret.type !== PASSWORD_SECRET_TYPE) {
      this.problems.push({ severity: 'error', at: secret.at, message: `${name} is of type ${secret.type ?? 'Opaque'}, and MetalLB takes a BGP password only from type ${PASSWORD_SECRET_TYPE}; change its type.` });
    } else if (!secret.hasPassword) {
      this.problems.push({ severity: 'error', at: secret.at, message: `${name} has no "password" key, where MetalLB reads the BGP password; add it under data or stringData.` });
    }
  }

  /** validation.go validateConfig (v0.14 on): a BFD profile with echo mode cannot serve a peer that IPv6 routes are advertised to. */
  private checkBfdEcho(): void {
    const echo = new Set(this.config.bfdProfiles.filter((profile) => profile.echoMode).map((profile) => profile.name));
    for (const pool of this.config.pools.filter((candidate) => candidate.ranges.some((range) => range.range.family === 6))) {
      for (const advertisement of pool.bgpAdvertisements) {
        const peers = this.config.peers.filter((peer) => !advertisement.peers || advertisement.peers.includes(peer.name!));
        const peer = peers.find((candidate) => candidate.bfdProfile !== undefined && echo.has(candidate.bfdProfile));
        if (peer) {
          this.problems.push({
            severity: 'error',
            at: advertisement.at,
            message: `this BGPAdvertisement sends IPv6 routes of pool "${pool.name}" to peer ${peerName(peer)}, whose BFD profile "${peer.bfdProfile}" has echo mode, which MetalLB refuses; turn echo mode off or keep IPv6 from that peer.`,
          });
        }
      }
    }
  }

  /** config.go selectedNodes: the Nodes read that the selectors match, all without selectors ('every' when no Node was read). */
  private selectedNodes(selectors: LabelSelector[] | undefined): Set<string> | 'every' {
    if (!selectors || selectors.length === 0) return this.nodeLabels.size === 0 ? 'every' : new Set(this.nodeLabels.keys());
    return new Set([...this.nodeLabels].filter(([, labels]) => selectors.some((selector) => selectorMatches(selector, labels))).map(([name]) => name));
  }

  /** MetalLB: no pool names and no selectors means every pool. */
  private selects(advertisement: Selecting, pool: Pool): boolean {
    if (advertisement.poolNames.length === 0 && advertisement.poolSelectors.length === 0) return true;
    if (advertisement.poolNames.includes(pool.name)) return true;
    const labels = this.poolLabels.get(pool) ?? {};
    return advertisement.poolSelectors.some((selector) => selectorMatches(selector, labels));
  }

  private addPool(name: string, spec: YamlMap, what: string, labels: Record<string, string>): void {
    const fields = new FieldReader(spec, what, this.problems, POOL_KEYS);
    const addresses = fields.stringList('addresses');
    if (addresses.length === 0) this.problems.push({ severity: 'error', at: spec.at, message: `${what} has no addresses; list its CIDRs or ranges under spec.addresses.` });
    const allocation = fields.mapping('serviceAllocation');
    const pool: Pool = {
      name,
      protocols: [],
      ranges: addresses.flatMap(({ value, at }) => metallbRange(value, at, this.problems) ?? []),
      autoAssign: fields.boolean('autoAssign') ?? true,
      avoidBuggyIPs: fields.boolean('avoidBuggyIPs') ?? false,
      bgpAdvertisements: [],
      serviceAllocation: allocation ? this.readAllocation(allocation, what) : undefined,
      at: spec.at,
    };
    this.poolLabels.set(pool, labels);
    this.config.pools.push(pool);
  }

  private addLegacyPool(name: string, spec: YamlMap, what: string): void {
    const pool = readLegacyPool(new FieldReader(spec, what, this.problems, ADDRESS_POOL_KEYS), name, what, ADDRESS_POOL_SPELLING, 'resources', this.problems);
    this.legacyPools.add(pool);
    this.config.pools.push(pool);
  }

  private readAllocation(map: YamlMap, pool: string): ServiceAllocation {
    const what = `the serviceAllocation of ${pool}`;
    const fields = new FieldReader(map, what, this.problems, ALLOCATION_KEYS);
    const namespaces = fields.stringList('namespaces');
    reportDuplicates(namespaces, `namespace in ${what}`, 'error', this.problems);
    return {
      priority: fields.integer('priority', 0, 2 ** 31 - 1),
      namespaces: namespaces.map(({ value }) => value),
      namespaceSelectors: labelSelectorsField(fields, 'namespaceSelectors', CRD_SELECTORS, this.problems),
      serviceSelectors: labelSelectorsField(fields, 'serviceSelectors', CRD_SELECTORS, this.problems),
    };
  }

  /** config.go l2AdvertisementFromCR, bgpAdvertisementFromCR. */
  private addAdvertisement(protocol: Protocol, spec: YamlMap, what: string, keys: string[]): void {
    const fields = new FieldReader(spec, what, this.problems, keys);
    const poolNames = fields.stringList('ipAddressPools');
    reportDuplicates(poolNames, `pool in ${what}`, 'error', this.problems);
    const poolSelectors = labelSelectorsField(fields, 'ipAddressPoolSelectors', CRD_SELECTORS, this.problems);
    const nodeSelectors = labelSelectorsField(fields, 'nodeSelectors', CRD_SELECTORS, this.problems);
    const serviceSelectors = labelSelectorsField(fields, 'serviceSelectors', CRD_SELECTORS, this.problems);
    const interfaces = protocol === 'layer2' ? fields.stringList('interfaces') : [];
    const scoped = nodeSelectors.length > 0 || interfaces.length > 0 || serviceSelectors.length > 0;
    this.advertisements.push({
      protocol,
      poolNames: poolNames.map(({ value }) => value),
      poolSelectors,
      advertisement: protocol === 'bgp' ? this.readBgpAdvertisement(fields, what, nodeSelectors, serviceSelectors) : undefined,
      l2:
        protocol === 'layer2' && scoped
          ? {
              nodeSelectors: nodeSelectors.length > 0 ? nodeSelectors : undefined,
              interfaces: interfaces.length > 0 ? interfaces.map(({ value }) => value) : undefined,
              serviceSelectors: serviceSelectors.length > 0 ? serviceSelectors : undefined,
              at: spec.at,
            }
          : undefined,
      at: fields.has('ipAddressPools') ? fields.at('ipAddressPools') : spec.at,
    });
  }

  private readBgpAdvertisement(fields: FieldReader, what: string, nodeSelectors: LabelSelector[], serviceSelectors: LabelSelector[]): BgpAdvertisement {
    // api/v1beta1/bgpadvertisement_types.go: aggregationLength has a minimum of 1.
    const aggregationLength = fields.integer('aggregationLength', 1, 32);
    const aggregationLengthV6 = fields.integer('aggregationLengthV6', 0, 128);
    if (serviceSelectors.length > 0 && ((aggregationLength ?? 32) !== 32 || (aggregationLengthV6 ?? 128) !== 128)) {
      this.problems.push({ severity: 'error', at: fields.at('serviceSelectors'), message: `${what} has serviceSelectors and an aggregation length; MetalLB refuses the two together, so announce /32 and /128 routes or drop the selectors.` });
    }
    const communities = fields.stringList('communities');
    reportDuplicates(communities, `community in ${what}`, 'error', this.problems);
    const peers = fields.stringList('peers');
    reportDuplicates(peers, `peer in ${what}`, 'error', this.problems);
    return {
      format: 'resources',
      aggregationLength,
      aggregationLengthV6,
      localPref: fields.integer('localPref', 0, MAX_ASN),
      communities: communities.map(({ value }) => value),
      peers: peers.length > 0 ? peers.map(({ value }) => value) : undefined,
      nodeSelectors: nodeSelectors.length > 0 ? nodeSelectors : undefined,
      serviceSelectors: serviceSelectors.length > 0 ? serviceSelectors : undefined,
      at: fields.map.at,
    };
  }

  /** config.go peerFromCR. */
  private addPeer(name: string, spec: YamlMap, what: string): void {
    const fields = new FieldReader(spec, what, this.problems, PEER_KEYS);
    const addressText = fields.string('peerAddress');
    const iface = fields.string('interface') || undefined;
    if ((addressText === undefined) === (iface === undefined)) {
      const fix = iface === undefined ? "add the router's address as spec.peerAddress, or for unnumbered BGP its interface as spec.interface" : 'keep one of them';
      this.problems.push({ severity: 'error', at: spec.at, message: `${what} has ${iface === undefined ? 'neither' : 'both'} peerAddress ${iface === undefined ? 'nor' : 'and'} interface; ${fix}.` });
      return;
    }
    const address = addressText === undefined ? '' : readAddress(addressText, 'peerAddress', fields.at('peerAddress'), this.problems);
    if (address === undefined) return;
    const secret = fields.mapping('passwordSecret');
    const passwordSecret = secret ? new FieldReader(secret, `the passwordSecret of ${what}`, this.problems, ['name', 'namespace']).string('name') : undefined;
    if (passwordSecret !== undefined && fields.string('password')) {
      this.problems.push({ severity: 'error', at: fields.at('passwordSecret'), message: `${what} has both password and passwordSecret; MetalLB refuses the two together, so keep one.` });
    }
    const connectTime = durationField(fields, 'connectTime', this.problems);
    // api/v1beta2/bgppeer_types.go: connectTime is 1 to 65535 whole seconds.
    if (connectTime !== undefined && (connectTime < 1 || connectTime > 65535)) {
      this.problems.push({ severity: 'error', at: fields.at('connectTime'), message: `connectTime of ${what} is ${connectTime} s; MetalLB takes 1 to 65535 s.` });
    }
    const disableMP = fields.boolean('disableMP');
    if (disableMP) {
      this.problems.push({ severity: 'warning', at: fields.at('disableMP'), message: 'disableMP is deprecated and has no effect, as MetalLB warns; remove it.' });
    }
    const peer: Peer = {
      address,
      asn: fields.integer('peerASN', 1, MAX_ASN),
      myAsn: fields.integer('myASN', 1, MAX_ASN),
      // api/v1beta2/bgppeer_types.go: peerPort is 1 to 16384.
      port: fields.integer('peerPort', 1, 16384),
      ...peerTimers(fields, 'holdTime', 'keepaliveTime', undefined, this.problems),
      routerId: addressField(fields, 'routerID', this.problems),
      sourceAddress: addressField(fields, 'sourceAddress', this.problems),
      password: fields.string('password'),
      bfdProfile: fields.string('bfdProfile'),
      ebgpMultiHop: fields.boolean('ebgpMultiHop'),
      nodeSelectors: labelSelectorsField(fields, 'nodeSelectors', CRD_SELECTORS, this.problems),
      at: spec.at,
      name,
      dynamicAsn: this.dynamicAsn(fields, what),
      vrf: fields.string('vrf') || undefined,
      interface: iface,
      localAsn: fields.integer('localASN', 1, MAX_ASN),
      passwordSecret,
      connectTime,
      enableGracefulRestart: fields.boolean('enableGracefulRestart'),
      disableMP,
      dualStackAddressFamily: fields.boolean('dualStackAddressFamily'),
    };
    if (peer.asn !== undefined && peer.dynamicAsn !== undefined) {
      this.problems.push({ severity: 'error', at: fields.at('dynamicASN'), message: `${what} has both peerASN and dynamicASN; MetalLB refuses the two together, so keep one.` });
    }
    this.config.peers.push(peer);
  }

  /** config.go peerFromCR: dynamicASN is internal or external. */
  private dynamicAsn(fields: FieldReader, what: string): Peer['dynamicAsn'] {
    const mode = fields.string('dynamicASN');
    if (mode === undefined || mode === 'internal' || mode === 'external') return mode;
    this.problems.push({ severity: 'error', at: fields.at('dynamicASN'), message: `dynamicASN "${mode}" of ${what} is not internal or external${suggestion(mode, ['internal', 'external'])}` });
    return undefined;
  }

  private addCommunities(spec: YamlMap, what: string): void {
    const fields = new FieldReader(spec, what, this.problems, ['communities']);
    for (const node of fields.list('communities')) {
      const map = expectMap(node, `a community of ${what}`, this.problems);
      if (!map) continue;
      const alias = new FieldReader(map, `a community of ${what}`, this.problems, ['name', 'value']);
      const name = alias.string('name');
      const value = alias.string('value');
      if (name === undefined || value === undefined) continue;
      // config.go communitiesFromCrs: a name defined twice, even with one value, is refused.
      const first = this.aliasNames.get(name);
      if (first === undefined) {
        this.aliasNames.set(name, map.at);
        this.config.communityAliases.set(name, { value, at: map.at });
      } else {
        this.problems.push({ severity: 'error', at: map.at, message: `community alias "${name}" is also defined at ${formatLocation(first)}; MetalLB refuses a name defined twice, so remove one.` });
      }
    }
  }
}

/** Kubernetes label selector semantics: every label and every expression must match. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const labelsMatch = Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);
  return (
    labelsMatch &&
    selector.matchExpressions.every(({ key, operator, values }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key]!);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key]!);
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
        default:
          return false;
      }
    })
  );
}

/** A MetalLB resource as configmaptocrs writes it. */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

/**
 * The config as CRDs, in configmaptocrs' order and names (MetalLB's configmaptocrs/main.go):
 * peers (peer1...), pools, BGP advertisements (bgpadvertisement1...), L2 advertisements
 * (l2advertisement1...), BFD profiles, one Community holding every alias. Pool and BFD
 * profile names become valid Kubernetes names, each renamed one with a warning; refused
 * when a name has nothing left, two become one, or a peer's address has an IPv6 zone,
 * which MetalLB cannot read.
 */
export function toCrds(config: PoolsConfig): { resources: Resource[]; warnings: string[] } | { reason: string } {
  const warnings: string[] = [];
  const poolNames = kubernetesNames(config.pools, 'pool', 'IPAddressPool', warnings);
  if ('reason' in poolNames) return poolNames;
  const profileNames = kubernetesNames(config.bfdProfiles, 'BFD profile', 'BFDProfile', warnings);
  if ('reason' in profileNames) return profileNames;
  const zoned = config.peers.find((peer) => peer.address.includes('%'));
  if (zoned) return { reason: `peer ${zoned.address} has an IPv6 zone, which a BGPPeer cannot hold (MetalLB reads peerAddress with net.ParseIP); for BGP over a link, use interface.` };
  const resource = (apiVersion: string, kind: string, name: string, spec: Record<string, unknown>): Resource => ({
    apiVersion,
    kind,
    metadata: { name, namespace: METALLB_NAMESPACE },
    spec: withoutUndefined(spec),
  });
  const peerNames = config.peers.map((peer, index) => peer.name ?? `peer${index + 1}`);
  const resources: Resource[] = config.peers.map((peer, index) =>
    resource('metallb.io/v1beta2', 'BGPPeer', peerNames[index]!, {
      myASN: peer.myAsn,
      peerASN: peer.asn,
      dynamicASN: peer.dynamicAsn,
      localASN: peer.localAsn,
      peerAddress: peer.address || undefined,
      interface: peer.interface,
      sourceAddress: peer.sourceAddress,
      peerPort: peer.port,
      holdTime: peer.holdTime === undefined ? undefined : formatDuration(peer.holdTime),
      keepaliveTime: peer.keepaliveTime === undefined ? undefined : formatDuration(peer.keepaliveTime),
      connectTime: peer.connectTime === undefined ? undefined : formatDuration(peer.connectTime),
      routerID: peer.routerId,
      nodeSelectors: peer.nodeSelectors.length > 0 ? peer.nodeSelectors.map((selector) => selectorSpec(selector)) : undefined,
      password: peer.password,
      passwordSecret: peer.passwordSecret === undefined ? undefined : { name: peer.passwordSecret, namespace: METALLB_NAMESPACE },
      bfdProfile: peer.bfdProfile === undefined ? undefined : (profileNames.byName.get(peer.bfdProfile) ?? peer.bfdProfile),
      ebgpMultiHop: peer.ebgpMultiHop,
      vrf: peer.vrf,
      enableGracefulRestart: peer.enableGracefulRestart,
      disableMP: peer.disableMP,
      dualStackAddressFamily: peer.dualStackAddressFamily,
    }),
  );
  for (const pool of config.pools) {
    resources.push(
      resource('metallb.io/v1beta1', 'IPAddressPool', poolNames.byItem.get(pool)!, {
        addresses: pool.ranges.map(portableRangeText),
        autoAssign: pool.autoAssign ? undefined : false,
        avoidBuggyIPs: pool.avoidBuggyIPs || undefined,
        serviceAllocation: pool.serviceAllocation ? allocationSpec(pool.serviceAllocation) : undefined,
      }),
    );
  }
  const bgp = config.pools.flatMap((pool) => pool.bgpAdvertisements.map((advertisement) => ({ pool, advertisement })));
  bgp.forEach(({ pool, advertisement }, index) =>
    resources.push(
      resource('metallb.io/v1beta1', 'BGPAdvertisement', `bgpadvertisement${index + 1}`, {
        aggregationLength: advertisement.aggregationLength,
        aggregationLengthV6: advertisement.aggregationLengthV6,
        localPref: advertisement.localPref,
        communities: advertisement.communities.length > 0 ? advertisement.communities : undefined,
        ipAddressPools: [poolNames.byItem.get(pool)!],
        peers: advertisement.peers,
        nodeSelectors: advertisement.nodeSelectors?.map((selector) => selectorSpec(selector)),
        serviceSelectors: advertisement.serviceSelectors?.map((selector) => selectorSpec(selector)),
      }),
    ),
  );
  const l2 = config.pools.filter((pool) => pool.protocols.includes('layer2')).flatMap((pool) => (pool.l2Advertisements ?? [{ at: pool.at }]).map((scope: L2Advertisement) => ({ pool, scope })));
  l2.forEach(({ pool, scope }, index) =>
    resources.push(
      resource('metallb.io/v1beta1', 'L2Advertisement', `l2advertisement${index + 1}`, {
        ipAddressPools: [poolNames.byItem.get(pool)!],
        nodeSelectors: scope.nodeSelectors?.map((selector) => selectorSpec(selector)),
        interfaces: scope.interfaces,
        serviceSelectors: scope.serviceSelectors?.map((selector) => selectorSpec(selector)),
      }),
    ),
  );
  for (const profile of config.bfdProfiles) {
    const { name, at: _at, ...spec } = profile;
    resources.push(resource('metallb.io/v1beta1', 'BFDProfile', profileNames.byItem.get(profile)!, spec));
  }
  if (config.communityAliases.size > 0) {
    // configmaptocrs communitiesFor sorts the aliases by name.
    const communities = [...config.communityAliases].map(([name, { value }]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    resources.push(resource('metallb.io/v1beta1', 'Community', 'communities', { communities }));
  }
  return { resources, warnings };
}

/** configmaptocrs convertNamesToK8S: each item's name as a Kubernetes name, by item and by its old name. */
function kubernetesNames<T extends { name: string }>(
  items: readonly T[],
  what: string,
  kind: string,
  warnings: string[],
): { byItem: Map<T, string>; byName: Map<string, string> } | { reason: string } {
  const byItem = new Map<T, string>();
  const byName = new Map<string, string>();
  const owners = new Map<string, T>();
  for (const item of items) {
    const name = kubernetesName(item.name);
    if (name === '') return { reason: `${what} "${item.name}" has no letter to start a Kubernetes name with, so it cannot name ${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}; rename it.` };
    const owner = owners.get(name);
    if (owner) return { reason: `${what}s "${owner.name}" and "${item.name}" would both be the ${kind} "${name}"; rename one of them.` };
    owners.set(name, item);
    byItem.set(item, name);
    byName.set(item.name, name);
    if (name !== item.name) warnings.push(`${what} "${item.name}" is named "${name}" in the CRDs, a valid Kubernetes name${what === 'pool' ? '; update annotations that name it' : ''}.`);
  }
  return { byItem, byName };
}

function allocationSpec(allocation: ServiceAllocation): Record<string, unknown> {
  return withoutUndefined({
    priority: allocation.priority,
    namespaces: allocation.namespaces.length > 0 ? allocation.namespaces : undefined,
    namespaceSelectors: allocation.namespaceSelectors.length > 0 ? allocation.namespaceSelectors.map((selector) => selectorSpec(selector)) : undefined,
    serviceSelectors: allocation.serviceSelectors.length > 0 ? allocation.serviceSelectors.map((selector) => selectorSpec(selector)) : undefined,
  });
}

export function withoutUndefined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

/** A label selector without its empty halves, as a person writes it (legacy files spell the keys match-labels, match-expressions). */
export function selectorSpec(selector: LabelSelector, labelsKey = 'matchLabels', expressionsKey = 'matchExpressions'): Record<string, unknown> {
  return withoutUndefined({
    [labelsKey]: Object.keys(selector.matchLabels).length > 0 ? selector.matchLabels : undefined,
    [expressionsKey]: selector.matchExpressions.length > 0 ? selector.matchExpressions : undefined,
  });
}
