import type { BgpAdvertisement, Location, Peer, Pool, PoolsConfig, Problem, Protocol } from './model.js';
import { emptyConfig } from './model.js';
import { MAX_ASN } from './legacy-config.js';
import { readAddress, readPoolRange, readProtocol } from './value-parsers.js';
import { suggestion } from './suggest.js';

/**
 * The compound flag grammar of DESIGN.md, shared with `vipkit run`: a main value, then
 * comma-separated items; items with `=` are options, the rest are more ranges.
 *   --pool prod=203.0.113.0/27,2001:db8::/120,protocol=bgp,auto-assign=false
 *   --peer 192.0.2.1,asn=65002,my-asn=64800,hold-time=9      (IPv6: [2001:db8::1])
 */

const POOL_OPTIONS = ['protocol', 'auto-assign', 'avoid-buggy-ips', 'aggregation-length', 'aggregation-length-v6', 'localpref', 'community', 'priority', 'namespace'];
const PEER_OPTIONS = ['asn', 'my-asn', 'port', 'hold-time', 'keepalive-time', 'router-id', 'source-address', 'password', 'node-selector', 'ebgp-multihop'];

export interface PeerDefaults {
  asn?: number;
  myAsn?: number;
}

interface Item {
  text: string;
  at: Location;
}

/** Splits a flag value at commas, remembering each item's column for problems. */
function items(value: string, source: string): Item[] {
  const result: Item[] = [];
  let column = 1;
  for (const text of value.split(',')) {
    result.push({ text, at: { source, column } });
    column += text.length + 1;
  }
  return result;
}

function option(item: Item): { key: string; value: string; valueAt: Location } {
  const equals = item.text.indexOf('=');
  return { key: item.text.slice(0, equals), value: item.text.slice(equals + 1), valueAt: { ...item.at, column: item.at.column + equals + 1 } };
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

function readPoolFlag(value: string, source: string, problems: Problem[]): Pool | undefined {
  const [head, ...rest] = items(value, source);
  const equals = head!.text.indexOf('=');
  if (equals <= 0) {
    problems.push({ severity: 'error', at: head!.at, message: `--pool "${value}" does not start with a name; write it like --pool prod=203.0.113.0/27.` });
    return undefined;
  }
  const name = head!.text.slice(0, equals);
  const firstRange = { text: head!.text.slice(equals + 1), at: { ...head!.at, column: head!.at.column + equals + 1 } };
  const pool: Pool = { name, protocols: ['layer2'], ranges: [], autoAssign: true, avoidBuggyIPs: false, bgpAdvertisements: [], at: head!.at };
  const advertisement: BgpAdvertisement = { communities: [], at: head!.at };
  let protocol: Protocol = 'layer2';
  const integer = (text: string, at: Location, max: number) => flagInteger(text, at, 0, max, problems);
  for (const item of [firstRange, ...rest]) {
    if (!item.text.includes('=')) {
      const range = readPoolRange(item.text, item.at, problems);
      if (range) pool.ranges.push(range);
      continue;
    }
    const { key, value: text, valueAt } = option(item);
    switch (key) {
      case 'protocol':
        protocol = readProtocol(text, valueAt, problems) ?? protocol;
        break;
      case 'auto-assign':
        pool.autoAssign = flagBoolean(text, valueAt, problems) ?? true;
        break;
      case 'avoid-buggy-ips':
        pool.avoidBuggyIPs = flagBoolean(text, valueAt, problems) ?? false;
        break;
      case 'aggregation-length':
        advertisement.aggregationLength = integer(text, valueAt, 32);
        break;
      case 'aggregation-length-v6':
        advertisement.aggregationLengthV6 = integer(text, valueAt, 128);
        break;
      case 'localpref':
        advertisement.localPref = integer(text, valueAt, MAX_ASN);
        break;
      case 'community':
        advertisement.communities.push(text);
        break;
      case 'priority':
        pool.serviceAllocation = { namespaces: [], namespaceSelectors: [], serviceSelectors: [], ...pool.serviceAllocation, priority: integer(text, valueAt, 2 ** 31 - 1) };
        break;
      case 'namespace':
        pool.serviceAllocation ??= { namespaces: [], namespaceSelectors: [], serviceSelectors: [] };
        pool.serviceAllocation.namespaces.push(text);
        break;
      default:
        problems.push({ severity: 'error', at: item.at, message: `unknown --pool option "${key}"${suggestion(key, POOL_OPTIONS)}` });
    }
  }
  if (pool.ranges.length === 0) problems.push({ severity: 'error', at: head!.at, message: `--pool ${name} has no addresses; write them after the name, like ${name}=203.0.113.0/27.` });
  pool.protocols = [protocol];
  const isBgpOption = advertisement.aggregationLength !== undefined || advertisement.aggregationLengthV6 !== undefined || advertisement.localPref !== undefined || advertisement.communities.length > 0;
  if (protocol === 'bgp') pool.bgpAdvertisements = [advertisement];
  else if (isBgpOption) problems.push({ severity: 'error', at: head!.at, message: `--pool ${name} is layer2, so its BGP options are never used; add protocol=bgp or remove them.` });
  return pool;
}

function readPeerFlag(value: string, source: string, defaults: PeerDefaults, problems: Problem[]): Peer | undefined {
  const [head, ...rest] = items(value, source);
  const addressText = head!.text.replace(/^\[(.*)\]$/, '$1');
  const address = readAddress(addressText, 'peer address', head!.at, problems);
  if (address === undefined) return undefined;
  const peer: Peer = { address, asn: defaults.asn, myAsn: defaults.myAsn, nodeSelectors: [], at: head!.at };
  for (const item of rest) {
    if (!item.text.includes('=')) {
      problems.push({ severity: 'error', at: item.at, message: `"${item.text}" in --peer is not an option; write options as key=value, like asn=65002.` });
      continue;
    }
    const { key, value: text, valueAt } = option(item);
    switch (key) {
      case 'asn':
        peer.asn = flagInteger(text, valueAt, 1, MAX_ASN, problems);
        break;
      case 'my-asn':
        peer.myAsn = flagInteger(text, valueAt, 1, MAX_ASN, problems);
        break;
      case 'port':
        peer.port = flagInteger(text, valueAt, 1, 65535, problems);
        break;
      case 'hold-time':
        peer.holdTime = flagInteger(text, valueAt, 0, 65535, problems);
        break;
      case 'keepalive-time':
        peer.keepaliveTime = flagInteger(text, valueAt, 0, 65535, problems);
        break;
      case 'router-id':
        peer.routerId = readAddress(text, 'router-id', valueAt, problems);
        break;
      case 'source-address':
        peer.sourceAddress = readAddress(text, 'source-address', valueAt, problems);
        break;
      case 'password':
        peer.password = text;
        break;
      case 'ebgp-multihop':
        peer.ebgpMultiHop = flagBoolean(text, valueAt, problems);
        break;
      case 'node-selector': {
        const [label, labelValue = ''] = text.split('=');
        peer.nodeSelectors = [{ matchLabels: { ...peer.nodeSelectors[0]?.matchLabels, [label!]: labelValue }, matchExpressions: [] }];
        break;
      }
      default:
        problems.push({ severity: 'error', at: item.at, message: `unknown --peer option "${key}"${suggestion(key, PEER_OPTIONS)}` });
    }
  }
  return peer;
}

function flagInteger(text: string, at: Location, min: number, max: number, problems: Problem[]): number | undefined {
  const value = Number(text);
  if (/^\d+$/.test(text) && value >= min && value <= max) return value;
  problems.push({ severity: 'error', at, message: `"${text}" is not a whole number from ${min} to ${max}.` });
  return undefined;
}

function flagBoolean(text: string, at: Location, problems: Problem[]): boolean | undefined {
  if (text === 'true' || text === 'false') return text === 'true';
  problems.push({ severity: 'error', at, message: `"${text}" is not true or false.` });
  return undefined;
}

/** Why a config cannot be written as flags, or the flags themselves. */
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
    const parts = [
      `${pool.name}=${pool.ranges.map((range) => range.text).join(',')}`,
      `protocol=${pool.protocols[0]}`,
      pool.autoAssign ? undefined : 'auto-assign=false',
      pool.avoidBuggyIPs ? 'avoid-buggy-ips=true' : undefined,
      optionText('aggregation-length', advertisement?.aggregationLength),
      optionText('aggregation-length-v6', advertisement?.aggregationLengthV6),
      optionText('localpref', advertisement?.localPref),
      ...(advertisement?.communities ?? []).map((community) => `community=${resolve(community)}`),
      optionText('priority', allocation?.priority),
      ...(allocation?.namespaces ?? []).map((namespace) => `namespace=${namespace}`),
    ];
    args.push('--pool', parts.filter((part) => part !== undefined).join(','));
  }
  for (const peer of config.peers) {
    if (peer.nodeSelectors.length > 1 || peer.nodeSelectors.some((selector) => selector.matchExpressions.length > 0)) {
      return { reason: `peer ${peer.address} has node selectors with expressions or alternatives, which --peer cannot express.` };
    }
    const parts = [
      peer.address.includes(':') ? `[${peer.address}]` : peer.address,
      optionText('asn', peer.asn),
      optionText('my-asn', peer.myAsn),
      optionText('port', peer.port),
      optionText('hold-time', peer.holdTime),
      optionText('keepalive-time', peer.keepaliveTime),
      optionText('router-id', peer.routerId),
      optionText('source-address', peer.sourceAddress),
      optionText('password', peer.password),
      optionText('ebgp-multihop', peer.ebgpMultiHop),
      ...Object.entries(peer.nodeSelectors[0]?.matchLabels ?? {}).map(([key, value]) => `node-selector=${key}=${value}`),
    ];
    args.push('--peer', parts.filter((part) => part !== undefined).join(','));
  }
  return { args };
}

function optionText(key: string, value: string | number | boolean | undefined): string | undefined {
  return value === undefined ? undefined : `${key}=${value}`;
}
