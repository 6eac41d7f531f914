/**
 * MRT records (RFC 6396) as `watch --bgp` events: a BGP4MP message is what a capture of
 * the session would have shown (it goes through BgpWatch, with the same per-direction
 * reading), a state change is `bgp-state`, and each route of a TABLE_DUMP_V2 RIB dump is
 * `bgp-rib`: a prefix as one peer announced it, with its attributes shown as an UPDATE's.
 */
import { DecodeError } from '../wire/decode-error.js';
import { AttributeCode, AttributeFlag, decodeAttributes, typeFlagsOf } from '../wire/bgp/attributes.js';
import { decodeNlri } from '../wire/bgp/nlri.js';
import { IPV4_UNICAST, IPV6_UNICAST, routeAttributes, routeJson, type Family, type RouteAttributes, type SessionCodecContext } from '../wire/bgp/index.js';
import { ipv4FromBytes, ipv6FromBytes } from '../wire/ip-address.js';
import { Reader } from '../wire/reader.js';
import type { BgpEvent, BgpWatch } from './bgp-watch.js';
import { MrtType, type MrtRecord } from './mrt-file.js';

export interface MrtCounts {
  /** RIB entries read from TABLE_DUMP_V2 dumps. */
  ribEntries: number;
  /** Records of a type or subtype vipkit does not read (OSPF, IS-IS, TABLE_DUMP v1, multicast RIBs...). */
  unsupported: number;
  /** Records whose body did not decode; skipped. */
  malformed: number;
}

/** BGP4MP subtypes (RFC 6396 4.4, RFC 8050 3). */
const Bgp4mpSubtype = {
  StateChange: 0,
  Message: 1,
  MessageAs4: 4,
  StateChangeAs4: 5,
  MessageLocal: 6,
  MessageAs4Local: 7,
  MessageAddPath: 8,
  MessageAs4AddPath: 9,
  MessageLocalAddPath: 10,
  MessageAs4LocalAddPath: 11,
} as const;
const AS4_SUBTYPES = new Set<number>([Bgp4mpSubtype.MessageAs4, Bgp4mpSubtype.StateChangeAs4, Bgp4mpSubtype.MessageAs4Local, Bgp4mpSubtype.MessageAs4AddPath, Bgp4mpSubtype.MessageAs4LocalAddPath]);
/** Messages we sent rather than received: the dump's "local" end is their sender. */
const LOCAL_SUBTYPES = new Set<number>([Bgp4mpSubtype.MessageLocal, Bgp4mpSubtype.MessageAs4Local, Bgp4mpSubtype.MessageLocalAddPath, Bgp4mpSubtype.MessageAs4LocalAddPath]);
const MESSAGE_SUBTYPES = new Set<number>([...LOCAL_SUBTYPES, Bgp4mpSubtype.Message, Bgp4mpSubtype.MessageAs4, Bgp4mpSubtype.MessageAddPath, Bgp4mpSubtype.MessageAs4AddPath]);

/** TABLE_DUMP_V2 subtypes (RFC 6396 4.3, RFC 8050 4): the unicast RIBs, with and without path identifiers. */
const PEER_INDEX_TABLE = 1;
const RIB_SUBTYPES = new Map<number, { family: Family; addPath: boolean }>([
  [2, { family: IPV4_UNICAST, addPath: false }],
  [4, { family: IPV6_UNICAST, addPath: false }],
  [8, { family: IPV4_UNICAST, addPath: true }],
  [10, { family: IPV6_UNICAST, addPath: true }],
]);

const STATES = ['', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

const TYPE_BITS = AttributeFlag.Optional | AttributeFlag.Transitive;

interface Peer {
  address: string;
  asn: number;
}

export class MrtWatch {
  readonly counts: MrtCounts = { ribEntries: 0, unsupported: 0, malformed: 0 };
  private peers: Peer[] = [];
  private collector = '';

  constructor(private readonly bgp: BgpWatch) {}

  record(record: MrtRecord, events: BgpEvent[]): void {
    try {
      if (record.type === MrtType.Bgp4mp || record.type === MrtType.Bgp4mpEt) this.bgp4mp(record, events);
      else if (record.type === MrtType.TableDumpV2 && record.subtype === PEER_INDEX_TABLE) this.peerIndex(record.body);
      else if (record.type === MrtType.TableDumpV2 && RIB_SUBTYPES.has(record.subtype)) this.rib(record, RIB_SUBTYPES.get(record.subtype)!, events);
      else this.counts.unsupported++;
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.counts.malformed++;
    }
  }

  /** RFC 6396 4.4: the two ends, then a whole BGP message or two FSM states. */
  private bgp4mp({ subtype, body, timestampNs }: MrtRecord, events: BgpEvent[]): void {
    const isStateChange = subtype === Bgp4mpSubtype.StateChange || subtype === Bgp4mpSubtype.StateChangeAs4;
    if (!isStateChange && !MESSAGE_SUBTYPES.has(subtype)) {
      this.counts.unsupported++;
      return;
    }
    const reader = new Reader(body, 'mrt');
    const asWidth = AS4_SUBTYPES.has(subtype) ? 4 : 2;
    reader.skip(2 * asWidth + 2, 'peer AS, local AS and interface index');
    const afi = reader.u16('address family');
    const addressLength = afi === 2 ? 16 : 4;
    const peer = addressOf(reader.bytes(addressLength, 'peer address'));
    const local = addressOf(reader.bytes(addressLength, 'local address'));
    if (isStateChange) {
      const [from, to] = [reader.u16('old state'), reader.u16('new state')];
      events.push({ event: 'bgp-state', at: timestampNs, from: peer, to: local, details: { old_state: STATES[from] ?? from, new_state: STATES[to] ?? to } });
      return;
    }
    const message = reader.bytes(reader.remaining, 'BGP message');
    const [sender, receiver] = LOCAL_SUBTYPES.has(subtype) ? [local, peer] : [peer, local];
    this.bgp.message(sender, receiver, message, timestampNs, events);
  }

  /** RFC 6396 4.3.1: the collector and the peers the RIB entries point at by index. */
  private peerIndex(body: Buffer): void {
    const reader = new Reader(body, 'mrt');
    this.collector = ipv4FromBytes(reader.bytes(4, 'collector BGP ID'));
    reader.skip(reader.u16('view name length'), 'view name');
    const count = reader.u16('peer count');
    const peers: Peer[] = [];
    for (let index = 0; index < count; index++) {
      const type = reader.u8('peer type');
      reader.skip(4, 'peer BGP ID');
      const address = addressOf(reader.bytes(type & 0x01 ? 16 : 4, 'peer address'));
      peers.push({ address, asn: type & 0x02 ? reader.u32('peer AS') : reader.u16('peer AS') });
    }
    this.peers = peers;
  }

  /**
   * RFC 6396 4.3.2: one prefix and a route per peer, with its attributes (AS numbers always
   * four octets, 4.3.4), read as an UPDATE's and shown in its terms.
   */
  private rib({ body, timestampNs }: MrtRecord, { family, addPath }: { family: Family; addPath: boolean }, events: BgpEvent[]): void {
    const reader = new Reader(body, 'mrt');
    reader.u32('sequence number');
    const ipv6 = family.afi === IPV6_UNICAST.afi;
    // One prefix, in NLRI form: its length in bits, then as many octets as that needs.
    const prefixBits = body[reader.offset] ?? 0;
    const [prefix] = decodeNlri(reader.sub(1 + Math.ceil(prefixBits / 8), 'mrt', 'prefix'), family.afi).prefixes as [string];
    const entries = reader.u16('entry count');
    for (let index = 0; index < entries; index++) {
      const peerIndex = reader.u16('peer index');
      const originated = reader.u32('originated time');
      const pathId = addPath ? reader.u32('path identifier') : undefined;
      const attributes = reader.bytes(reader.u16('attribute length'), 'attributes');
      this.counts.ribEntries++;
      const peer = this.peers[peerIndex];
      if (peer === undefined) throw new DecodeError('mrt', `a RIB entry names peer ${peerIndex}, which the peer index table does not hold`);
      const { route, errors } = ribAttributes(attributes, ipv6);
      events.push({
        event: 'bgp-rib',
        at: timestampNs,
        from: peer.address,
        to: this.collector,
        details: {
          peer_as: peer.asn,
          originated: new Date(originated * 1000).toISOString(),
          announced: [prefix],
          ...(pathId !== undefined ? { path_ids: [pathId] } : {}),
          ...routeJson(route, ipv6),
          errors: errors.length > 0 ? errors : undefined,
        },
      });
    }
  }
}

/** RIB attributes are read as an UPDATE carries them: four-octet AS numbers, no size limit. */
const RIB_CONTEXT: SessionCodecContext = { fourOctetAs: true, extendedMessage: true };

/**
 * A RIB entry's attributes as a route. A dump is not the wire: BIRD writes NEXT_HOP and
 * LOCAL_PREF with flags 0 in its RIB dumps, so the Optional and Transitive bits of a known
 * attribute are taken from its code (as bgpdump reads them); and MP_REACH_NLRI holds the
 * next hop alone (RFC 6396 4.3.4; some dumpers write it whole, with an UPDATE's NLRI that
 * are not this entry's), so only its next hop is read here.
 */
function ribAttributes(attributes: Buffer, ipv6: boolean): { route: RouteAttributes; errors: string[] } {
  const parts: Buffer[] = [];
  let mpNextHop: Buffer | undefined;
  let offset = 0;
  while (offset < attributes.length) {
    if (attributes.length - offset < 3) throw new DecodeError('mrt', 'a RIB entry ends inside an attribute header');
    const flags = attributes[offset]!;
    const code = attributes[offset + 1]!;
    const headerLength = flags & AttributeFlag.ExtendedLength ? 4 : 3;
    if (attributes.length - offset < headerLength) throw new DecodeError('mrt', 'a RIB entry ends inside an attribute header');
    const valueLength = flags & AttributeFlag.ExtendedLength ? attributes.readUInt16BE(offset + 2) : attributes[offset + 2]!;
    const end = offset + headerLength + valueLength;
    if (end > attributes.length) throw new DecodeError('mrt', 'a RIB entry ends inside an attribute');
    if (code === AttributeCode.MpReachNlri) {
      mpNextHop = nextHopOf(attributes.subarray(offset + headerLength, end));
    } else {
      const typeFlags = typeFlagsOf(code);
      parts.push(Buffer.of(typeFlags === undefined ? flags : (flags & ~TYPE_BITS) | typeFlags), attributes.subarray(offset + 1, end));
    }
    offset = end;
  }
  const bytes = Buffer.concat(parts);
  const decoded = decodeAttributes(new Reader(bytes, 'bgp'), RIB_CONTEXT);
  const route = routeAttributes(decoded.attributes, RIB_CONTEXT);
  if (mpNextHop !== undefined && mpNextHop.length >= 16) {
    route.ipv6NextHop = ipv6FromBytes(mpNextHop.subarray(0, 16));
    if (mpNextHop.length === 32) route.ipv6LinkLocalNextHop = ipv6FromBytes(mpNextHop.subarray(16));
  } else if (mpNextHop?.length === 4 && !ipv6) {
    route.ipv4MpNextHop = ipv4FromBytes(mpNextHop);
  }
  return { route, errors: decoded.errors.map((error) => error.message) };
}

/** The next hop address(es) of a dump's MP_REACH_NLRI, abbreviated (its length, then the address) or whole. */
function nextHopOf(value: Buffer): Buffer {
  if (value.length > 0 && value[0] === value.length - 1) return value.subarray(1);
  const length = value[3];
  if (length === undefined || value.length < 4 + length) throw new DecodeError('mrt', 'a RIB entry has an MP_REACH_NLRI too short for its next hop');
  return value.subarray(4, 4 + length);
}

function addressOf(bytes: Buffer): string {
  return bytes.length === 16 ? ipv6FromBytes(bytes) : ipv4FromBytes(bytes);
}
