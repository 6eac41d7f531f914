import type { Codec } from '../codec.js';
import { DecodeError } from '../decode-error.js';
import type { Reader } from '../reader.js';
import { type AnyPathAttribute, AttributeCode, attributeCode, decodeAttributes, encodeAttribute, pathIdsToWrite } from './attributes.js';
import { BgpError, ErrorAction } from './bgp-error.js';
import { messageBody, wrapMessage } from './header.js';
import { ErrorCode, UpdateSubcode } from './notification-codes.js';
import { addPathHint, decodeNlri, encodeNlri, type Nlri, nlriEncodingLength } from './nlri.js';
import { Afi, type Family, hasAddPath, HEADER_LENGTH, IPV4_UNICAST, maxMessageLength, MessageType, sameFamily, type SessionCodecContext } from './registry.js';

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
 * Withdrawn Routes and NLRI are IPv4 prefixes (each after a 4-octet path id when ADD-PATH
 * is on for IPv4 unicast, RFC 7911 3); other families travel in the MP_REACH_NLRI /
 * MP_UNREACH_NLRI attributes (RFC 4760). Path attributes: attributes.ts.
 *
 * Decoding follows RFC 7606: errors that let the session live are recorded in `errors`
 * (each with its action) and applied — a discarded attribute is gone from `attributes`;
 * treat-as-withdraw turns every route the UPDATE announced into a withdrawal: NLRI into
 * `withdrawn`, MP_REACH prefixes into MP_UNREACH, no other attributes; afi-safi-disable
 * does that for its family only (the NLRI when it is IPv4 unicast), and the rest of the
 * UPDATE stands. A family vipkit does not decode is no error at all (RFC 4760 and 7606
 * 5.2 let the session go on). Errors that need a session reset throw BgpError: lengths of
 * Withdrawn Routes or Total Path Attribute that overrun the message, NLRI syntax (RFC 7606
 * 5.3), a repeated MP_REACH/MP_UNREACH (3g).
 */
export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes, e.g. "203.0.113.5/32". */
  withdrawn: string[];
  /** In the order received (or to be sent). */
  attributes: AnyPathAttribute[];
  /** IPv4 prefixes announced with `attributes`. */
  nlri: string[];
  /** With ADD-PATH for IPv4 unicast (RFC 7911): the path id of each prefix, in order. */
  withdrawnPathIds?: number[];
  nlriPathIds?: number[];
  /** Set by decoding only: the RFC 7606 errors survived, worst action first. */
  errors?: BgpError[];
}

const FIXED_LENGTH = 4;

function encodeBody(message: UpdateMessage, context: SessionCodecContext): Buffer {
  const withdrawn = encodeNlri(Afi.Ipv4, message.withdrawn, pathIdsToWrite(message.withdrawnPathIds, IPV4_UNICAST, context));
  const attributes = Buffer.concat(message.attributes.map((attribute) => encodeAttribute(attribute, context)));
  const lengths = Buffer.alloc(2);
  lengths.writeUInt16BE(attributes.length);
  const withdrawnLength = Buffer.alloc(2);
  withdrawnLength.writeUInt16BE(withdrawn.length);
  const nlri = encodeNlri(Afi.Ipv4, message.nlri, pathIdsToWrite(message.nlriPathIds, IPV4_UNICAST, context));
  return Buffer.concat([withdrawnLength, withdrawn, lengths, attributes, nlri]);
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

function nlriOrReset(buffer: Buffer, reader: Reader, what: string, context: SessionCodecContext): Nlri {
  const field = buffer.subarray(reader.offset, reader.offset + reader.remaining);
  const addPath = hasAddPath(context, IPV4_UNICAST);
  try {
    return decodeNlri(reader, Afi.Ipv4, addPath);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    const hint = addPath ? '' : addPathHint(field, Afi.Ipv4);
    throw new BgpError(ErrorCode.Update, UpdateSubcode.InvalidNetworkField, `${what}: ${error.detail}${hint}`, { offset: error.offset });
  }
}

/** RFC 7606 3d: ORIGIN and AS_PATH (or BGPsec_PATH, which stands in for it, RFC 8205 4)
 *  with any reachability, NEXT_HOP with IPv4 NLRI (RFC 4760 makes it optional when only
 *  MP_REACH announces). */
function missingMandatory(message: UpdateMessage): BgpError | undefined {
  const announces = message.nlri.length > 0 || message.attributes.some((attribute) => attribute.type === 'mp-reach' || attribute.type === 'mp-reach-undecoded');
  if (!announces) return undefined;
  const codes = new Set(message.attributes.map(attributeCode));
  if (codes.has(AttributeCode.BgpsecPath)) codes.add(AttributeCode.AsPath);
  const required = [AttributeCode.Origin, AttributeCode.AsPath, ...(message.nlri.length > 0 ? [AttributeCode.NextHop] : [])];
  const missing = required.find((code) => !codes.has(code));
  if (missing === undefined) return undefined;
  return new BgpError(ErrorCode.Update, UpdateSubcode.MissingWellKnownAttribute, `mandatory attribute ${missing} is missing`, {
    data: Buffer.from([missing]),
    action: ErrorAction.TreatAsWithdraw,
  });
}

/** RFC 7606 2: every route the UPDATE announced is withdrawn instead; a family not
 *  decoded keeps its NLRI octets, now as withdrawn. */
function treatAsWithdraw(message: UpdateMessage): UpdateMessage {
  const unreach = message.attributes.filter((attribute) => attribute.type === 'mp-unreach' || attribute.type === 'mp-unreach-undecoded');
  for (const attribute of message.attributes) {
    if (attribute.type === 'mp-reach-undecoded') unreach.push({ type: 'mp-unreach-undecoded', afi: attribute.afi, safi: attribute.safi, nlri: attribute.nlri });
    if (attribute.type !== 'mp-reach') continue;
    const existing = unreach.find((candidate) => candidate.type === 'mp-unreach' && sameFamily(candidate, attribute));
    if (existing?.type === 'mp-unreach') {
      existing.prefixes.push(...attribute.prefixes);
      if (attribute.pathIds) existing.pathIds?.push(...attribute.pathIds);
    } else {
      unreach.push({ type: 'mp-unreach', afi: attribute.afi, safi: attribute.safi, prefixes: [...attribute.prefixes], ...(attribute.pathIds ? { pathIds: [...attribute.pathIds] } : {}) });
    }
  }
  return { ...withdrawNlri(message), attributes: unreach };
}

/** The IPv4 unicast NLRI, withdrawn instead of announced (path ids, when the fields have
 *  them, move along). */
function withdrawNlri(message: UpdateMessage): UpdateMessage {
  const { nlriPathIds, withdrawnPathIds } = message;
  const pathIds = nlriPathIds && withdrawnPathIds ? { withdrawnPathIds: [...withdrawnPathIds, ...nlriPathIds], nlriPathIds: [] } : {};
  return { ...message, withdrawn: [...message.withdrawn, ...message.nlri], nlri: [], ...pathIds };
}

/** Decodes one whole UPDATE message (header included) in a session's context. */
export function decodeUpdate(buffer: Buffer, context: SessionCodecContext): UpdateMessage {
  const reader = messageBody(buffer, MessageType.Update, maxMessageLength(context), 'bgp-update');
  const withdrawn = nlriOrReset(buffer, lengthPrefixed(reader, 'Withdrawn Routes'), 'Withdrawn Routes', context);
  const { attributes, errors } = decodeAttributes(lengthPrefixed(reader, 'Total Path Attribute'), context);
  const nlri = nlriOrReset(buffer, reader, 'NLRI', context);
  let message: UpdateMessage = {
    type: 'update',
    withdrawn: withdrawn.prefixes,
    attributes,
    nlri: nlri.prefixes,
    ...(withdrawn.pathIds ? { withdrawnPathIds: withdrawn.pathIds } : {}),
    ...(nlri.pathIds ? { nlriPathIds: nlri.pathIds } : {}),
  };
  const withdrawAll = errors.some((error) => error.action === ErrorAction.TreatAsWithdraw);
  const missing = withdrawAll ? undefined : missingMandatory(message);
  if (missing) errors.push(missing);
  if (errors.length === 0) return message;
  errors.sort((a, b) => b.action - a.action);
  if (withdrawAll || missing) message = treatAsWithdraw(message);
  else if (errors.some((error) => error.action === ErrorAction.AfiSafiDisable && error.family && sameFamily(error.family, IPV4_UNICAST))) message = withdrawNlri(message);
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
      const addPath = hasAddPath(context, IPV4_UNICAST);
      return HEADER_LENGTH + FIXED_LENGTH + nlriEncodingLength(message.withdrawn, addPath) + attributes + nlriEncodingLength(message.nlri, addPath);
    },
  };
}

/** The worst RFC 7606 action a decoded UPDATE survived, if any. */
export function updateAction(message: UpdateMessage): ErrorAction | undefined {
  return message.errors?.[0]?.action;
}

/**
 * The family whose End-of-RIB marker this is (RFC 4724 2): an UPDATE with nothing in it
 * for IPv4 unicast, one holding only an empty MP_UNREACH_NLRI for the others (decoded or not).
 */
export function endOfRib(message: UpdateMessage): Family | undefined {
  if (message.withdrawn.length > 0 || message.nlri.length > 0 || message.errors) return undefined;
  if (message.attributes.length === 0) return IPV4_UNICAST;
  const [only] = message.attributes;
  if (message.attributes.length !== 1) return undefined;
  if ((only?.type === 'mp-unreach' && only.prefixes.length === 0) || (only?.type === 'mp-unreach-undecoded' && only.nlri.length === 0)) return { afi: only.afi, safi: only.safi };
  return undefined;
}

export function endOfRibUpdate(family: Family): UpdateMessage {
  if (family.afi === IPV4_UNICAST.afi && family.safi === IPV4_UNICAST.safi) return { type: 'update', withdrawn: [], attributes: [], nlri: [] };
  return { type: 'update', withdrawn: [], attributes: [{ type: 'mp-unreach', afi: family.afi, safi: family.safi, prefixes: [] }], nlri: [] };
}
