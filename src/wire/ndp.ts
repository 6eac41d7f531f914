import type { Codec } from './codec.js';
import { DecodeError } from './decode-error.js';
import { icmpv6, type Icmpv6Message } from './icmpv6.js';
import { ipv6FromBytes, ipv6ToBytes } from './ip-address.js';
import { macFromBytes, macToBytes } from './mac.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

/** An option this codec does not interpret, kept as found: `data` is what follows the
 *  Type and Length bytes (RFC 4861 4.6). */
export interface NdpOption {
  type: number;
  data: Buffer;
}

export interface NeighborSolicitation {
  type: 'neighbor-solicitation';
  target: string;
  sourceLinkLayer?: string;
  otherOptions?: NdpOption[];
}

export interface NeighborAdvertisement {
  type: 'neighbor-advertisement';
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: string;
  targetLinkLayer?: string;
  otherOptions?: NdpOption[];
}

export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

export const Icmpv6Type = { NeighborSolicitation: 135, NeighborAdvertisement: 136 } as const;

export function isNdpType(icmpv6Type: number): boolean {
  return icmpv6Type === Icmpv6Type.NeighborSolicitation || icmpv6Type === Icmpv6Type.NeighborAdvertisement;
}

/*
 * Neighbor Solicitation (RFC 4861 4.3):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |     Code      |          Checksum             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           Reserved                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   Target Address (128 bits)                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Options ...
 *
 * Neighbor Advertisement (RFC 4861 4.4): the same, with the first bits of Reserved as
 * flags:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|S|O|                     Reserved                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Option (RFC 4861 4.6), Length in units of 8 octets; for the Source (1) and Target (2)
 * Link-Layer Address options on Ethernet the address is a 6-byte MAC (RFC 2464 6):
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |    Length     |   Link-Layer Address / data ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The ICMPv6 checksum is left zero here: it needs the IPv6 addresses (see icmpv6.ts,
 * frame.ts). Reserved bits are sent as zero and ignored on receipt (4.3, 4.4). Hop limit
 * and source-address rules (7.1) are validation, left to the engines.
 */
export const NdpOptionType = { SourceLinkLayer: 1, TargetLinkLayer: 2 } as const;
/** The flags in the first word of an NA's body. */
export const NaFlag = { Router: 0x80000000, Solicited: 0x40000000, Override: 0x20000000 } as const;
const FIXED_BODY_LENGTH = 20;
const LINK_LAYER_OPTION_LENGTH = 8;

export const ndp: Codec<NdpMessage> = {
  encode(message) {
    const body = Buffer.alloc(ndp.encodingLength(message) - 4);
    if (message.type === 'neighbor-advertisement') {
      const flags =
        (message.router ? NaFlag.Router : 0) | (message.solicited ? NaFlag.Solicited : 0) | (message.override ? NaFlag.Override : 0);
      body.writeUInt32BE(flags >>> 0, 0);
    }
    ipv6ToBytes(message.target).copy(body, 4);
    let offset = FIXED_BODY_LENGTH;
    const linkLayer = linkLayerOption(message);
    if (linkLayer) {
      body.writeUInt8(linkLayer.type, offset);
      body.writeUInt8(1, offset + 1);
      macToBytes(linkLayer.mac).copy(body, offset + 2);
      offset += LINK_LAYER_OPTION_LENGTH;
    }
    for (const option of message.otherOptions ?? []) {
      body.writeUInt8(checkUint('ndp', 'option type', option.type, 8), offset);
      body.writeUInt8(optionLength(option) / 8, offset + 1);
      option.data.copy(body, offset + 2);
      offset += optionLength(option);
    }
    return icmpv6.encode({ type: icmpv6TypeOf(message), code: 0, checksum: 0, body });
  },

  decode(buffer) {
    return ndpFromIcmpv6(icmpv6.decode(buffer));
  },

  encodingLength(message) {
    const otherOptions = (message.otherOptions ?? []).reduce((sum, option) => sum + optionLength(option), 0);
    return 4 + FIXED_BODY_LENGTH + (linkLayerOption(message) ? LINK_LAYER_OPTION_LENGTH : 0) + otherOptions;
  },
};

/** Where the options of an NS or NA are: the wanted link-layer address's first byte, and every other option's data. */
export interface NdpOptionSpans {
  linkLayerAt?: number;
  others: { type: number; start: number; end: number }[];
}

/**
 * Walks the options (RFC 4861 4.6) in `buffer[start, end)` without copying them, so the
 * responder can find the asker's MAC on the bytes. Throws DecodeError for an option of
 * length 0 (4.6 has such packets discarded), one running past the end, or a link-layer
 * option of type `linkLayerType` that repeats or is not Ethernet-sized (RFC 2464 6).
 */
export function scanNdpOptions(buffer: Buffer, start: number, end: number, linkLayerType: number): NdpOptionSpans {
  const reader = new Reader(buffer, 'ndp', start, end);
  const spans: NdpOptionSpans = { others: [] };
  while (reader.remaining > 0) {
    const type = reader.u8('option type');
    const length = reader.u8('option length');
    if (length === 0) reader.fail(`option ${type} has length 0`);
    const dataStart = reader.offset;
    reader.skip(length * 8 - 2, `option ${type} data`);
    if (type !== linkLayerType) {
      spans.others.push({ type, start: dataStart, end: reader.offset });
    } else if (spans.linkLayerAt !== undefined) {
      reader.fail(`link-layer address option ${type} appears twice`);
    } else if (length !== 1) {
      reader.fail(`link-layer address option of ${length * 8} bytes, Ethernet needs 8 (RFC 2464 6)`);
    } else {
      spans.linkLayerAt = dataStart;
    }
  }
  return spans;
}

/** Interprets an ICMPv6 message already decoded (and checksum-checked) as NS or NA. */
export function ndpFromIcmpv6(message: Icmpv6Message): NdpMessage {
  const reader = new Reader(message.body, 'ndp');
  if (!isNdpType(message.type)) reader.fail(`ICMPv6 type ${message.type} is neither NS (135) nor NA (136)`);
  if (message.code !== 0) reader.fail(`ICMPv6 code ${message.code}, NS/NA require 0 (RFC 4861 7.1)`);
  const flags = reader.u32('flags and reserved');
  const target = ipv6FromBytes(reader.bytes(16, 'target address'));
  const wantedLinkLayer =
    message.type === Icmpv6Type.NeighborSolicitation ? NdpOptionType.SourceLinkLayer : NdpOptionType.TargetLinkLayer;
  const options = scanNdpOptions(message.body, reader.offset, message.body.length, wantedLinkLayer);
  const linkLayer = options.linkLayerAt === undefined ? undefined : macFromBytes(message.body.subarray(options.linkLayerAt, options.linkLayerAt + 6));
  const otherOptions = options.others.map(({ type, start, end }) => ({ type, data: Buffer.from(message.body.subarray(start, end)) }));
  const extras = otherOptions.length > 0 ? { otherOptions } : {};
  if (message.type === Icmpv6Type.NeighborSolicitation) {
    return { type: 'neighbor-solicitation', target, ...(linkLayer ? { sourceLinkLayer: linkLayer } : {}), ...extras };
  }
  return {
    type: 'neighbor-advertisement',
    router: (flags & NaFlag.Router) !== 0,
    solicited: (flags & NaFlag.Solicited) !== 0,
    override: (flags & NaFlag.Override) !== 0,
    target,
    ...(linkLayer ? { targetLinkLayer: linkLayer } : {}),
    ...extras,
  };
}

function icmpv6TypeOf(message: NdpMessage): number {
  return message.type === 'neighbor-solicitation' ? Icmpv6Type.NeighborSolicitation : Icmpv6Type.NeighborAdvertisement;
}

function linkLayerOption(message: NdpMessage): { type: number; mac: string } | undefined {
  if (message.type === 'neighbor-solicitation') {
    return message.sourceLinkLayer === undefined ? undefined : { type: NdpOptionType.SourceLinkLayer, mac: message.sourceLinkLayer };
  }
  return message.targetLinkLayer === undefined ? undefined : { type: NdpOptionType.TargetLinkLayer, mac: message.targetLinkLayer };
}

/** Whole option size in bytes; RFC 4861 4.6 needs a multiple of 8, at most 255 units. */
function optionLength(option: NdpOption): number {
  const length = option.data.length + 2;
  if (length % 8 !== 0 || length > 255 * 8) {
    throw new DecodeError('ndp', `option ${option.type} would be ${length} bytes, not a multiple of 8 up to 2040`);
  }
  return length;
}
