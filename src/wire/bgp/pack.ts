import { DecodeError } from '../decode-error.js';
import { type AnyPathAttribute, encodeAttribute } from './attributes.js';
import { MessageTooLongError } from './header.js';
import { prefixAfi, prefixEncodingLength } from './nlri.js';
import { Afi, type Family, HEADER_LENGTH, maxMessageLength, Safi, type SessionCodecContext } from './registry.js';
import { type RouteAttributes, toPathAttributes } from './route-attributes.js';
import { encodeUpdate, type UpdateMessage } from './update.js';

/*
 * Filling UPDATEs to the limit, for the Adj-RIB-Out: every prefix sharing one set of
 * attributes goes into as few messages as fit (4096 bytes, or 65535 with extended
 * messages). IPv4 prefixes travel in the NLRI field, IPv6 ones in MP_REACH_NLRI, which
 * is written first (RFC 7606 5.1); withdrawals likewise in Withdrawn Routes and
 * MP_UNREACH_NLRI. Prefixes keep their order.
 */

/** Bytes of an UPDATE's fixed part: header, Withdrawn Routes Length, Total Path Attribute Length. */
const UPDATE_OVERHEAD = HEADER_LENGTH + 4;
/** AFI, SAFI (MP_UNREACH), plus next hop length and reserved octets (MP_REACH). */
const MP_UNREACH_FIXED = 3;
const MP_REACH_FIXED = 5;

function attributeHeaderLength(valueLength: number): number {
  return valueLength > 255 ? 4 : 3;
}

function attributesLength(attributes: readonly AnyPathAttribute[], context: SessionCodecContext): number {
  return attributes.reduce((sum, attribute) => sum + encodeAttribute(attribute, context).length, 0);
}

/** Splits prefixes greedily so that `messageLength(nlriBytes)` stays within `limit`. */
function chunk(prefixes: readonly string[], messageLength: (nlriBytes: number) => number, limit: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const prefix of prefixes) {
    const size = prefixEncodingLength(prefix);
    if (messageLength(size) > limit) throw new MessageTooLongError(messageLength(size), limit, `an UPDATE for ${prefix} alone`);
    if (current.length > 0 && messageLength(bytes + size) > limit) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(prefix);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function byFamily(prefixes: readonly string[]): { ipv4: string[]; ipv6: string[] } {
  return { ipv4: prefixes.filter((p) => prefixAfi(p) === Afi.Ipv4), ipv6: prefixes.filter((p) => prefixAfi(p) === Afi.Ipv6) };
}

function ipv6NextHopLength(route: RouteAttributes): number {
  if (route.ipv6NextHop === undefined) throw new DecodeError('bgp-pack', 'IPv6 prefixes need ipv6NextHop');
  return route.ipv6LinkLocalNextHop === undefined ? 16 : 32;
}

/**
 * How many bytes of NLRI one UPDATE can carry with these attributes: in the NLRI field
 * for IPv4 unicast, inside MP_REACH_NLRI (counting its extended-length header) for IPv6.
 */
export function updateCapacity(route: RouteAttributes, family: Family, context: SessionCodecContext): number {
  const limit = maxMessageLength(context);
  if (family.afi === Afi.Ipv4) return limit - UPDATE_OVERHEAD - attributesLength(toPathAttributes(route, context), context);
  const base = UPDATE_OVERHEAD + attributesLength(toPathAttributes({ ...route, nextHop: undefined }, context), context);
  return limit - base - 4 - MP_REACH_FIXED - ipv6NextHopLength(route);
}

/** UPDATE messages announcing `prefixes` (IPv4 and/or IPv6) with `route`'s attributes. */
export function packUpdates(route: RouteAttributes, prefixes: readonly string[], context: SessionCodecContext): Buffer[] {
  const limit = maxMessageLength(context);
  const { ipv4, ipv6 } = byFamily(prefixes);
  const messages: UpdateMessage[] = [];
  if (ipv4.length > 0) {
    if (route.nextHop === undefined) throw new DecodeError('bgp-pack', 'IPv4 prefixes need nextHop');
    const attributes = toPathAttributes(route, context);
    const base = UPDATE_OVERHEAD + attributesLength(attributes, context);
    for (const nlri of chunk(ipv4, (bytes) => base + bytes, limit)) messages.push({ type: 'update', withdrawn: [], attributes, nlri });
  }
  if (ipv6.length > 0) {
    const fixed = MP_REACH_FIXED + ipv6NextHopLength(route);
    const attributes = toPathAttributes({ ...route, nextHop: undefined }, context);
    const base = UPDATE_OVERHEAD + attributesLength(attributes, context);
    const length = (bytes: number): number => base + attributeHeaderLength(fixed + bytes) + fixed + bytes;
    for (const nlri of chunk(ipv6, length, limit)) {
      const mpReach: AnyPathAttribute = {
        type: 'mp-reach',
        afi: Afi.Ipv6,
        safi: Safi.Unicast,
        nextHop: route.ipv6NextHop!,
        ...(route.ipv6LinkLocalNextHop !== undefined ? { linkLocalNextHop: route.ipv6LinkLocalNextHop } : {}),
        prefixes: nlri,
      };
      messages.push({ type: 'update', withdrawn: [], attributes: [mpReach, ...attributes], nlri: [] });
    }
  }
  return messages.map((message) => encodeUpdate(message, context));
}

/** UPDATE messages withdrawing `prefixes` (IPv4 and/or IPv6). */
export function packWithdrawals(prefixes: readonly string[], context: SessionCodecContext): Buffer[] {
  const limit = maxMessageLength(context);
  const { ipv4, ipv6 } = byFamily(prefixes);
  const messages: UpdateMessage[] = [
    ...chunk(ipv4, (bytes) => UPDATE_OVERHEAD + bytes, limit).map((withdrawn): UpdateMessage => ({ type: 'update', withdrawn, attributes: [], nlri: [] })),
    ...chunk(ipv6, (bytes) => UPDATE_OVERHEAD + attributeHeaderLength(MP_UNREACH_FIXED + bytes) + MP_UNREACH_FIXED + bytes, limit).map(
      (withdrawn): UpdateMessage => ({ type: 'update', withdrawn: [], attributes: [{ type: 'mp-unreach', afi: Afi.Ipv6, safi: Safi.Unicast, prefixes: withdrawn }], nlri: [] }),
    ),
  ];
  return messages.map((message) => encodeUpdate(message, context));
}
