/**
 * Interface discovery from what the kernel already exposes: os.networkInterfaces() for
 * addresses, /sys/class/net for every interface (with or without addresses), /proc/net for
 * default routes. No child processes, so it is cheap and works inside `ip netns exec`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { endianness, networkInterfaces } from 'node:os';
import { IPv4, IPv4CidrRange, IPv6, IPv6CidrRange, collapseIPv6Number } from 'ip-num';
import { isIPv4, isIPv6 } from 'node:net';

export interface InterfaceAddress {
  address: string;
  prefixLength: number;
}

export interface InterfaceInfo {
  name: string;
  index: number;
  /** Absent when the interface has no Ethernet address (loopback, tunnels). */
  mac?: string;
  /** Administratively up and with carrier: frames sent on it can go somewhere. */
  up: boolean;
  loopback: boolean;
  mtu: number;
  ipv4: InterfaceAddress[];
  ipv6: InterfaceAddress[];
}

const SYS_NET = '/sys/class/net';
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
/** RTF_REJECT: the kernel lists an unreachable IPv6 default on `lo` that routes nothing. */
const RTF_REJECT = 0x0200;

function readSys(name: string, attribute: string): string | undefined {
  try {
    return readFileSync(`${SYS_NET}/${name}/${attribute}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function macOf(name: string): string | undefined {
  const mac = readSys(name, 'address')?.toLowerCase();
  if (mac === undefined || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) return undefined;
  return mac === '00:00:00:00:00:00' ? undefined : mac;
}

/**
 * Whether `name` is up now, read from /sys alone: cheap enough to ask several times a
 * second. The flags file holds administrative flags only; carrier shows in operstate,
 * where loopback and dummy interfaces report "unknown" although they carry traffic.
 */
function isUp(flags: number, name: string): boolean {
  const operstate = readSys(name, 'operstate');
  return (flags & IFF_UP) !== 0 && (operstate === 'up' || operstate === 'unknown');
}

/** Whether the interface `name` is administratively up and has carrier. */
export function isInterfaceUp(name: string): boolean {
  if (name === '' || name.includes('/') || name === '.' || name === '..') return false;
  return isUp(Number.parseInt(readSys(name, 'flags') ?? '0', 16), name);
}

function readInterface(name: string, addresses: ReturnType<typeof networkInterfaces>): InterfaceInfo | undefined {
  const index = Number(readSys(name, 'ifindex'));
  // The interface vanished between readdir and now.
  if (!Number.isInteger(index) || index <= 0) return undefined;
  const flags = Number.parseInt(readSys(name, 'flags') ?? '0', 16);
  const up = isUp(flags, name);
  // libuv reports addresses only for interfaces that are up and running.
  const entries = addresses[name] ?? [];
  const info: InterfaceInfo = {
    name,
    index,
    up,
    loopback: (flags & IFF_LOOPBACK) !== 0,
    mtu: Number(readSys(name, 'mtu') ?? 0),
    ipv4: entries
      .filter((entry) => entry.family === 'IPv4')
      .map((entry) => ({ address: entry.address, prefixLength: prefixLengthOf(entry.cidr) })),
    ipv6: entries
      .filter((entry) => entry.family === 'IPv6')
      .map((entry) => ({ address: entry.address, prefixLength: prefixLengthOf(entry.cidr) })),
  };
  const mac = macOf(name);
  if (mac !== undefined) info.mac = mac;
  return info;
}

function prefixLengthOf(cidr: string | null): number {
  return Number(cidr?.split('/')[1] ?? 0);
}

/** Every interface in this network namespace, by index, including those without addresses. */
export function listInterfaces(): InterfaceInfo[] {
  const addresses = networkInterfaces();
  return readdirSync(SYS_NET)
    .map((name) => readInterface(name, addresses))
    .filter((info): info is InterfaceInfo => info !== undefined)
    .sort((a, b) => a.index - b.index);
}

export function findInterface(name: string): InterfaceInfo | undefined {
  // A name with a slash would read elsewhere under /sys.
  if (name === '' || name.includes('/') || name === '.' || name === '..') return undefined;
  return readInterface(name, networkInterfaces());
}

/** Parses an IP (an IPv6 may carry a `%zone`); undefined when it is not one. */
function parseTarget(ip: string): { family: 4 | 6; address: IPv4 | IPv6; zone?: string } | undefined {
  if (isIPv4(ip)) return { family: 4, address: IPv4.fromString(ip) };
  const [address, zone] = ip.split('%', 2);
  if (address === undefined || !isIPv6(address)) return undefined;
  return zone === undefined
    ? { family: 6, address: IPv6.fromString(address) }
    : { family: 6, address: IPv6.fromString(address), zone };
}

function subnetHolds(entry: InterfaceAddress, family: 4 | 6, target: IPv4 | IPv6): boolean {
  const cidr = `${entry.address}/${entry.prefixLength}`;
  return family === 4
    ? IPv4CidrRange.fromCidr(cidr).contains(target as IPv4)
    : IPv6CidrRange.fromCidr(cidr).contains(target as IPv6);
}

/** The address on `iface` in the subnet holding `target` with the longest prefix. */
function longestMatch(iface: InterfaceInfo, family: 4 | 6, target: IPv4 | IPv6): InterfaceAddress | undefined {
  let best: InterfaceAddress | undefined;
  for (const entry of family === 4 ? iface.ipv4 : iface.ipv6) {
    if (subnetHolds(entry, family, target) && (best === undefined || entry.prefixLength > best.prefixLength)) {
      best = entry;
    }
  }
  return best;
}

/**
 * The up, non-loopback interface whose subnet holds `ip`, longest prefix first; on a tie
 * the lowest index. An IPv6 `%zone` restricts the choice to that interface (the only way
 * to pick among link-local subnets: without one, every interface holds fe80::/10, so there
 * is no answer). Undefined when no subnet holds `ip`: callers must not fall back to
 * another interface (DESIGN.md).
 */
export function interfaceForTarget(ip: string): InterfaceInfo | undefined {
  const target = parseTarget(ip);
  if (target === undefined) return undefined;
  if (target.family === 6 && target.zone === undefined && LINK_LOCAL.contains(target.address)) return undefined;
  let best: { iface: InterfaceInfo; prefixLength: number } | undefined;
  for (const iface of listInterfaces()) {
    if (!iface.up || iface.loopback) continue;
    if (target.zone !== undefined && target.zone !== iface.name) continue;
    const match = longestMatch(iface, target.family, target.address);
    if (match !== undefined && (best === undefined || match.prefixLength > best.prefixLength)) {
      best = { iface, prefixLength: match.prefixLength };
    }
  }
  return best?.iface;
}

/** The interface `address` is configured on, when this host holds it. */
export function interfaceHolding(address: string): InterfaceInfo | undefined {
  return listInterfaces().find((iface) => [...iface.ipv4, ...iface.ipv6].some((held) => held.address === address));
}

/** RFC 4291 2.5.6. */
const LINK_LOCAL = IPv6CidrRange.fromCidr('fe80::/10');

export function isLinkLocal(address: string): boolean {
  return LINK_LOCAL.contains(IPv6.fromString(address));
}

/**
 * The address on `iface` to send from when talking to `target`: IPv4, the one in the same
 * subnet; IPv6, a global one in the same subnet, else the link-local (NDP works from it).
 */
export function sourceAddressFor(iface: InterfaceInfo, target: string): string | undefined {
  const parsed = parseTarget(target);
  if (parsed === undefined) return undefined;
  if (parsed.family === 4) return longestMatch(iface, 4, parsed.address)?.address;
  const global = iface.ipv6.filter((entry) => !isLinkLocal(entry.address));
  const inSubnet = longestMatch({ ...iface, ipv6: global }, 6, parsed.address);
  return inSubnet?.address ?? iface.ipv6.find((entry) => isLinkLocal(entry.address))?.address;
}

/** /proc/net/route prints each IPv4 address as the host-order u32 of network-order bytes. */
function procIPv4(hex: string): string {
  const bytes = Buffer.alloc(4);
  if (endianness() === 'LE') bytes.writeUInt32LE(Number.parseInt(hex, 16));
  else bytes.writeUInt32BE(Number.parseInt(hex, 16));
  return bytes.join('.');
}

function procIPv6(hex: string): string {
  return collapseIPv6Number(hex.match(/.{4}/g)!.join(':'));
}

function readProc(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length > 1);
  } catch {
    return [];
  }
}

/** The default route with the lowest metric, as the kernel's main table holds it. */
export function defaultRoute(family: 4 | 6): { interfaceName: string; gateway?: string } | undefined {
  const candidates: { interfaceName: string; gateway?: string; metric: number }[] = [];
  if (family === 4) {
    // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
    for (const [iface, destination, gateway, , , , metric, mask] of readProc('/proc/net/route').slice(1)) {
      if (destination !== '00000000' || mask !== '00000000' || iface === undefined) continue;
      candidates.push({
        interfaceName: iface,
        ...(gateway !== '00000000' && gateway !== undefined ? { gateway: procIPv4(gateway) } : {}),
        metric: Number.parseInt(metric ?? '0', 16),
      });
    }
  } else {
    // dest destPrefix src srcPrefix nexthop metric refcnt use flags iface
    for (const [destination, prefix, , , nexthop, metric, , , flags, iface] of readProc('/proc/net/ipv6_route')) {
      if (destination !== '0'.repeat(32) || prefix !== '00' || iface === undefined) continue;
      if ((Number.parseInt(flags ?? '0', 16) & RTF_REJECT) !== 0) continue;
      candidates.push({
        interfaceName: iface,
        ...(nexthop !== '0'.repeat(32) && nexthop !== undefined ? { gateway: procIPv6(nexthop) } : {}),
        metric: Number.parseInt(metric ?? '0', 16),
      });
    }
  }
  const best = candidates.sort((a, b) => a.metric - b.metric)[0];
  if (best === undefined) return undefined;
  return best.gateway === undefined
    ? { interfaceName: best.interfaceName }
    : { interfaceName: best.interfaceName, gateway: best.gateway };
}
