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

/** The families whose prefixes vipkit decodes; MP_REACH/MP_UNREACH of any other is kept
 *  as AFI, SAFI and raw NLRI. */
export const DECODED_FAMILIES: readonly Family[] = [IPV4_UNICAST, IPV6_UNICAST];

export function sameFamily(a: Family, b: Family): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

/** IANA AFI and SAFI names, as GoBGP writes them (ipv4-multicast, l2vpn-evpn). */
const AFI_NAMES: Record<number, string> = { 1: 'ipv4', 2: 'ipv6', 25: 'l2vpn', 16388: 'ls' };
const SAFI_NAMES: Record<number, string> = {
  1: 'unicast',
  2: 'multicast',
  4: 'labelled-unicast',
  5: 'mcast-vpn',
  65: 'vpls',
  70: 'evpn',
  71: 'ls',
  72: 'ls-vpn',
  73: 'sr-policy',
  128: 'mpls-vpn',
  129: 'multicast-vpn',
  132: 'rtc',
  133: 'flowspec',
  134: 'flowspec-vpn',
};

/** `ipv4-unicast`, `ipv4-multicast`, `l2vpn-evpn`; `afi 25 / safi 99` for unnamed pairs. */
export function familyName(family: Family): string {
  const afi = AFI_NAMES[family.afi];
  const safi = SAFI_NAMES[family.safi];
  if (afi !== undefined && safi !== undefined) return `${afi}-${safi}`;
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
 * negotiate() in validate.ts): AS numbers in AS_PATH/AGGREGATOR are 4 octets only when both
 * sides advertised RFC 6793, and messages may exceed 4096 bytes only when both advertised
 * RFC 8654. ADD-PATH (RFC 7911) is per direction: a context describes the messages of one
 * direction of a session.
 */
export interface SessionCodecContext {
  fourOctetAs: boolean;
  extendedMessage: boolean;
  /** Families whose NLRI carry a 4-octet Path Identifier before each prefix (RFC 7911 3):
   *  the sender advertised Send and the receiver Receive. Absent: none. */
  addPath?: readonly Family[];
  /** Families the session negotiated (RFC 4760 8); MP_REACH/MP_UNREACH of another family
   *  is kept undecoded, as for families vipkit does not decode. Absent: every decoded one. */
  families?: readonly Family[];
}

/** Before (or without) a negotiation: what RFC 4271 alone allows. */
export const BASE_CONTEXT: SessionCodecContext = { fourOctetAs: false, extendedMessage: false };

/** True when `family`'s NLRI carry path identifiers in this context (RFC 7911). */
export function hasAddPath(context: SessionCodecContext, family: Family): boolean {
  return context.addPath?.some((candidate) => sameFamily(candidate, family)) ?? false;
}

/** True when MP_REACH/MP_UNREACH of `family` are decoded into prefixes in this context. */
export function decodesFamily(context: SessionCodecContext, family: Family): boolean {
  const decoded = (candidates: readonly Family[]): boolean => candidates.some((candidate) => sameFamily(candidate, family));
  return decoded(DECODED_FAMILIES) && (context.families === undefined || decoded(context.families));
}

export function maxMessageLength(context: SessionCodecContext): number {
  return context.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}
