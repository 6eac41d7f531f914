/**
 * Numbers from the IANA BGP registries that more than one BGP codec file needs. Names
 * for the NOTIFICATION codes live in notification.ts, capability codes in
 * capabilities.ts, attribute type codes in attributes.ts.
 */

/** The header's Type field (RFC 4271 4.1, RFC 2918 3). */
export const MessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;

/** Address Family Identifiers (IANA) and Subsequent AFIs (RFC 4760) that vipkit speaks. */
export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export const Safi = { Unicast: 1 } as const;

/** An address family as negotiated (RFC 4760 8): AFI and SAFI. */
export interface Family {
  afi: number;
  safi: number;
}

export const IPV4_UNICAST: Family = { afi: Afi.Ipv4, safi: Safi.Unicast };
export const IPV6_UNICAST: Family = { afi: Afi.Ipv6, safi: Safi.Unicast };

export function sameFamily(a: Family, b: Family): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

/** `ipv4-unicast`, `ipv6-unicast`, or `afi 25 / safi 70` for the rest. */
export function familyName(family: Family): string {
  const afi = family.afi === Afi.Ipv4 ? 'ipv4' : family.afi === Afi.Ipv6 ? 'ipv6' : undefined;
  if (afi !== undefined && family.safi === Safi.Unicast) return `${afi}-unicast`;
  return `afi ${family.afi} / safi ${family.safi}`;
}

/** RFC 6793 2: the 2-octet stand-in for an AS number that needs 4 octets. */
export const AS_TRANS = 23456;

/** RFC 4271 4.1 and RFC 8654 3. */
export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

/**
 * What encoding and decoding of UPDATEs depend on, agreed in the OPEN exchange (see
 * negotiate() in session.ts): AS numbers in AS_PATH/AGGREGATOR are 4 octets only when both
 * sides advertised RFC 6793, and messages may exceed 4096 bytes only when both advertised
 * RFC 8654. ADD-PATH (RFC 7911) is not supported, hence `never`.
 */
export interface SessionCodecContext {
  fourOctetAs: boolean;
  extendedMessage: boolean;
  addPath?: never;
}

/** Before (or without) a negotiation: what RFC 4271 alone allows. */
export const BASE_CONTEXT: SessionCodecContext = { fourOctetAs: false, extendedMessage: false };

export function maxMessageLength(context: SessionCodecContext): number {
  return context.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}
