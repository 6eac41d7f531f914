import type { Codec } from './codec.js';
import { DecodeError } from './decode-error.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

/** Session states as the State field carries them (RFC 5880 4.1). */
export const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BfdState = (typeof BFD_STATES)[number];

/** Diagnostic codes (RFC 5880 4.1); 9-31 are reserved and decoded as numbers. */
export const BfdDiagnostic = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;

/** The optional authentication section, kept as received: vipkit runs no authentication
 *  (bfd.AuthType 0), so the session discards any packet that carries one (RFC 5880 6.8.6). */
export interface BfdAuthentication {
  type: number;
  /** The bytes after Auth Type and Auth Len. */
  data: Buffer;
}

/** Intervals are in microseconds, as on the wire. */
export interface BfdControlPacket {
  version: number;
  diagnostic: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  controlPlaneIndependent: boolean;
  demand: boolean;
  multipoint: boolean;
  detectMultiplier: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  desiredMinTxInterval: number;
  requiredMinRxInterval: number;
  requiredMinEchoRxInterval: number;
  /** Present exactly when the A bit is set. */
  authentication?: BfdAuthentication;
}

/*
 * BFD Control packet (RFC 5880 4.1), the payload of a UDP datagram to port 3784 (RFC 5881 4):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       My Discriminator                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Your Discriminator                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Desired Min TX Interval                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   Required Min RX Interval                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Required Min Echo RX Interval                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * An optional Authentication Section follows when A is set:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Auth Type   |   Auth Len    |    Authentication Data...     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Length counts the whole packet; Auth Len counts the section, Type and Len included.
 * Decoding applies every check of RFC 5880 6.8.6 that needs only the packet; the ones that
 * need the session (Your Discriminator selecting it, authentication in use) are the
 * session's (liveness/bfd-fsm.ts). Bytes past Length (UDP payload padding) and between the
 * end of the fields and Length are ignored.
 */
export const BFD_VERSION = 1;
const MANDATORY_LENGTH = 24;
const AUTH_HEADER_LENGTH = 2;

const FLAG = { poll: 0x20, final: 0x10, controlPlaneIndependent: 0x08, authentication: 0x04, demand: 0x02, multipoint: 0x01 } as const;

export const bfdControl: Codec<BfdControlPacket> = {
  encode(packet) {
    const length = checkUint('bfd', 'length', bfdControl.encodingLength(packet), 8);
    const state = BFD_STATES.indexOf(packet.state);
    if (state < 0) throw new DecodeError('bfd', `state ${String(packet.state)} is none of ${BFD_STATES.join(', ')}`);
    const bytes = Buffer.alloc(length);
    bytes.writeUInt8((checkUint('bfd', 'version', packet.version, 3) << 5) | checkUint('bfd', 'diagnostic', packet.diagnostic, 5), 0);
    bytes.writeUInt8(
      (state << 6) |
        (packet.poll ? FLAG.poll : 0) |
        (packet.final ? FLAG.final : 0) |
        (packet.controlPlaneIndependent ? FLAG.controlPlaneIndependent : 0) |
        (packet.authentication ? FLAG.authentication : 0) |
        (packet.demand ? FLAG.demand : 0) |
        (packet.multipoint ? FLAG.multipoint : 0),
      1,
    );
    bytes.writeUInt8(checkUint('bfd', 'detect multiplier', packet.detectMultiplier, 8), 2);
    bytes.writeUInt8(length, 3);
    bytes.writeUInt32BE(checkUint('bfd', 'my discriminator', packet.myDiscriminator, 32), 4);
    bytes.writeUInt32BE(checkUint('bfd', 'your discriminator', packet.yourDiscriminator, 32), 8);
    bytes.writeUInt32BE(checkUint('bfd', 'desired min TX interval', packet.desiredMinTxInterval, 32), 12);
    bytes.writeUInt32BE(checkUint('bfd', 'required min RX interval', packet.requiredMinRxInterval, 32), 16);
    bytes.writeUInt32BE(checkUint('bfd', 'required min echo RX interval', packet.requiredMinEchoRxInterval, 32), 20);
    if (packet.authentication) {
      const { type, data } = packet.authentication;
      bytes.writeUInt8(checkUint('bfd', 'auth type', type, 8), MANDATORY_LENGTH);
      bytes.writeUInt8(AUTH_HEADER_LENGTH + data.length, MANDATORY_LENGTH + 1);
      data.copy(bytes, MANDATORY_LENGTH + AUTH_HEADER_LENGTH);
    }
    return bytes;
  },

  decode(buffer) {
    const header = new Reader(buffer, 'bfd');
    const versionAndDiagnostic = header.u8('version and diagnostic');
    const version = versionAndDiagnostic >> 5;
    if (version !== BFD_VERSION) header.fail(`version ${version}, only ${BFD_VERSION} exists (RFC 5880 6.8.6)`);
    const stateAndFlags = header.u8('state and flags');
    const flag = (bit: number): boolean => (stateAndFlags & bit) !== 0;
    const authenticated = flag(FLAG.authentication);
    const detectMultiplier = header.u8('detect multiplier');
    const length = header.u8('length');
    const minimum = authenticated ? MANDATORY_LENGTH + AUTH_HEADER_LENGTH : MANDATORY_LENGTH;
    if (length < minimum) header.fail(`length ${length}, under the ${minimum} bytes of a packet ${authenticated ? 'with' : 'without'} authentication (RFC 5880 6.8.6)`);
    if (length > buffer.length) header.fail(`length ${length}, but the payload has only ${buffer.length} bytes (RFC 5880 6.8.6)`);
    if (detectMultiplier === 0) header.fail('detect multiplier 0 (RFC 5880 6.8.6)');
    if (flag(FLAG.multipoint)) header.fail('multipoint (M) bit set, reserved for future point-to-multipoint use (RFC 5880 6.8.6)');

    const reader = new Reader(buffer, 'bfd', header.offset, length);
    const myDiscriminator = reader.u32('my discriminator');
    if (myDiscriminator === 0) reader.fail('my discriminator 0 (RFC 5880 6.8.6)');
    const yourDiscriminator = reader.u32('your discriminator');
    const state = BFD_STATES[stateAndFlags >> 6]!;
    if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') {
      reader.fail(`your discriminator 0 in state ${state}, allowed only in Down and AdminDown (RFC 5880 6.8.6)`);
    }
    const packet: BfdControlPacket = {
      version,
      diagnostic: versionAndDiagnostic & 0x1f,
      state,
      poll: flag(FLAG.poll),
      final: flag(FLAG.final),
      controlPlaneIndependent: flag(FLAG.controlPlaneIndependent),
      demand: flag(FLAG.demand),
      multipoint: false,
      detectMultiplier,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxInterval: reader.u32('desired min TX interval'),
      requiredMinRxInterval: reader.u32('required min RX interval'),
      requiredMinEchoRxInterval: reader.u32('required min echo RX interval'),
    };
    if (authenticated) {
      const type = reader.u8('auth type');
      const authLength = reader.u8('auth len');
      if (authLength < AUTH_HEADER_LENGTH) reader.fail(`auth len ${authLength}, under the ${AUTH_HEADER_LENGTH} bytes of Auth Type and Auth Len`);
      packet.authentication = { type, data: reader.bytes(authLength - AUTH_HEADER_LENGTH, 'authentication data') };
    }
    return packet;
  },

  encodingLength(packet) {
    return MANDATORY_LENGTH + (packet.authentication ? AUTH_HEADER_LENGTH + packet.authentication.data.length : 0);
  },
};
