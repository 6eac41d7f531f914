import { BgpError } from './bgp-error.js';
import type { Capability } from './capabilities.js';
import { ErrorCode, OpenSubcode } from './notification-codes.js';
import { type OpenMessage, openAsn } from './open.js';
import { AS_TRANS, type Family, IPV4_UNICAST, sameFamily, type SessionCodecContext } from './registry.js';

/*
 * What an OPEN means in a session, kept apart from decoding it (as gobgp's
 * ValidateOpenMsg): validateOpen refuses a peer's OPEN with the NOTIFICATION RFC 4271
 * 6.2 asks for; negotiate combines both OPENs into the session's parameters.
 */

export interface OpenExpectations {
  /** The AS the peer must have; absent accepts any (a dynamic neighbour). */
  expectedPeerAs?: number;
  localRouterId: string;
  localAs: number;
}

const BGP_VERSION = 4;

function openError(subcode: number, reason: string, data?: Buffer): BgpError {
  return new BgpError(ErrorCode.Open, subcode, reason, data ? { data } : {});
}

/** Throws BgpError (OPEN Message Error) when `open` is unacceptable (RFC 4271 6.2). */
export function validateOpen(open: OpenMessage, expect: OpenExpectations): void {
  if (open.version !== BGP_VERSION) {
    // Data: the largest version we support, 2 octets (RFC 4271 6.2).
    throw openError(OpenSubcode.UnsupportedVersionNumber, `version ${open.version}, only ${BGP_VERSION} is supported`, Buffer.from([0, BGP_VERSION]));
  }
  const peerAs = openAsn(open);
  // RFC 7607: AS 0 is never acceptable; RFC 6793 4.1: the capability's AS wins.
  if (peerAs === 0 || open.myAs === 0) throw openError(OpenSubcode.BadPeerAs, 'AS 0 is reserved (RFC 7607)');
  const fourOctet = open.capabilities.some((capability) => capability.type === 'four-octet-as');
  if (fourOctet && peerAs <= 0xffff && open.myAs !== peerAs) {
    throw openError(OpenSubcode.BadPeerAs, `My AS ${open.myAs} and the 4-octet AS capability's ${peerAs} disagree`);
  }
  if (fourOctet && peerAs > 0xffff && open.myAs !== AS_TRANS) {
    throw openError(OpenSubcode.BadPeerAs, `My AS ${open.myAs} should be AS_TRANS for AS ${peerAs} (RFC 6793 4.1)`);
  }
  if (expect.expectedPeerAs !== undefined && peerAs !== expect.expectedPeerAs) {
    throw openError(OpenSubcode.BadPeerAs, `the peer is AS ${peerAs}, we expect AS ${expect.expectedPeerAs}`);
  }
  // RFC 6286 2.2: non-zero; unique within an AS, so only iBGP peers may not share ours.
  if (open.bgpIdentifier === '0.0.0.0') throw openError(OpenSubcode.BadBgpIdentifier, 'BGP identifier 0.0.0.0');
  if (peerAs === expect.localAs && open.bgpIdentifier === expect.localRouterId) {
    throw openError(OpenSubcode.BadBgpIdentifier, `iBGP peer uses our own BGP identifier ${open.bgpIdentifier}`);
  }
  // RFC 4271 4.2: zero, or at least three seconds.
  if (open.holdTime === 1 || open.holdTime === 2) throw openError(OpenSubcode.UnacceptableHoldTime, `hold time ${open.holdTime} s`);
  const [parameter] = open.parameters ?? [];
  if (parameter !== undefined) {
    throw openError(OpenSubcode.UnsupportedOptionalParameter, `optional parameter type ${parameter.type}`, Buffer.from([parameter.type]));
  }
}

export interface GracefulRestartState {
  restartTime: number;
  restarting: boolean;
  notification: boolean;
  /** Families the peer preserves routes for, with its forwarding-state flag. */
  families: Array<Family & { forwardingState: boolean }>;
}

/** A session's parameters, from both OPENs. */
export interface NegotiatedSession {
  peerAs: number;
  peerRouterId: string;
  /** The smaller of both hold times (RFC 4271 4.2); 0 means no keepalives, no hold timer. */
  holdTime: number;
  /** Seconds between KEEPALIVEs: a third of holdTime (RFC 4271 10), or less if configured. */
  keepaliveTime: number;
  /** Families both sides advertised; IPv4 unicast alone when neither sent Multiprotocol. */
  families: Family[];
  fourOctetAs: boolean;
  extendedMessage: boolean;
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The peer's graceful restart capability, when both advertised one (RFC 4724). */
  gracefulRestart?: GracefulRestartState;
  /** What our UPDATEs are encoded with. */
  context: SessionCodecContext;
  /** What the peer's UPDATEs are decoded with: as `context`, but with the families the
   *  peer sends path identifiers for (RFC 7911 4: its Send, our Receive). */
  peerContext: SessionCodecContext;
}

function has(open: OpenMessage, type: Capability['type']): boolean {
  return open.capabilities.some((capability) => capability.type === type);
}

function advertisedFamilies(open: OpenMessage): Family[] {
  const families = open.capabilities.flatMap((capability) => (capability.type === 'multiprotocol' ? [{ afi: capability.afi, safi: capability.safi }] : []));
  // RFC 4760 8 / RFC 4271: a speaker without the capability does IPv4 unicast only.
  return families.length > 0 ? families : [IPV4_UNICAST];
}

/** Families `sender` sends path identifiers for to `receiver` (RFC 7911 4): Send on one
 *  side, Receive on the other, for the same negotiated family. */
function addPathFamilies(sender: OpenMessage, receiver: OpenMessage, families: readonly Family[]): Family[] {
  const modes = (open: OpenMessage) => open.capabilities.flatMap((capability) => (capability.type === 'add-path' ? capability.families : []));
  const sends = modes(sender).filter((family) => family.send);
  const receives = modes(receiver).filter((family) => family.receive);
  return families.filter((family) => sends.some((mode) => sameFamily(mode, family)) && receives.some((mode) => sameFamily(mode, family)));
}

export function negotiate(local: OpenMessage, peer: OpenMessage, options: { keepaliveTime?: number } = {}): NegotiatedSession {
  const holdTime = Math.min(local.holdTime, peer.holdTime);
  const third = Math.floor(holdTime / 3);
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.min(options.keepaliveTime ?? third, third));
  const peerFamilies = advertisedFamilies(peer);
  const families = advertisedFamilies(local).filter((family) => peerFamilies.some((candidate) => sameFamily(candidate, family)));
  const both = (type: Capability['type']): boolean => has(local, type) && has(peer, type);
  const peerGracefulRestart = peer.capabilities.find((capability) => capability.type === 'graceful-restart');
  const fourOctetAs = both('four-octet-as');
  const extendedMessage = both('extended-message');
  return {
    peerAs: openAsn(peer),
    peerRouterId: peer.bgpIdentifier,
    holdTime,
    keepaliveTime,
    families,
    fourOctetAs,
    extendedMessage,
    routeRefresh: both('route-refresh'),
    enhancedRouteRefresh: both('enhanced-route-refresh'),
    ...(peerGracefulRestart?.type === 'graceful-restart' && has(local, 'graceful-restart')
      ? {
          gracefulRestart: {
            restartTime: peerGracefulRestart.restartTime,
            restarting: peerGracefulRestart.restarting,
            notification: peerGracefulRestart.notification,
            families: peerGracefulRestart.families,
          },
        }
      : {}),
    context: { fourOctetAs, extendedMessage, families, addPath: addPathFamilies(local, peer, families) },
    peerContext: { fourOctetAs, extendedMessage, families, addPath: addPathFamilies(peer, local, families) },
  };
}
