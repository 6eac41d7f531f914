import { Reader } from '../reader.js';
import { checkUint } from '../uint-field.js';
import { asBgpError } from './bgp-error.js';
import { ErrorCode } from './notification-codes.js';
import type { Family } from './registry.js';

/*
 * Capabilities, carried in OPEN's Capabilities Optional Parameter (RFC 5492 4):
 *
 * +------------------------------+
 * | Capability Code (1 octet)    |
 * +------------------------------+
 * | Capability Length (1 octet)  |
 * +------------------------------+
 * | Capability Value (variable)  |
 * ~                              ~
 * +------------------------------+
 *
 * Values of the ones vipkit understands:
 * - Multiprotocol (1, RFC 4760 8): AFI (2 octets), Reserved (1), SAFI (1).
 * - Route Refresh (2, RFC 2918), Extended Message (6, RFC 8654), Enhanced Route Refresh
 *   (70, RFC 7313): empty.
 * - Graceful Restart (64, RFC 4724 3, N bit RFC 8538):
 *     +--------------------------------------------------+
 *     | Restart Flags (4 bits: R N . .)                  |
 *     +--------------------------------------------------+
 *     | Restart Time in seconds (12 bits)                |
 *     +--------------------------------------------------+
 *     | AFI (16 bits) | SAFI (8 bits) | Flags (8: F . . .)| one per family
 *     +--------------------------------------------------+
 * - 4-octet AS number (65, RFC 6793 3): the AS, 4 octets.
 * - Extended Next Hop Encoding (5, RFC 8950 4): per entry NLRI AFI (2), NLRI SAFI (2),
 *   Next Hop AFI (2).
 * - BGP Role (9, RFC 9234 4.1): 1 octet, 0 Provider, 1 RS, 2 RS-Client, 3 Customer, 4 Peer.
 * - ADD-PATH (69, RFC 7911 4): per entry AFI (2), SAFI (1), Send/Receive (1: 1 receive,
 *   2 send, 3 both).
 * Any other code is kept as its code and raw value.
 */
export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  ExtendedNextHop: 5,
  ExtendedMessage: 6,
  Role: 9,
  GracefulRestart: 64,
  FourOctetAs: 65,
  AddPath: 69,
  EnhancedRouteRefresh: 70,
} as const;

/** One family of the ADD-PATH capability (RFC 7911 4). */
export interface AddPathFamily extends Family {
  receive: boolean;
  send: boolean;
}

/** One entry of the Extended Next Hop capability (RFC 8950 4). */
export interface ExtendedNextHopFamily extends Family {
  nextHopAfi: number;
}

/** RFC 9234 4.1, by value. */
export const ROLES: readonly string[] = ['provider', 'rs', 'rs-client', 'customer', 'peer'];

const ADD_PATH_RECEIVE = 1;
const ADD_PATH_SEND = 2;

export interface GracefulRestartFamily extends Family {
  /** F bit: forwarding state was preserved across the restart. */
  forwardingState: boolean;
}

export type Capability =
  | { type: 'multiprotocol'; afi: number; safi: number }
  | { type: 'route-refresh' }
  | { type: 'extended-message' }
  | { type: 'enhanced-route-refresh' }
  | { type: 'four-octet-as'; asn: number }
  | {
      type: 'graceful-restart';
      /** R bit: the sender has restarted. */
      restarting: boolean;
      /** N bit (RFC 8538): the sender does graceful restart for NOTIFICATIONs too. */
      notification: boolean;
      restartTime: number;
      families: GracefulRestartFamily[];
    }
  | { type: 'add-path'; families: AddPathFamily[] }
  | { type: 'extended-next-hop'; families: ExtendedNextHopFamily[] }
  | { type: 'role'; role: number }
  | { type: 'unknown'; code: number; value: Buffer };

const RESTART_FLAG = 0x8000;
const NOTIFICATION_FLAG = 0x4000;
const FORWARDING_FLAG = 0x80;

function capabilityValue(capability: Capability): { code: number; value: Buffer } {
  switch (capability.type) {
    case 'multiprotocol': {
      const value = Buffer.alloc(4);
      value.writeUInt16BE(checkUint('bgp-capability', 'AFI', capability.afi, 16), 0);
      value.writeUInt8(checkUint('bgp-capability', 'SAFI', capability.safi, 8), 3);
      return { code: CapabilityCode.Multiprotocol, value };
    }
    case 'route-refresh':
      return { code: CapabilityCode.RouteRefresh, value: Buffer.alloc(0) };
    case 'extended-message':
      return { code: CapabilityCode.ExtendedMessage, value: Buffer.alloc(0) };
    case 'enhanced-route-refresh':
      return { code: CapabilityCode.EnhancedRouteRefresh, value: Buffer.alloc(0) };
    case 'four-octet-as': {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(checkUint('bgp-capability', 'AS number', capability.asn, 32));
      return { code: CapabilityCode.FourOctetAs, value };
    }
    case 'graceful-restart': {
      const value = Buffer.alloc(2 + 4 * capability.families.length);
      const flags = (capability.restarting ? RESTART_FLAG : 0) | (capability.notification ? NOTIFICATION_FLAG : 0);
      value.writeUInt16BE(flags | checkUint('bgp-capability', 'restart time', capability.restartTime, 12));
      capability.families.forEach((family, index) => {
        value.writeUInt16BE(checkUint('bgp-capability', 'AFI', family.afi, 16), 2 + 4 * index);
        value.writeUInt8(checkUint('bgp-capability', 'SAFI', family.safi, 8), 4 + 4 * index);
        value.writeUInt8(family.forwardingState ? FORWARDING_FLAG : 0, 5 + 4 * index);
      });
      return { code: CapabilityCode.GracefulRestart, value };
    }
    case 'add-path': {
      const value = Buffer.alloc(4 * capability.families.length);
      capability.families.forEach((family, index) => {
        value.writeUInt16BE(checkUint('bgp-capability', 'AFI', family.afi, 16), 4 * index);
        value.writeUInt8(checkUint('bgp-capability', 'SAFI', family.safi, 8), 4 * index + 2);
        value.writeUInt8((family.receive ? ADD_PATH_RECEIVE : 0) | (family.send ? ADD_PATH_SEND : 0), 4 * index + 3);
      });
      return { code: CapabilityCode.AddPath, value };
    }
    case 'extended-next-hop': {
      const value = Buffer.alloc(6 * capability.families.length);
      capability.families.forEach((family, index) => {
        value.writeUInt16BE(checkUint('bgp-capability', 'AFI', family.afi, 16), 6 * index);
        value.writeUInt16BE(checkUint('bgp-capability', 'SAFI', family.safi, 16), 6 * index + 2);
        value.writeUInt16BE(checkUint('bgp-capability', 'next hop AFI', family.nextHopAfi, 16), 6 * index + 4);
      });
      return { code: CapabilityCode.ExtendedNextHop, value };
    }
    case 'role':
      return { code: CapabilityCode.Role, value: Buffer.from([checkUint('bgp-capability', 'role', capability.role, 8)]) };
    case 'unknown':
      return { code: checkUint('bgp-capability', 'code', capability.code, 8), value: capability.value };
  }
}

/** Code, length and value of each capability, back to back. */
export function encodeCapabilities(capabilities: readonly Capability[]): Buffer {
  return Buffer.concat(
    capabilities.map((capability) => {
      const { code, value } = capabilityValue(capability);
      checkUint('bgp-capability', `capability ${code} length`, value.length, 8);
      return Buffer.concat([Buffer.from([code, value.length]), value]);
    }),
  );
}

function decodeCapability(code: number, value: Buffer): Capability {
  const reader = new Reader(value, 'bgp-capability');
  const exactly = (length: number): void => {
    if (value.length !== length) reader.fail(`capability ${code} has ${value.length} bytes, expected ${length}`);
  };
  switch (code) {
    case CapabilityCode.Multiprotocol: {
      exactly(4);
      const afi = reader.u16('AFI');
      reader.skip(1, 'reserved');
      return { type: 'multiprotocol', afi, safi: reader.u8('SAFI') };
    }
    case CapabilityCode.RouteRefresh:
      exactly(0);
      return { type: 'route-refresh' };
    case CapabilityCode.ExtendedMessage:
      exactly(0);
      return { type: 'extended-message' };
    case CapabilityCode.EnhancedRouteRefresh:
      exactly(0);
      return { type: 'enhanced-route-refresh' };
    case CapabilityCode.FourOctetAs:
      exactly(4);
      return { type: 'four-octet-as', asn: reader.u32('AS number') };
    case CapabilityCode.GracefulRestart: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) reader.fail(`graceful restart capability of ${value.length} bytes`);
      const flags = reader.u16('restart flags and time');
      const families: GracefulRestartFamily[] = [];
      while (reader.remaining > 0) {
        const afi = reader.u16('AFI');
        const safi = reader.u8('SAFI');
        families.push({ afi, safi, forwardingState: (reader.u8('AFI flags') & FORWARDING_FLAG) !== 0 });
      }
      return {
        type: 'graceful-restart',
        restarting: (flags & RESTART_FLAG) !== 0,
        notification: (flags & NOTIFICATION_FLAG) !== 0,
        restartTime: flags & 0x0fff,
        families,
      };
    }
    case CapabilityCode.AddPath: {
      if (value.length % 4 !== 0) reader.fail(`ADD-PATH capability of ${value.length} bytes, not a multiple of 4`);
      const families: AddPathFamily[] = [];
      while (reader.remaining > 0) {
        const afi = reader.u16('AFI');
        const safi = reader.u8('SAFI');
        const sendReceive = reader.u8('Send/Receive');
        families.push({ afi, safi, receive: (sendReceive & ADD_PATH_RECEIVE) !== 0, send: (sendReceive & ADD_PATH_SEND) !== 0 });
      }
      return { type: 'add-path', families };
    }
    case CapabilityCode.ExtendedNextHop: {
      if (value.length % 6 !== 0) reader.fail(`extended next hop capability of ${value.length} bytes, not a multiple of 6`);
      const families: ExtendedNextHopFamily[] = [];
      while (reader.remaining > 0) families.push({ afi: reader.u16('AFI'), safi: reader.u16('SAFI'), nextHopAfi: reader.u16('next hop AFI') });
      return { type: 'extended-next-hop', families };
    }
    case CapabilityCode.Role:
      exactly(1);
      return { type: 'role', role: reader.u8('role') };
    default:
      return { type: 'unknown', code, value };
  }
}

/** The capabilities in one Capabilities parameter's value. A malformed one is an OPEN
 *  Message Error (RFC 5492 leaves the subcode open; 0, Unspecific). */
export function decodeCapabilities(value: Buffer): Capability[] {
  return asBgpError(ErrorCode.Open, 0, () => {
    const reader = new Reader(value, 'bgp-capability');
    const capabilities: Capability[] = [];
    while (reader.remaining > 0) {
      const code = reader.u8('capability code');
      const length = reader.u8('capability length');
      capabilities.push(decodeCapability(code, reader.bytes(length, `capability ${code} value`)));
    }
    return capabilities;
  });
}
