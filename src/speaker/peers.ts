/**
 * A BGP peer as configured (`--peer` flags, MetalLB files: the pools model) turned into a
 * session from this host: defaults filled in, the router id and the next hops chosen from
 * this host's interfaces. Everything a session cannot be started with is refused here, in
 * one sentence, before anything is sent.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { AnnouncerPeer } from '../bgp/announcer.js';
import { assertTcpOptionsUsable } from '../bgp/tcp-options.js';
import { defaultRoute, findInterface, interfaceForTarget, interfaceHolding, isLinkLocal, listInterfaces, sourceAddressFor, type InterfaceInfo } from '../link/interfaces.js';
import { addressValue, notUnicast, type Family } from '../pools/address-range.js';
import type { Peer } from '../pools/model.js';
import { SpeakerConfigError } from './speaker.js';

/** What a peer that does not say otherwise gets: the global flags. */
export interface SessionDefaults {
  port: number;
  holdTime: number;
  routerId?: string;
  sourceAddress?: string;
  /** IPv4 next hop of every route (absent: our end of each session). */
  nextHop?: string;
  /** IPv6 next hop (absent: our global IPv6 address on the interface facing each peer). */
  nextHopV6?: string;
  /** Seconds a peer keeps our routes while we restart (RFC 4724); absent: graceful restart is not offered. */
  gracefulRestartTime?: number;
}

/** The session to `peer` and the next hops of the `families` routed to it. */
export function announcerPeer(peer: Peer, defaults: SessionDefaults, families: ReadonlySet<Family>): AnnouncerPeer {
  const name = `--peer ${peer.address || peer.interface}`;
  refuseUnsupported(peer, name);
  if (peer.asn === undefined) throw new SpeakerConfigError(`${name} has no AS number: add asn=<n> to it, or give --peer-asn.`);
  if (peer.myAsn === undefined) throw new SpeakerConfigError(`${name}: our AS number is unknown: give --my-asn (or my-asn=<n> in the --peer).`);
  const sourceAddress = peer.sourceAddress ?? defaults.sourceAddress;
  if (sourceAddress !== undefined && isIPv4(sourceAddress) !== isIPv4(peer.address)) {
    throw new SpeakerConfigError(`${name}: the source address ${sourceAddress} is not of the peer's address family.`);
  }
  const routerId = peer.routerId ?? defaults.routerId ?? defaultRouterId(sourceAddress);
  if (routerId === undefined) throw new SpeakerConfigError('no IPv4 address here to use as the router id: give --router-id.');
  const ttl = sessionTtl(peer);
  const tcp = { ...(ttl !== undefined ? { ttl } : {}), ...(peer.password !== undefined ? { password: peer.password } : {}) };
  if (ttl !== undefined || peer.password !== undefined) {
    try {
      assertTcpOptionsUsable(tcp, isIPv4(peer.address) ? 4 : 6);
    } catch (error) {
      throw new SpeakerConfigError(`${name}: ${(error as Error).message}`);
    }
  }
  return {
    session: {
      peerAddress: peer.address,
      port: peer.port ?? defaults.port,
      ...(sourceAddress !== undefined ? { localAddress: sourceAddress } : {}),
      localAs: peer.myAsn,
      peerAs: peer.asn,
      routerId,
      holdTime: peer.holdTime ?? defaults.holdTime,
      ...(peer.keepaliveTime !== undefined ? { keepaliveTime: peer.keepaliveTime } : {}),
      // BGPPeer connectTime: the wait between connection attempts, fixed.
      ...(peer.connectTime !== undefined ? { connectRetry: { initialSeconds: peer.connectTime, maxSeconds: peer.connectTime } } : {}),
      ...(defaults.gracefulRestartTime !== undefined ? { gracefulRestart: { restartTime: defaults.gracefulRestartTime } } : {}),
      ...tcp,
    },
    ...nextHops(peer.address, sourceAddress, defaults, families),
  };
}

/**
 * The router id when none was given: `preferred` if it is IPv4 (the session's source
 * address), else the first IPv4 address of this host that is not loopback.
 */
export function defaultRouterId(preferred?: string): string | undefined {
  if (preferred !== undefined && isIPv4(preferred)) return preferred;
  for (const iface of listInterfaces()) {
    const address = iface.loopback ? undefined : iface.ipv4[0];
    if (address) return address.address;
  }
  return undefined;
}

/**
 * As routers do: an eBGP peer is expected one hop away, so our segments carry TTL 1 and
 * die at any router on the way; ebgp-multihop lifts that to 255. iBGP keeps the kernel's.
 */
function sessionTtl(peer: Peer): number | undefined {
  if (peer.asn === peer.myAsn) return undefined;
  return peer.ebgpMultiHop ? 255 : 1;
}

/** What MetalLB's FRR mode offers and a session from vipkit cannot do: refused, never silently ignored. */
function refuseUnsupported(peer: Peer, name: string): void {
  const refusal =
    peer.interface !== undefined ? `unnumbered BGP (interface ${peer.interface}) is not supported: give the router's address`
    : peer.vrf !== undefined ? `sessions in a VRF (${peer.vrf}) are not supported: vipkit speaks from the host's main routing table`
    : peer.localAsn !== undefined ? 'a local AS (localASN) other than my-asn is not supported'
    : peer.dynamicAsn !== undefined ? 'dynamicASN is not supported: give the peer AS number (asn=)'
    : peer.passwordSecret !== undefined ? `the password is in the Secret ${peer.passwordSecret}, which vipkit cannot read off Kubernetes: give it as password=`
    : undefined;
  if (refusal !== undefined) throw new SpeakerConfigError(`${name}: ${refusal}.`);
}

function nextHops(peerAddress: string, sourceAddress: string | undefined, defaults: SessionDefaults, families: ReadonlySet<Family>): { nextHop?: string; nextHopV6?: string } {
  const iface = interfaceFacing(peerAddress, sourceAddress);
  const where = iface ? `on ${iface.name}, the interface facing ${peerAddress}` : `here: no interface faces ${peerAddress}`;
  let nextHop = defaults.nextHop;
  if (nextHop !== undefined && !isIPv4(nextHop)) throw new SpeakerConfigError(`--next-hop ${nextHop} is not an IPv4 address (IPv6 next hops go in --next-hop-v6).`);
  refuseSpecialNextHop('--next-hop', nextHop);
  if (families.has(4) && nextHop === undefined && isIPv6(peerAddress)) {
    // Our end of an IPv6 session cannot be an IPv4 route's next hop.
    nextHop = iface?.ipv4[0]?.address;
    if (nextHop === undefined) throw new SpeakerConfigError(`IPv4 routes to the IPv6 peer ${peerAddress} need an IPv4 next hop, and there is no IPv4 address ${where}: give --next-hop.`);
  }
  let nextHopV6 = defaults.nextHopV6;
  if (nextHopV6 !== undefined && !isIPv6(nextHopV6)) throw new SpeakerConfigError(`--next-hop-v6 ${nextHopV6} is not an IPv6 address.`);
  refuseSpecialNextHop('--next-hop-v6', nextHopV6);
  if (families.has(6) && nextHopV6 === undefined) {
    const global = iface?.ipv6.find((entry) => !isLinkLocal(entry.address));
    nextHopV6 = iface && isIPv6(peerAddress) ? sourceAddressFor(iface, peerAddress) : global?.address;
    if (nextHopV6 !== undefined && isLinkLocal(nextHopV6)) nextHopV6 = global?.address;
    if (nextHopV6 === undefined) throw new SpeakerConfigError(`IPv6 routes need a global IPv6 next hop, and there is no global IPv6 address ${where}: give --next-hop-v6.`);
  }
  return { ...(nextHop !== undefined ? { nextHop } : {}), ...(nextHopV6 !== undefined ? { nextHopV6 } : {}) };
}

/** The interface towards a peer: the one whose subnet holds it, else the one holding our source address, else the default route's. */
function interfaceFacing(peerAddress: string, sourceAddress: string | undefined): InterfaceInfo | undefined {
  const holding = sourceAddress === undefined ? undefined : interfaceHolding(sourceAddress);
  const viaDefault = defaultRoute(isIPv4(peerAddress) ? 4 : 6);
  return interfaceForTarget(peerAddress) ?? holding ?? (viaDefault ? findInterface(viaDefault.interfaceName) : undefined);
}

/** A router drops or treats as withdrawn an UPDATE whose next hop no host can hold (RFC 4271 6.3). */
function refuseSpecialNextHop(option: string, address: string | undefined): void {
  if (address === undefined) return;
  const special = notUnicast(isIPv4(address) ? 4 : 6, addressValue(address));
  if (special !== undefined) throw new SpeakerConfigError(`${option} ${address} is ${special}; a next hop is the unicast address routers forward to.`);
}
