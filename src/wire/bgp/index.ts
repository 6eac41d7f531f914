/**
 * BGP-4 message codec (RFC 4271 and extensions), with this file listing what it exports. Pure: no sockets, no timers. Every decoder throws only BgpError (a DecodeError).
 *
 * Framing and messages
 * - `BgpFramer#push(chunk) -> Buffer[]`: TCP stream -> whole messages (header checked);
 *   set `extendedMessage` after negotiation.
 * - `decodeMessage(buffer, context) -> BgpMessage`, `encodeMessage(message, context)`,
 *   `bgpMessage(context)`: the triad over the union `BgpMessage` =
 *   `OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage`,
 *   told apart by `type` ('open' | 'update' | 'notification' | 'keepalive' | 'route-refresh').
 * - Per type: `open`, `notification`, `keepalive`, `routeRefresh` (Codec), and
 *   `updateCodec(context)` / `decodeUpdate` / `encodeUpdate` (UPDATEs depend on context).
 * - `SessionCodecContext { fourOctetAs, extendedMessage, addPath?, families? }` (one
 *   direction of a session: ADD-PATH families, negotiated families); `BASE_CONTEXT`
 *   before OPEN. Encoders refuse over 4096 bytes (65535 with extended messages):
 *   MessageTooLongError.
 *
 * OPEN
 * - `OpenMessage { version, myAs, holdTime, bgpIdentifier, capabilities: Capability[] }`;
 *   `Capability` = multiprotocol {afi, safi} | route-refresh | enhanced-route-refresh |
 *   extended-message | four-octet-as {asn} | graceful-restart {...} | add-path {families:
 *   afi, safi, send, receive} | extended-next-hop {families} | role {role} | unknown {code, value}.
 * - `validateOpen(open, { expectedPeerAs?, localRouterId, localAs })` throws BgpError
 *   (OPEN Message Error subcodes); `negotiate(localOpen, peerOpen, { keepaliveTime? })
 *   -> NegotiatedSession { peerAs, holdTime, keepaliveTime, families, fourOctetAs,
 *   extendedMessage, routeRefresh, enhancedRouteRefresh, gracefulRestart?, context,
 *   peerContext }`: `context` encodes what we send, `peerContext` decodes what the peer
 *   sends (they differ in ADD-PATH only).
 * - `openAsn(open)` (the 4-octet AS if advertised), `myAsField(asn)` (AS_TRANS if needed).
 *
 * UPDATE
 * - `UpdateMessage { withdrawn: string[], attributes: AnyPathAttribute[], nlri: string[],
 *   withdrawnPathIds?, nlriPathIds?, errors?: BgpError[] }`; prefixes are text
 *   ("203.0.113.0/25"), path ids (RFC 7911) beside them where the context has ADD-PATH.
 *   `attributes` is the wire list in order (`PathAttribute` by `type`: origin, as-path,
 *   next-hop, med, local-pref, atomic-aggregate, aggregator, communities, originator-id,
 *   cluster-list, extended-communities, as4-path, as4-aggregator,
 *   ipv6-extended-communities, aigp, large-communities, bgpsec-path, otc, mp-reach,
 *   mp-unreach, and mp-reach-undecoded / mp-unreach-undecoded for families not decoded
 *   or not negotiated; `UnknownAttribute` for the rest).
 * - RFC 7606: decoding records survivable errors in `errors` (worst first) and applies
 *   them (attribute-discard drops the attribute; treat-as-withdraw turns the announced
 *   routes into withdrawals, afi-safi-disable those of its family); session-reset errors
 *   throw. `updateAction()`.
 * - `endOfRib(update) -> Family | undefined`, `endOfRibUpdate(family)`.
 * - `routeAttributes(attributes, context) -> RouteAttributes` (one field per attribute,
 *   AS4_PATH merged, RFC 6793 4.2.3) and `toPathAttributes(route, context)` back (AS_TRANS
 *   + AS4_PATH towards 2-octet sessions).
 * - `packUpdates(route, prefixes, context) -> Buffer[]`, `packWithdrawals(prefixes,
 *   context) -> Buffer[]`, `updateCapacity(route, family, context)`: fill UPDATEs to the limit.
 * - `RouteRefreshMessage { afi, safi, subtype, orf? }` (RFC 5291 Outbound Route Filters).
 *
 * Errors and text
 * - `BgpError { code, subcode, data, action: ErrorAction, family?, reason,
 *   toNotification() }`; `ErrorAction` AttributeDiscard < TreatAsWithdraw < AfiSafiDisable
 *   < SessionReset; code/subcode constants in notification-codes.ts.
 * - `describeNotification(code, subcode)` -> "OPEN Message Error / Bad Peer AS".
 * - `formatAsPath`/`parseAsPath` ("64800 65002 {64512 64513}"), `formatCommunity`/
 *   `parseCommunity` ("65002:100", "NO_EXPORT"), `formatLargeCommunity`/
 *   `parseLargeCommunity` ("65002:7:8"), `parsePrefix`/`formatPrefix`, `encodeNlri`/`decodeNlri`;
 *   `routeJson` (a route's attributes in the --json shapes), `formatExtendedCommunity`,
 *   `formatIpv6ExtendedCommunity`, `describeOrf`, `capabilityName`/`describeCapability`.
 */
export * from './attributes.js';
export * from './bgp-error.js';
export * from './capabilities.js';
export * from './format.js';
export { BgpFramer, decodeHeader, encodeHeader, type MessageHeader, MessageTooLongError } from './header.js';
export * from './keepalive.js';
export * from './message.js';
export * from './notification.js';
export * from './notification-codes.js';
export * from './open.js';
export * from './pack.js';
export * from './nlri.js';
export * from './registry.js';
export * from './route-attributes.js';
export * from './route-refresh.js';
export * from './update.js';
export * from './validate.js';
