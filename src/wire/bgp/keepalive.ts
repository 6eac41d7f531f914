import type { Codec } from '../codec.js';
import { badMessageLength, messageBody, wrapMessage } from './header.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './registry.js';

/** KEEPALIVE (RFC 4271 4.4): the header alone, Length 19; anything else is Bad Message
 *  Length (6.1). */
export interface KeepaliveMessage {
  type: 'keepalive';
}

export const keepalive: Codec<KeepaliveMessage> = {
  encode() {
    return wrapMessage(MessageType.Keepalive, Buffer.alloc(0), MAX_MESSAGE_LENGTH, 'KEEPALIVE');
  },

  decode(buffer) {
    const reader = messageBody(buffer, MessageType.Keepalive, MAX_MESSAGE_LENGTH, 'bgp-keepalive');
    if (reader.remaining !== 0) throw badMessageLength(buffer.length, `a KEEPALIVE is ${HEADER_LENGTH} bytes, not ${buffer.length}`);
    return { type: 'keepalive' };
  },

  encodingLength() {
    return HEADER_LENGTH;
  },
};
