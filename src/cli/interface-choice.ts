import { findInterface, interfaceForTarget, isLinkLocal, listInterfaces, type InterfaceInfo } from '../link/interfaces.js';
import { familyOf } from '../pools/address-range.js';
import { UsageError } from './errors.js';

const known = () => listInterfaces().map((candidate) => candidate.name).join(', ');

/** The interface the user named, if it can carry ARP and NDP; otherwise one sentence saying why not. */
export function namedInterface(name: string): InterfaceInfo {
  const iface = findInterface(name);
  if (!iface) throw new UsageError(`no interface named ${name}; interfaces here: ${known()}.`);
  if (!iface.up) throw new UsageError(`interface ${name} is not up (administratively down or no carrier): see ip link show ${name}.`);
  if (!iface.mac) throw new UsageError(`${name} has no Ethernet address (a loopback or tunnel): ARP and NDP do not run on it.`);
  return iface;
}

/** The named interface, or else the one whose subnet holds the target: never a fallback to any other (DESIGN.md). */
export function interfaceFor(target: string, name: string | undefined): InterfaceInfo {
  if (name !== undefined) return namedInterface(name);
  if (familyOf(target) === 6 && isLinkLocal(target)) throw new UsageError(`${target} is link-local: name the interface with -I.`);
  const iface = interfaceForTarget(target);
  if (!iface) throw new UsageError(`no interface here has a subnet holding ${target}; name one with -I (interfaces here: ${known()}).`);
  return iface;
}

/** For commands that must be told where to act. */
export function requiredInterface(name: string | undefined, command: string): InterfaceInfo {
  if (name === undefined) throw new UsageError(`${command} needs the interface to use: -I <name> (interfaces here: ${known()}).`);
  return namedInterface(name);
}
