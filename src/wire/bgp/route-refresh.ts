import type { Codec } from '../codec.js';
import { checkUint } from '../uint-field.js';
import { BgpError } from './bgp-error.js';
import { messageBody, wrapMessage } from './header.js';
import { ErrorCode, RouteRefreshSubcode } from './notification-codes.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType } from './registry.js';

/*
 * ROUTE-REFRESH (RFC 2918 3; the reserved octet became the subtype in RFC 7313 3.2):
 *
 *  0       7      15      23      31
 * +-------+-------+-------+-------+
 * |      AFI      |Subtype| SAFI  |
 * +-------+-------+-------+-------+
 *
 * Subtype 0 is a plain refresh request, 1 Beginning of Route Refresh (BoRR), 2 End of
 * Route Refresh (EoRR). Any other length is ROUTE-REFRESH Message Error / Invalid Message
 * Length with the whole message as data (RFC 7313 5); ORF (RFC 5291) is not supported.
 */
export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  subtype: number;
}

export const RouteRefreshSubtype = { Request: 0, BeginningOfRouteRefresh: 1, EndOfRouteRefresh: 2 } as const;

const BODY_LENGTH = 4;

export const routeRefresh: Codec<RouteRefreshMessage> = {
  encode(message) {
    const body = Buffer.alloc(BODY_LENGTH);
    body.writeUInt16BE(checkUint('bgp-route-refresh', 'AFI', message.afi, 16), 0);
    body.writeUInt8(checkUint('bgp-route-refresh', 'subtype', message.subtype, 8), 2);
    body.writeUInt8(checkUint('bgp-route-refresh', 'SAFI', message.safi, 8), 3);
    return wrapMessage(MessageType.RouteRefresh, body, MAX_MESSAGE_LENGTH, 'ROUTE-REFRESH');
  },

  decode(buffer) {
    const reader = messageBody(buffer, MessageType.RouteRefresh, MAX_MESSAGE_LENGTH, 'bgp-route-refresh');
    if (reader.remaining !== BODY_LENGTH) {
      throw new BgpError(ErrorCode.RouteRefresh, RouteRefreshSubcode.InvalidMessageLength, `ROUTE-REFRESH of ${buffer.length} bytes, expected 23`, {
        data: Buffer.from(buffer),
      });
    }
    const afi = reader.u16('AFI');
    const subtype = reader.u8('subtype');
    return { type: 'route-refresh', afi, safi: reader.u8('SAFI'), subtype };
  },

  encodingLength() {
    return HEADER_LENGTH + BODY_LENGTH;
  },
};
