/**
 * What `announce` (and `run`) put into BGP: addresses, ranges and prefixes turned into
 * the prefixes sent. As MetalLB does, every address is a host route (/32, /128) unless an
 * aggregation length asks for the covering prefixes instead. Blocks are counted by
 * arithmetic and their prefixes produced one at a time, so a limit can be checked before
 * anything is enumerated and no list of a million addresses is ever built here.
 */
import type { RoutePolicy, Routes } from '../bgp/announcer.js';
import { formatAddress, parseAddressRange, type Family } from '../pools/address-range.js';
import { UserError } from '../user-error.js';

/** Consecutive prefixes of one length: `count` blocks from `first` (the first address's block number). */
export interface PrefixBlock {
  family: Family;
  length: number;
  /** Block number: the network address shifted right by the host bits. */
  first: bigint;
  count: bigint;
}

export class RouteTargetError extends UserError {
  override readonly name = 'RouteTargetError';
}

export interface AggregationLengths {
  /** Prefix length for IPv4 targets (default 32: host routes). */
  ipv4?: number;
  /** Prefix length for IPv6 targets (default 128). */
  ipv6?: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/**
 * The blocks of prefixes that cover `specs` at the aggregation lengths; refuses, before
 * enumerating anything, targets that come to more than `maxRoutes` prefixes
 * (RouteTargetError), and targets written wrongly (AddressRangeError).
 */
export function routeBlocks(specs: readonly string[], aggregation: AggregationLengths, maxRoutes: number): PrefixBlock[] {
  const blocks = specs.map((spec) => blockFor(spec, aggregation));
  const total = blocks.reduce((sum, block) => sum + block.count, 0n);
  if (total > BigInt(maxRoutes)) {
    const biggest = blocks.reduce((a, b) => (b.count > a.count ? b : a));
    const hint = biggest.length === BITS[biggest.family] ? ` announce covering prefixes instead with --aggregation-length${biggest.family === 6 ? '-v6' : ''} <n>, or` : '';
    throw new RouteTargetError(`the targets come to ${total} routes, more than --max-routes ${maxRoutes}:${hint} raise --max-routes.`);
  }
  return blocks;
}

/** Throws AddressRangeError for a target written wrongly. */
function blockFor(spec: string, aggregation: AggregationLengths): PrefixBlock {
  const range = parseAddressRange(spec);
  const bits = BITS[range.family];
  const length = (range.family === 4 ? aggregation.ipv4 : aggregation.ipv6) ?? bits;
  const hostBits = BigInt(bits - length);
  const first = range.first >> hostBits;
  return { family: range.family, length, first, count: (range.last >> hostBits) - first + 1n };
}

export function routeCount(blocks: readonly PrefixBlock[]): number {
  return Number(blocks.reduce((sum, block) => sum + block.count, 0n));
}

/** Every prefix of the blocks, as text ("203.0.113.7/32"), in order; duplicates where blocks overlap. */
export function* prefixesOf(blocks: readonly PrefixBlock[]): Generator<string> {
  for (const block of blocks) {
    if (block.family === 4) yield* ipv4Prefixes(block);
    else yield* ipv6Prefixes(block);
  }
}

/** IPv4 with plain numbers: no BigInt per prefix. */
function* ipv4Prefixes(block: PrefixBlock): Generator<string> {
  const step = 2 ** (32 - block.length);
  const suffix = `/${block.length}`;
  let address = Number(block.first) * step;
  for (let index = 0; index < Number(block.count); index++, address += step) {
    yield `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}${suffix}`;
  }
}

function* ipv6Prefixes(block: PrefixBlock): Generator<string> {
  const hostBits = BigInt(128 - block.length);
  const suffix = `/${block.length}`;
  for (let number = block.first; number < block.first + block.count; number++) yield formatAddress(6, number << hostBits) + suffix;
}

/** The families the blocks hold. */
export function familiesOf(blocks: readonly PrefixBlock[]): Set<Family> {
  return new Set(blocks.map((block) => block.family));
}

/** Every prefix of the blocks with one policy, produced afresh each time it is read. */
export function routesOf(blocks: readonly PrefixBlock[], policy: RoutePolicy): Routes {
  return {
    forEach(visit) {
      for (const prefix of prefixesOf(blocks)) visit(policy, prefix);
    },
  };
}
