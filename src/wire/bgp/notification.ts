import type { Codec } from '../codec.js';
import { checkUint } from '../uint-field.js';
import { asBgpError } from './bgp-error.js';
import { badMessageLength, messageBody, wrapMessage } from './header.js';
import { CeaseSubcode, ErrorCode } from './notification-codes.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './registry.js';

export { describeNotification } from './notification-codes.js';

/*
 * NOTIFICATION (RFC 4271 4.5), after the header:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Error code    | Error subcode |   Data (variable)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * For Cease / Administrative Shutdown or Administrative Reset, Data may hold a Shutdown
 * Communication (RFC 9003 2): a length octet and up to 255 octets of UTF-8.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Error code 6  |    Subcode    |    Length     |     ...       \
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+               /
 * \                 Shutdown Communication ...                    \
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Decoding sets `communication` only when Data is exactly that, valid UTF-8 (the RFC has
 * a malformed one ignored, never the NOTIFICATION); the raw `data` is always there. When
 * encoding, `communication` (if set) replaces `data`.
 */
export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data?: Buffer;
  communication?: string;
}

export const MAX_COMMUNICATION_LENGTH = 255;

function hasCommunication(code: number, subcode: number): boolean {
  return code === ErrorCode.Cease && (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset);
}

export function encodeCommunication(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  checkUint('bgp-notification', 'shutdown communication length', utf8.length, 8);
  return Buffer.concat([Buffer.from([utf8.length]), utf8]);
}

function decodeCommunication(data: Buffer): string | undefined {
  if (data.length === 0 || data[0] !== data.length - 1) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(1));
  } catch {
    return undefined;
  }
}

function dataOf(message: NotificationMessage): Buffer {
  return message.communication !== undefined ? encodeCommunication(message.communication) : (message.data ?? Buffer.alloc(0));
}

export const notification: Codec<NotificationMessage> = {
  encode(message) {
    const head = Buffer.from([checkUint('bgp-notification', 'code', message.code, 8), checkUint('bgp-notification', 'subcode', message.subcode, 8)]);
    return wrapMessage(MessageType.Notification, Buffer.concat([head, dataOf(message)]), MAX_MESSAGE_LENGTH, 'NOTIFICATION');
  },

  decode(buffer) {
    const reader = messageBody(buffer, MessageType.Notification, MAX_MESSAGE_LENGTH, 'bgp-notification');
    if (reader.remaining < 2) throw badMessageLength(buffer.length, 'a NOTIFICATION needs code and subcode');
    return asBgpError(ErrorCode.MessageHeader, 0, () => {
      const code = reader.u8('error code');
      const subcode = reader.u8('error subcode');
      const data = reader.rest();
      const communication = hasCommunication(code, subcode) ? decodeCommunication(data) : undefined;
      return { type: 'notification', code, subcode, ...(data.length > 0 ? { data } : {}), ...(communication !== undefined ? { communication } : {}) };
    });
  },

  encodingLength(message) {
    return HEADER_LENGTH + 2 + dataOf(message).length;
  },
};
