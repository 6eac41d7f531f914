import type { Codec } from '../codec.js';
import { DecodeError } from '../decode-error.js';
import type { Reader } from '../reader.js';
import { type AnyPathAttribute, AttributeCode, attributeCode, decodeAttributes, encodeAttribute } from './attributes.js';
import { BgpError, ErrorAction } from './bgp-error.js';
import { messageBody, wrapMessage } from './header.js';
import { ErrorCode, UpdateSubcode } from './notification-codes.js';
import { decodeNlri, encodeNlri, nlriEncodingLength } from './nlri.js';
import { Afi, type Family, HEADER_LENGTH, IPV4_UNICAST, maxMessageLength, MessageType, type SessionCodecContext } from './registry.js';

/*
 * UPDATE (RFC 4271 4.3), after the header:
 *
 * +-----------------------------------------------------+
 * |   Withdrawn Routes Length (2 octets)                |
 * +-----------------------------------------------------+
 * |   Withdrawn Routes (variable)                       |
 * +-----------------------------------------------------+
 * |   Total Path Attribute Length (2 octets)            |
 * +-----------------------------------------------------+
 * |   Path Attributes (variable)                        |
 * +-----------------------------------------------------+
 * |   Network Layer Reachability Information (variable) |
 * +-----------------------------------------------------+
 *
 * Withdrawn Routes and NLRI are IPv4 prefixes; other families travel in the
 * MP_REACH_NLRI / MP_UNREACH_NLRI attributes (RFC 4760). Path attributes: attributes.ts.
 *
 * Decoding follows RFC 7606: errors that let the session live are recorded in `errors`
 * (each with its action) and applied — a discarded attribute is gone from `attributes`;
 * treat-as-withdraw (or afi-safi-disable) turns every route the UPDATE announced into a
 * withdrawal: NLRI into `withdrawn`, MP_REACH prefixes into MP_UNREACH, no other
 * attributes. Errors that need a session reset throw BgpError: lengths of Withdrawn Routes
 * or Total Path Attribute that overrun the message, NLRI syntax (RFC 7606 5.3), a repeated
 * MP_REACH/MP_UNREACH (3g).
 */
export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes, e.g. "203.0.113.5/32". */
  withdrawn: string[];
  /** In the order received (or to be sent). */
  attributes: AnyPathAttribute[];
  /** IPv4 prefixes announced with `attributes`. */
  nlri: string[];
  /** Set by decoding only: the RFC 7606 errors survived, worst action first. */
  errors?: BgpError[];
}

const FIXED_LENGTH = 4;

function encodeBody(message: UpdateMessage, context: SessionCodecContext): Buffer {
  const withdrawn = encodeNlri(Afi.Ipv4, message.withdrawn);
  const attributes = Buffer.concat(message.attributes.map((attribute) => encodeAttribute(attribute, context)));
  const lengths = Buffer.alloc(2);
  lengths.writeUInt16BE(attributes.length);
  const withdrawnLength = Buffer.alloc(2);
  withdrawnLength.writeUInt16BE(withdrawn.length);
  return Buffer.concat([withdrawnLength, withdrawn, lengths, attributes, encodeNlri(Afi.Ipv4, message.nlri)]);
}

/** Reads a 2-octet length and a sub-reader of that many bytes; an overrun is a session
 *  reset (RFC 7606 5.3 / 4: the NLRI cannot be located). */
function lengthPrefixed(reader: Reader, what: string): Reader {
  if (reader.remaining < 2) {
    throw new BgpError(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, `${what} length is missing`, { offset: reader.offset });
  }
  const length = reader.u16();
  if (length > reader.remaining) {
    throw new BgpError(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, `${what} length ${length} overruns the ${reader.remaining} bytes left`, {
      offset: reader.offset,
    });
  }
  return reader.sub(length);
}

function nlriOrReset(reader: Reader, what: string): string[] {
  try {
    return decodeNlri(reader, Afi.Ipv4);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw new BgpError(ErrorCode.Update, UpdateSubcode.InvalidNetworkField, `${what}: ${error.detail}`, { offset: error.offset });
  }
}

/** RFC 7606 3d: ORIGIN and AS_PATH with any reachability, NEXT_HOP with IPv4 NLRI
 *  (RFC 4760 makes it optional when only MP_REACH announces). */
function missingMandatory(message: UpdateMessage): BgpError | undefined {
  const announces = message.nlri.length > 0 || message.attributes.some((attribute) => attribute.type === 'mp-reach');
  if (!announces) return undefined;
  const codes = new Set(message.attributes.map(attributeCode));
  const required = [AttributeCode.Origin, AttributeCode.AsPath, ...(message.nlri.length > 0 ? [AttributeCode.NextHop] : [])];
  const missing = required.find((code) => !codes.has(code));
  if (missing === undefined) return undefined;
  return new BgpError(ErrorCode.Update, UpdateSubcode.MissingWellKnownAttribute, `mandatory attribute ${missing} is missing`, {
    data: Buffer.from([missing]),
    action: ErrorAction.TreatAsWithdraw,
  });
}

/** RFC 7606 2: every route the UPDATE announced is withdrawn instead. */
function treatAsWithdraw(message: UpdateMessage): UpdateMessage {
  const unreach = message.attributes.filter((attribute) => attribute.type === 'mp-unreach');
  for (const attribute of message.attributes) {
    if (attribute.type !== 'mp-reach') continue;
    const existing = unreach.find((candidate) => candidate.type === 'mp-unreach' && candidate.afi === attribute.afi && candidate.safi === attribute.safi);
    if (existing?.type === 'mp-unreach') existing.prefixes.push(...attribute.prefixes);
    else unreach.push({ type: 'mp-unreach', afi: attribute.afi, safi: attribute.safi, prefixes: [...attribute.prefixes] });
  }
  return { ...message, withdrawn: [...message.withdrawn, ...message.nlri], attributes: unreach, nlri: [] };
}

/** Decodes one whole UPDATE message (header included) in a session's context. */
export function decodeUpdate(buffer: Buffer, context: SessionCodecContext): UpdateMessage {
  const reader = messageBody(buffer, MessageType.Update, maxMessageLength(context), 'bgp-update');
  const withdrawn = nlriOrReset(lengthPrefixed(reader, 'Withdrawn Routes'), 'Withdrawn Routes');
  const { attributes, errors } = decodeAttributes(lengthPrefixed(reader, 'Total Path Attribute'), context);
  const nlri = nlriOrReset(reader, 'NLRI');
  let message: UpdateMessage = { type: 'update', withdrawn, attributes, nlri };
  const missing = errors.some((error) => error.action >= ErrorAction.TreatAsWithdraw) ? undefined : missingMandatory(message);
  if (missing) errors.push(missing);
  if (errors.length === 0) return message;
  errors.sort((a, b) => b.action - a.action);
  if (errors[0]!.action >= ErrorAction.TreatAsWithdraw) message = treatAsWithdraw(message);
  return { ...message, errors };
}

export function encodeUpdate(message: UpdateMessage, context: SessionCodecContext): Buffer {
  return wrapMessage(MessageType.Update, encodeBody(message, context), maxMessageLength(context), 'UPDATE');
}

/** The codec triad for UPDATEs of one session context. */
export function updateCodec(context: SessionCodecContext): Codec<UpdateMessage> {
  return {
    encode: (message) => encodeUpdate(message, context),
    decode: (buffer) => decodeUpdate(buffer, context),
    encodingLength: (message) => {
      const attributes = message.attributes.reduce((sum, attribute) => sum + encodeAttribute(attribute, context).length, 0);
      return HEADER_LENGTH + FIXED_LENGTH + nlriEncodingLength(message.withdrawn) + attributes + nlriEncodingLength(message.nlri);
    },
  };
}

/** The worst RFC 7606 action a decoded UPDATE survived, if any. */
export function updateAction(message: UpdateMessage): ErrorAction | undefined {
  return message.errors?.[0]?.action;
}

/**
 * The family whose End-of-RIB marker this is (RFC 4724 2): an UPDATE with nothing in it
 * for IPv4 unicast, one holding only an empty MP_UNREACH_NLRI for the others.
 */
export function endOfRib(message: UpdateMessage): Family | undefined {
  if (message.withdrawn.length > 0 || message.nlri.length > 0 || message.errors) return undefined;
  if (message.attributes.length === 0) return IPV4_UNICAST;
  const [only] = message.attributes;
  if (message.attributes.length === 1 && only?.type === 'mp-unreach' && only.prefixes.length === 0) return { afi: only.afi, safi: only.safi };
  return undefined;
}

export function endOfRibUpdate(family: Family): UpdateMessage {
  if (family.afi === IPV4_UNICAST.afi && family.safi === IPV4_UNICAST.safi) return { type: 'update', withdrawn: [], attributes: [], nlri: [] };
  return { type: 'update', withdrawn: [], attributes: [{ type: 'mp-unreach', afi: family.afi, safi: family.safi, prefixes: [] }], nlri: [] };
}
