import type { Codec } from '../codec.js';
import { decodeHeader } from './header.js';
import { keepalive, type KeepaliveMessage } from './keepalive.js';
import { notification, type NotificationMessage } from './notification.js';
import { open, type OpenMessage } from './open.js';
import { maxMessageLength, MessageType, type SessionCodecContext } from './registry.js';
import { routeRefresh, type RouteRefreshMessage } from './route-refresh.js';
import { decodeUpdate, encodeUpdate, updateCodec, type UpdateMessage } from './update.js';

/** Any BGP message, told apart by `type`. */
export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/**
 * One whole message as the framer hands it out -> the message. Throws BgpError only
 * (header errors, and whatever the message's own decoder refuses); UPDATE errors RFC 7606
 * lets the session survive are in the UPDATE's `errors`.
 */
export function decodeMessage(buffer: Buffer, context: SessionCodecContext): BgpMessage {
  const { type } = decodeHeader(buffer, maxMessageLength(context));
  switch (type) {
    case MessageType.Open:
      return open.decode(buffer);
    case MessageType.Update:
      return decodeUpdate(buffer, context);
    case MessageType.Notification:
      return notification.decode(buffer);
    case MessageType.Keepalive:
      return keepalive.decode(buffer);
    default:
      return routeRefresh.decode(buffer);
  }
}

/** The message's bytes; MessageTooLongError over the context's limit. */
export function encodeMessage(message: BgpMessage, context: SessionCodecContext): Buffer {
  switch (message.type) {
    case 'open':
      return open.encode(message);
    case 'update':
      return encodeUpdate(message, context);
    case 'notification':
      return notification.encode(message);
    case 'keepalive':
      return keepalive.encode(message);
    case 'route-refresh':
      return routeRefresh.encode(message);
  }
}

/** The codec triad over every message type, for one session context. */
export function bgpMessage(context: SessionCodecContext): Codec<BgpMessage> {
  const update = updateCodec(context);
  return {
    encode: (message) => encodeMessage(message, context),
    decode: (buffer) => decodeMessage(buffer, context),
    encodingLength(message) {
      switch (message.type) {
        case 'open':
          return open.encodingLength(message);
        case 'update':
          return update.encodingLength(message);
        case 'notification':
          return notification.encodingLength(message);
        case 'keepalive':
          return keepalive.encodingLength(message);
        case 'route-refresh':
          return routeRefresh.encodingLength(message);
      }
    },
  };
}
