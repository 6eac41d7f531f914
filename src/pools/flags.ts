import { isIP } from 'node:net';
import type { Family } from './address-range.js';
import type { BgpAdvertisement, Location, Member, Peer, Pool, PoolsConfig, Problem, ServiceAllocation } from './model.js';
import { bgpAdvertisementOnlySetting, bgpPeerOnlySetting, emptyConfig, peerName, portableRangeText } from './model.js';
import type { ServiceClaim } from './services.js';
import { suggestion } from './suggest.js';
import {
  checkKeepaliveTime,
  parseAsn,
  parseBoolean,
  parseHoldTime,
  parseInteger,
  parseKeepaliveTime,
  parseLabelKey,
  parseLabelValue,
  parseNamespace,
  parseNodeName,
  parsePeerAddress,
  parsePort,
  parseProtocol,
  parseRouterId,
  parseServiceName,
  parseSourceAddress,
  parseUnicastAddress,
  readPoolRange,
  readValue,
} from './value-parsers.js';

/**
 * The compound flag grammar of DESIGN.md, parsed here only (pools, announce, run): a main
 * value, then comma-separated items; items with `=` are options, the rest belong to the
 * main value. Every problem is reported at the column of the value it is about.
 *   --pool prod=203.0.113.0/27,2001:db8::/120,protocol=bgp,auto-assign=false
 *   --peer 192.0.2.1:1179,asn=65002,my-asn=1.10,hold-time=9      (IPv6: [2001:db8::1]:1179)
 *   --service shop/web=203.0.113.10,2001:db8::10,pool=prod
 *   --member node1=192.0.2.11,label=zone=a
 *   --node-labels zone=a,rack=r1
 */

export interface PeerDefaults {
  asn?: number;
  myAsn?: number;
}

interface Item {
  text: string;
  at: Location;
}

/** Splits a flag value at commas, remembering each item's column for problems. */
function items(value: string, source: string): [Item, ...Item[]] {
  const [first, ...rest] = value.split(',');
  let column = 1;
  const located = (text: string): Item => {
    const item = { text, at: { source, column } };
    column += text.length + 1;
    return item;
  };
  return [located(first!), ...rest.map(located)];
}

/** Part of an item, located where it starts. */
function part(item: Item, start: number, end?: number): Item {
  return { text: item.text.slice(start, end), at: { ...item.at, column: item.at.column + start } };
}

/** `key=value`, split at the first `=` (a value may hold more: node-selector=zone=a); undefined without one. */
function keyValue(item: Item): { key: Item; value: Item } | undefined {
  const equals = item.text.indexOf('=');
  return equals < 0 ? undefined : { key: part(item, 0, equals), value: part(item, equals + 1) };
}

function error(at: Location, message: string): Problem {
  return { severity: 'error', at, message };
}

/** What the items after a flag's main value may be. */
type Grammar = {
  flag: string;
  options: Record<string, (value: Item) => void>;
  /** Options that may be given more than once; the others are refused the second time. */
  repeatable?: readonly string[];
} & (
  // An item without `=` is more of the main value (a range, an address)...
  | { plain: (item: Item) => void }
  // ...or refused, showing an option as the way to write one.
  | { example: string }
);

/** The items after a flag's main value: each option to its reader; unknown ones get the closest known name suggested. */
function readItems(grammar: Grammar, list: Item[], problems: Problem[]): void {
  const given = new Set<string>();
  for (const item of list) {
    const option = keyValue(item);
    if (option === undefined) {
      if ('plain' in grammar) grammar.plain(item);
      else problems.push(error(item.at, `"${item.text}" in ${grammar.flag} is not an option; write options as key=value, like ${grammar.example}.`));
      continue;
    }
    const key = option.key.text;
    if (!Object.hasOwn(grammar.options, key)) {
      problems.push(error(item.at, `unknown ${grammar.flag} option "${key}"${suggestion(key, Object.keys(grammar.options))}`));
    } else if (given.has(key) && !grammar.repeatable?.includes(key)) {
      problems.push(error(item.at, `${key} is given twice in this ${grammar.flag}; give it once.`));
    } else {
      given.add(key);
      grammar.options[key]!(option.value);
    }
  }
}

/** A core parser applied to an item: the value, or undefined with the refusal at the item's column. */
function parsed<T>(parse: (text: string) => T, item: Item, problems: Problem[]): T | undefined {
  return readValue(parse, item.text, item.at, problems);
}

/** A `key=value` label, in Kubernetes label syntax, added to `labels`; a key given twice is refused. */
function readLabelInto(labels: Record<string, string>, item: Item, problems: Problem[]): void {
  const label = keyValue(item);
  if (label === undefined) {
    problems.push(error(item.at, `"${item.text}" is not a label; write it as key=value, like zone=a.`));
    return;
  }
  const key = parsed(parseLabelKey, label.key, problems);
  const value = parsed(parseLabelValue, label.value, problems);
  if (key === undefined || value === undefined) return;
  if (Object.hasOwn(labels, key)) problems.push(error(item.at, `label ${key} is given twice; give it once.`));
  else labels[key] = value;
}

export function readFlags(poolFlags: string[], peerFlags: string[], defaults: PeerDefaults, problems: Problem[]): PoolsConfig {
  const config = emptyConfig();
  poolFlags.forEach((value, index) => {
    const pool = readPoolFlag(value, `--pool #${index + 1}`, problems);
    if (pool) config.pools.push(pool);
  });
  peerFlags.forEach((value, index) => {
    const peer = readPeerFlag(value, `--peer #${index + 1}`, defaults, problems);
    if (peer) config.peers.push(peer);
  });
  return config;
}

/** `--pool name=range[,range...][,option=value...]`; `source` names the flag in problems (`--pool #1`). */
export function readPoolFlag(value: string, source: string, problems: Problem[]): Pool | undefined {
  const [head, ...rest] = items(value, source);
  const named = keyValue(head);
  if (named === undefined || named.key.text === '') {
    problems.push(error(head.at, `--pool "${value}" does not start with a name; write it like --pool prod=203.0.113.0/27.`));
    return undefined;
  }
  const name = named.key.text;
  const pool: Pool = { name, protocols: ['layer2'], ranges: [], autoAssign: true, avoidBuggyIPs: false, bgpAdvertisements: [], at: head.at };
  const advertisement: BgpAdvertisement = { format: 'flags', communities: [], at: head.at };
  const allocation = (): ServiceAllocation => (pool.serviceAllocation ??= { namespaces: [], namespaceSelectors: [], serviceSelectors: [] });
  const integer = (item: Item, max: number) => parsed((text) => parseInteger(text, 0, max), item, problems);
  readItems(
    {
      flag: '--pool',
      repeatable: ['community', 'namespace'],
      plain: (item) => {
        const range = readPoolRange(item.text, item.at, problems);
        if (range) pool.ranges.push(range);
      },
      options: {
        protocol: (item) => (pool.protocols = [parsed(parseProtocol, item, problems) ?? pool.protocols[0]!]),
        'auto-assign': (item) => (pool.autoAssign = parsed(parseBoolean, item, problems) ?? true),
        'avoid-buggy-ips': (item) => (pool.avoidBuggyIPs = parsed(parseBoolean, item, problems) ?? false),
        'aggregation-length': (item) => (advertisement.aggregationLength = integer(item, 32)),
        'aggregation-length-v6': (item) => (advertisement.aggregationLengthV6 = integer(item, 128)),
        // LOCAL_PREF is a four-octet value (RFC 4271 5.1.5).
        localpref: (item) => (advertisement.localPref = integer(item, 0xffff_ffff)),
        // A value or the name of an alias another source defines: checked against the whole model (check.ts).
        community: (item) => advertisement.communities.push(item.text),
        // MetalLB's serviceAllocation.priority is an int32.
        priority: (item) => (allocation().priority = integer(item, 2 ** 31 - 1)),
        namespace: (item) => {
          const namespace = parsed(parseNamespace, item, problems);
          if (namespace !== undefined) allocation().namespaces.push(namespace);
        },
      },
    },
    // `p=` alone is told as a pool without addresses, not as an empty range.
    named.value.text === '' ? rest : [named.value, ...rest],
    problems,
  );
  if (pool.ranges.length === 0) problems.push(error(head.at, `--pool ${name} has no addresses; write them after the name, like ${name}=203.0.113.0/27.`));
  const isBgpOption = advertisement.aggregationLength !== undefined || advertisement.aggregationLengthV6 !== undefined || advertisement.localPref !== undefined || advertisement.communities.length > 0;
  if (pool.protocols[0] === 'bgp') pool.bgpAdvertisements = [advertisement];
  else if (isBgpOption) problems.push(error(head.at, `--pool ${name} is layer2, so its BGP options are never used; add protocol=bgp or remove them.`));
  return pool;
}

/**
 * `--peer address[,option=value...]`; the address may carry the port: `192.0.2.1:1179`,
 * `[2001:db8::1]:1179`. `defaults` are the global `--peer-asn`/`--my-asn`. Undefined when
 * the address is wrong; a wrong option is a problem and leaves its field unset.
 */
export function readPeerFlag(value: string, source: string, defaults: PeerDefaults, problems: Problem[]): Peer | undefined {
  const [head, ...rest] = items(value, source);
  const target = readPeerTarget(head, problems);
  if (target === undefined) return undefined;
  const peer: Peer = { address: target.address, asn: defaults.asn, myAsn: defaults.myAsn, nodeSelectors: [], at: head.at };
  if (target.port !== undefined) peer.port = target.port;
  const selectorLabels: Record<string, string> = {};
  let keepalive: Item | undefined;
  readItems(
    {
      flag: '--peer',
      example: 'asn=65002',
      repeatable: ['node-selector'],
      options: {
        // A wrong AS number keeps the default, so the peer is not reported again as having none.
        asn: (item) => (peer.asn = parsed(parseAsn, item, problems) ?? peer.asn),
        'my-asn': (item) => (peer.myAsn = parsed(parseAsn, item, problems) ?? peer.myAsn),
        port: (item) => {
          if (target.port === undefined) peer.port = parsed(parsePort, item, problems);
          else problems.push(error(item.at, `the port is given twice in this --peer (${head.text} and port=); give it once.`));
        },
        'hold-time': (item) => (peer.holdTime = parsed(parseHoldTime, item, problems)),
        'keepalive-time': (item) => {
          peer.keepaliveTime = parsed(parseKeepaliveTime, item, problems);
          keepalive = item;
        },
        'router-id': (item) => (peer.routerId = parsed(parseRouterId, item, problems)),
        'source-address': (item) => (peer.sourceAddress = parsed((text) => parseSourceAddress(text, peer.address), item, problems)),
        password: (item) => (peer.password = item.text),
        'ebgp-multihop': (item) => (peer.ebgpMultiHop = parsed(parseBoolean, item, problems)),
        'node-selector': (item) => readLabelInto(selectorLabels, item, problems),
        bfd: (item) => (peer.bfd = parsed(parseBoolean, item, problems)),
      },
    },
    rest,
    problems,
  );
  const { keepaliveTime, holdTime } = peer;
  if (keepalive !== undefined && keepaliveTime !== undefined && holdTime !== undefined) parsed(() => checkKeepaliveTime(keepaliveTime, holdTime), keepalive, problems);
  if (Object.keys(selectorLabels).length > 0) peer.nodeSelectors = [{ matchLabels: selectorLabels, matchExpressions: [] }];
  return peer;
}

/**
 * A --peer's head: `192.0.2.1`, `192.0.2.1:1179`, `2001:db8::1`, `[2001:db8::1]`,
 * `[2001:db8::1]:1179`, `fe80::1%eth0`. An IPv6 address takes a port only in brackets
 * (as in URLs, RFC 3986 3.2.2): `2001:db8::1:1179` is itself an address.
 */
function readPeerTarget(head: Item, problems: Problem[]): { address: string; port?: number } | undefined {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(head.text);
  const colon = head.text.indexOf(':');
  const ipv4WithPort = !bracketed && isIP(head.text) === 0 && colon >= 0 && colon === head.text.lastIndexOf(':');
  const [address, port] = bracketed
    ? [part(head, 1, 1 + bracketed[1]!.length), bracketed[2] === undefined ? undefined : part(head, bracketed[1]!.length + 3)]
    : ipv4WithPort
      ? [part(head, 0, colon), part(head, colon + 1)]
      : [head, undefined];
  const peerAddress = parsed(parsePeerAddress, address, problems);
  if (peerAddress === undefined) return undefined;
  const portNumber = port && parsed(parsePort, port, problems);
  return portNumber === undefined ? { address: peerAddress } : { address: peerAddress, port: portNumber };
}

/**
 * `--service namespace/name[=ip[,ip]][,pool=name][,endpoint=node...]` for `vipkit run`: a
 * LoadBalancer service to allocate for, with the addresses it asks for (one per family, as
 * Kubernetes' loadBalancerIPs) and the pool to take them from; `endpoint=` names the nodes
 * that host it, for externalTrafficPolicy Local: only they announce it.
 */
export function readServiceFlag(value: string, source: string, problems: Problem[]): ServiceClaim | undefined {
  const [head, ...rest] = items(value, source);
  const requested = keyValue(head);
  const service = parsed(parseServiceName, requested?.key ?? head, problems);
  const requestedIps: string[] = [];
  const request = (item: Item) => {
    const ip = parsed((text) => parseUnicastAddress(text, 'a service address'), item, problems);
    if (ip === undefined) return;
    if (requestedIps.some((earlier) => isIP(earlier) === isIP(ip))) problems.push(error(item.at, `${ip} is a second IPv${isIP(ip)} address; a service asks for at most one address per family.`));
    else requestedIps.push(ip);
  };
  if (requested) request(requested.value);
  let pool: Item | undefined;
  const endpointNodes: string[] = [];
  readItems(
    {
      flag: '--service',
      plain: request,
      repeatable: ['endpoint'],
      options: {
        endpoint: (item) => {
          const node = parsed(parseNodeName, item, problems);
          if (node !== undefined) endpointNodes.push(node);
        },
        pool: (item) => {
          if (item.text === '') problems.push(error(item.at, 'pool= names no pool; write the name of a --pool, like pool=prod.'));
          else pool = item;
        },
      },
    },
    rest,
    problems,
  );
  if (service === undefined) return undefined;
  const families = [...new Set(requestedIps.map((ip): Family => (isIP(ip) === 6 ? 6 : 4)))];
  return {
    key: `${service.namespace}/${service.name}`,
    namespace: service.namespace,
    labels: {},
    // Without requested addresses, IPv4: a cluster's default family, as for a Service without ipFamilies.
    families: families.length > 0 ? families : [4],
    preferDualStack: false,
    requestedIps,
    currentIps: [],
    backendKey: '',
    ports: [],
    at: head.at,
    ...(pool === undefined ? {} : { pool: pool.text, poolAt: pool.at }),
    ...(endpointNodes.length > 0 ? { localTraffic: true, endpointNodes } : {}),
  };
}

/** `--member name=address[,label=key=value...]` for `vipkit run`: a node of the cluster. */
export function readMemberFlag(value: string, source: string, problems: Problem[]): Member | undefined {
  const [head, ...rest] = items(value, source);
  const member = keyValue(head);
  if (member === undefined) {
    problems.push(error(head.at, `--member "${value}" does not start with name=address; write it like --member node1=192.0.2.11.`));
    return undefined;
  }
  const name = parsed(parseNodeName, member.key, problems);
  const address = parsed((text) => parseUnicastAddress(text, 'a member'), member.value, problems);
  const labels: Record<string, string> = {};
  readItems({ flag: '--member', example: 'label=zone=a', repeatable: ['label'], options: { label: (item) => readLabelInto(labels, item, problems) } }, rest, problems);
  return name === undefined || address === undefined ? undefined : { name, address, labels, at: head.at };
}

/** `--node-labels key=value[,key=value...]`: this node's labels, which node selectors match. */
export function readLabelsFlag(value: string, source: string, problems: Problem[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items(value, source)) readLabelInto(labels, item, problems);
  return labels;
}

/** Why a config cannot be written as flags, or the flags themselves: exactly what readPoolFlag and readPeerFlag read back. */
export function toFlags(config: PoolsConfig): { args: string[] } | { reason: string } {
  const args: string[] = [];
  const resolve = (community: string) => config.communityAliases.get(community)?.value ?? community;
  for (const pool of config.pools) {
    if (pool.protocols.length !== 1) return { reason: `pool ${pool.name} is advertised ${pool.protocols.length === 0 ? 'by no protocol' : 'both by layer2 and bgp'}, which --pool cannot express.` };
    if (pool.bgpAdvertisements.length > 1) return { reason: `pool ${pool.name} has ${pool.bgpAdvertisements.length} BGP advertisements; --pool holds one.` };
    const allocation = pool.serviceAllocation;
    if (allocation && (allocation.namespaceSelectors.length > 0 || allocation.serviceSelectors.length > 0)) {
      return { reason: `pool ${pool.name} selects services by labels, which --pool cannot express.` };
    }
    const advertisement = pool.bgpAdvertisements[0];
    const scoped = advertisement && bgpAdvertisementOnlySetting(advertisement);
    if (scoped) return { reason: `the BGP advertisement of pool ${pool.name} has ${scoped}, which --pool cannot express.` };
    if (pool.l2Advertisements) return { reason: `pool ${pool.name} is announced at layer 2 only by some nodes, interfaces or services, which --pool cannot express.` };
    const [firstRange, ...moreRanges] = pool.ranges.map(portableRangeText);
    const flag = flagValue('--pool', `pool ${pool.name}`, (value, problems) => readPoolFlag(value, '--pool', problems), [
      `${pool.name}=${firstRange ?? ''}`,
      ...moreRanges,
      `protocol=${pool.protocols[0]}`,
      pool.autoAssign ? undefined : 'auto-assign=false',
      pool.avoidBuggyIPs ? 'avoid-buggy-ips=true' : undefined,
      optionText('aggregation-length', advertisement?.aggregationLength),
      optionText('aggregation-length-v6', advertisement?.aggregationLengthV6),
      optionText('localpref', advertisement?.localPref),
      ...(advertisement?.communities ?? []).map((community) => `community=${resolve(community)}`),
      optionText('priority', allocation?.priority),
      ...(allocation?.namespaces ?? []).map((namespace) => `namespace=${namespace}`),
    ]);
    if ('reason' in flag) return flag;
    args.push('--pool', flag.value);
  }
  for (const peer of config.peers) {
    if (peer.nodeSelectors.length > 1 || peer.nodeSelectors.some((selector) => selector.matchExpressions.length > 0)) {
      return { reason: `peer ${peer.address} has node selectors with expressions or alternatives, which --peer cannot express.` };
    }
    if (peer.bfdProfile !== undefined) return { reason: `peer ${peer.address} uses the BFD profile "${peer.bfdProfile}", which --peer cannot express.` };
    const setting = bgpPeerOnlySetting(peer);
    if (setting) return { reason: `peer ${peerName(peer)} has ${setting}, which --peer cannot express.` };
    const flag = flagValue('--peer', `peer ${peer.address}`, (value, problems) => readPeerFlag(value, '--peer', {}, problems), [
      isIP(peer.address) === 6 ? `[${peer.address}]` : peer.address,
      optionText('asn', peer.asn),
      optionText('my-asn', peer.myAsn),
      optionText('port', peer.port),
      optionText('hold-time', peer.holdTime),
      optionText('keepalive-time', peer.keepaliveTime),
      optionText('router-id', peer.routerId),
      optionText('source-address', peer.sourceAddress),
      optionText('password', peer.password),
      optionText('ebgp-multihop', peer.ebgpMultiHop),
      optionText('bfd', peer.bfd),
      ...Object.entries(peer.nodeSelectors[0]?.matchLabels ?? {}).map(([key, value]) => `node-selector=${key}=${value}`),
    ]);
    if ('reason' in flag) return flag;
    args.push('--peer', flag.value);
  }
  return { args };
}

/**
 * One flag's value from its items, or why there is none: a comma inside an item would split
 * it, and what the reader refuses (a router id that is IPv6, a hold time of 1 s, both
 * possible in a MetalLB file) must not be written as if `run` would take it.
 */
function flagValue(
  flag: string,
  what: string,
  read: (value: string, problems: Problem[]) => unknown,
  parts: (string | undefined)[],
): { value: string } | { reason: string } {
  const written = parts.filter((text) => text !== undefined);
  // The item is not quoted: it may be a password.
  if (written.some((text) => text.includes(','))) return { reason: `${what} has a value with a comma in it, which ${flag} would read as two items.` };
  const value = written.join(',');
  const problems: Problem[] = [];
  read(value, problems);
  return problems.length === 0 ? { value } : { reason: `${what} cannot be written as ${flag}: ${problems[0]!.message}` };
}

function optionText(key: string, value: string | number | boolean | undefined): string | undefined {
  return value === undefined ? undefined : `${key}=${value}`;
}
