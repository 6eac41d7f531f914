import type { Codec } from '../codec.js';
import { ipv4FromBytes, ipv4ToBytes } from '../ip-address.js';
import { checkUint } from '../uint-field.js';
import { asBgpError } from './bgp-error.js';
import { type Capability, decodeCapabilities, encodeCapabilities } from './capabilities.js';
import { messageBody, wrapMessage } from './header.js';
import { ErrorCode } from './notification-codes.js';
import { AS_TRANS, HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './registry.js';

/*
 * OPEN (RFC 4271 4.2), after the header:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+
 * |    Version    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     My Autonomous System      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Hold Time           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         BGP Identifier                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Opt Parm Len  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             Optional Parameters (variable)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Each Optional Parameter is Type (1), Length (1), Value; type 2 holds capabilities
 * (RFC 5492). When they need more than 255 bytes, RFC 9072 has Opt Parm Len 255, a
 * Type of 255, a 2-octet length, and 2-octet parameter lengths.
 *
 * Decoding merges the capabilities of every Capabilities parameter in order; encoding
 * writes them as one parameter (as BIRD and GoBGP do). Other parameter types are kept in
 * `parameters` so validateOpen can refuse them (Unsupported Optional Parameter).
 * Checking version, AS, identifier and hold time is validation, in validate.ts.
 */
export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet My AS field: AS_TRANS (23456) when the real AS needs 4 octets. */
  myAs: number;
  holdTime: number;
  bgpIdentifier: string;
  capabilities: Capability[];
  parameters?: Array<{ type: number; value: Buffer }>;
}

const PARAMETER_CAPABILITIES = 2;
const EXTENDED_PARAMETERS = 255;
const FIXED_LENGTH = 10;

function parameters(message: OpenMessage): Array<{ type: number; value: Buffer }> {
  const capabilities = message.capabilities.length > 0 ? [{ type: PARAMETER_CAPABILITIES, value: encodeCapabilities(message.capabilities) }] : [];
  return [...capabilities, ...(message.parameters ?? [])];
}

/** Bytes of the parameters in the classic encoding (Type, 1-octet Length, Value). */
function parametersContentLength(list: Array<{ type: number; value: Buffer }>): number {
  return list.reduce((sum, parameter) => sum + 2 + parameter.value.length, 0);
}

function encodeParameters(list: Array<{ type: number; value: Buffer }>): Buffer {
  const extended = parametersContentLength(list) > 255;
  const encoded = Buffer.concat(
    list.map((parameter) => {
      const header = Buffer.alloc(extended ? 3 : 2);
      header.writeUInt8(checkUint('bgp-open', 'parameter type', parameter.type, 8));
      if (extended) header.writeUInt16BE(checkUint('bgp-open', 'parameter length', parameter.value.length, 16), 1);
      else header.writeUInt8(parameter.value.length, 1);
      return Buffer.concat([header, parameter.value]);
    }),
  );
  if (!extended) return Buffer.concat([Buffer.from([encoded.length]), encoded]);
  const prefix = Buffer.from([EXTENDED_PARAMETERS, EXTENDED_PARAMETERS, 0, 0]);
  prefix.writeUInt16BE(checkUint('bgp-open', 'optional parameters length', encoded.length, 16), 2);
  return Buffer.concat([prefix, encoded]);
}

export const open: Codec<OpenMessage> = {
  encode(message) {
    const fixed = Buffer.alloc(FIXED_LENGTH - 1);
    fixed.writeUInt8(checkUint('bgp-open', 'version', message.version, 8), 0);
    fixed.writeUInt16BE(checkUint('bgp-open', 'My AS', message.myAs, 16), 1);
    fixed.writeUInt16BE(checkUint('bgp-open', 'hold time', message.holdTime, 16), 3);
    ipv4ToBytes(message.bgpIdentifier).copy(fixed, 5);
    // OPEN is never an extended message (RFC 8654 4: only after both sent the capability).
    return wrapMessage(MessageType.Open, Buffer.concat([fixed, encodeParameters(parameters(message))]), MAX_MESSAGE_LENGTH, 'OPEN');
  },

  decode(buffer) {
    const reader = messageBody(buffer, MessageType.Open, MAX_MESSAGE_LENGTH, 'bgp-open');
    return asBgpError(ErrorCode.Open, 0, () => {
      const version = reader.u8('version');
      const myAs = reader.u16('My AS');
      const holdTime = reader.u16('hold time');
      const bgpIdentifier = ipv4FromBytes(reader.bytes(4, 'BGP identifier'));
      let length = reader.u8('optional parameters length');
      let extended = false;
      // RFC 9072 2: a first parameter type of 255 marks the extended encoding.
      if (length === EXTENDED_PARAMETERS && reader.remaining > 0 && buffer[reader.offset] === EXTENDED_PARAMETERS) {
        reader.skip(1, 'extended parameters marker');
        length = reader.u16('extended optional parameters length');
        extended = true;
      }
      if (length !== reader.remaining) reader.fail(`optional parameters length ${length}, ${reader.remaining} bytes follow`);
      const capabilities: Capability[] = [];
      const others: Array<{ type: number; value: Buffer }> = [];
      while (reader.remaining > 0) {
        const type = reader.u8('parameter type');
        const valueLength = extended ? reader.u16('parameter length') : reader.u8('parameter length');
        const value = reader.bytes(valueLength, `parameter ${type}`);
        if (type === PARAMETER_CAPABILITIES) capabilities.push(...decodeCapabilities(value));
        else others.push({ type, value });
      }
      return { type: 'open', version, myAs, holdTime, bgpIdentifier, capabilities, ...(others.length > 0 ? { parameters: others } : {}) };
    });
  },

  encodingLength(message) {
    const list = parameters(message);
    const content = parametersContentLength(list);
    const extended = content > 255;
    const parametersLength = extended ? 4 + content + list.length : 1 + content;
    return HEADER_LENGTH + FIXED_LENGTH - 1 + parametersLength;
  },
};

/** The speaker's AS: from the 4-octet AS capability when present (RFC 6793 4.1). */
export function openAsn(message: OpenMessage): number {
  const capability = message.capabilities.find((c) => c.type === 'four-octet-as');
  return capability?.type === 'four-octet-as' ? capability.asn : message.myAs;
}

/** What goes in My AS for `asn` (RFC 6793 4.1). */
export function myAsField(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}
