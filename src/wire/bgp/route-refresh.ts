import type { Codec } from '../codec.js';
import { Reader } from '../reader.js';
import { checkUint } from '../uint-field.js';
import { asBgpError, BgpError } from './bgp-error.js';
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
 * Route Refresh (EoRR). A request may carry Outbound Route Filters (RFC 5291):
 *
 * +--------------------------------------------------+
 * | When-to-refresh (1 octet): 1 IMMEDIATE, 2 DEFER  |
 * +--------------------------------------------------+
 * | ORF Type (1) | Length of ORF entries (2)         |  one or more
 * | ORF entries (variable)                           |
 * +--------------------------------------------------+
 *
 * A BoRR/EoRR of another length, a request shorter than 4 octets, or ORFs that do not add
 * up are ROUTE-REFRESH Message Error / Invalid Message Length with the whole message as
 * data (RFC 7313 5).
 */
export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  subtype: number;
  /** RFC 5291: the filters sent with a request. */
  orf?: OutboundRouteFilters;
}

export interface OutboundRouteFilters {
  /** 1 IMMEDIATE, 2 DEFER. */
  whenToRefresh: number;
  /** Per ORF Type, its entries as received (format.ts reads the Address Prefix ORF). */
  filters: Array<{ orfType: number; entries: Buffer }>;
}

export const RouteRefreshSubtype = { Request: 0, BeginningOfRouteRefresh: 1, EndOfRouteRefresh: 2 } as const;

const BODY_LENGTH = 4;

function encodeOrf(orf: OutboundRouteFilters): Buffer {
  const filters = orf.filters.map(({ orfType, entries }) => {
    const header = Buffer.alloc(3);
    header.writeUInt8(checkUint('bgp-route-refresh', 'ORF type', orfType, 8));
    header.writeUInt16BE(checkUint('bgp-route-refresh', 'ORF length', entries.length, 16), 1);
    return Buffer.concat([header, entries]);
  });
  return Buffer.concat([Buffer.from([checkUint('bgp-route-refresh', 'when-to-refresh', orf.whenToRefresh, 8)]), ...filters]);
}

/** When-to-refresh and one or more ORFs (RFC 5291). */
function decodeOrf(reader: Reader): OutboundRouteFilters {
  const whenToRefresh = reader.u8('when-to-refresh');
  if (whenToRefresh !== 1 && whenToRefresh !== 2) reader.fail(`when-to-refresh ${whenToRefresh}, expected 1 (immediate) or 2 (defer)`);
  const filters: OutboundRouteFilters['filters'] = [];
  while (reader.remaining > 0) {
    const orfType = reader.u8('ORF type');
    filters.push({ orfType, entries: reader.bytes(reader.u16('ORF length'), `ORF type ${orfType} entries`) });
  }
  if (filters.length === 0) reader.fail('when-to-refresh without an ORF');
  return { whenToRefresh, filters };
}

export const routeRefresh: Codec<RouteRefreshMessage> = {
  encode(message) {
    const body = Buffer.alloc(BODY_LENGTH);
    body.writeUInt16BE(checkUint('bgp-route-refresh', 'AFI', message.afi, 16), 0);
    body.writeUInt8(checkUint('bgp-route-refresh', 'subtype', message.subtype, 8), 2);
    body.writeUInt8(checkUint('bgp-route-refresh', 'SAFI', message.safi, 8), 3);
    const orf = message.orf === undefined ? [] : [encodeOrf(message.orf)];
    return wrapMessage(MessageType.RouteRefresh, Buffer.concat([body, ...orf]), MAX_MESSAGE_LENGTH, 'ROUTE-REFRESH');
  },

  decode(buffer) {
    const reader = messageBody(buffer, MessageType.RouteRefresh, MAX_MESSAGE_LENGTH, 'bgp-route-refresh');
    const invalid = (reason: string): BgpError =>
      new BgpError(ErrorCode.RouteRefresh, RouteRefreshSubcode.InvalidMessageLength, reason, { data: Buffer.from(buffer) });
    if (reader.remaining < BODY_LENGTH) throw invalid(`ROUTE-REFRESH of ${buffer.length} bytes, at least 23 expected`);
    const afi = reader.u16('AFI');
    const subtype = reader.u8('subtype');
    const safi = reader.u8('SAFI');
    if (reader.remaining === 0) return { type: 'route-refresh', afi, safi, subtype };
    if (subtype !== RouteRefreshSubtype.Request) throw invalid(`${subtype === 1 ? 'BoRR' : subtype === 2 ? 'EoRR' : `subtype ${subtype}`} of ${buffer.length} bytes, expected 23`);
    const orf = asBgpError(ErrorCode.RouteRefresh, RouteRefreshSubcode.InvalidMessageLength, () => decodeOrf(reader), { data: Buffer.from(buffer) });
    return { type: 'route-refresh', afi, safi, subtype, orf };
  },

  encodingLength(message) {
    return HEADER_LENGTH + BODY_LENGTH + (message.orf === undefined ? 0 : 1 + message.orf.filters.reduce((sum, filter) => sum + 3 + filter.entries.length, 0));
  },
};
