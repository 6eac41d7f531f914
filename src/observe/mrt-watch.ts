/**
 * MRT records (RFC 6396) as `watch --bgp` events: a BGP4MP message is what a capture of
 * the session would have shown (it goes through BgpWatch, with the same per-direction
 * reading), a state change is `bgp-state`, and each route of a TABLE_DUMP_V2 RIB dump is
 * `bgp-rib`: a prefix as one peer announced it, with its attributes shown as an UPDATE's.
 */
import { DecodeError } from '../wire/decode-error.js';
import { typeFlagsOf } from '../wire/bgp/attributes.js';
import { decodeMessage, IPV4_UNICAST, IPV6_UNICAST, type Family, type SessionCodecContext, type UpdateMessage } from '../wire/bgp/index.js';
import { ipv4FromBytes, ipv6FromBytes } from '../wire/ip-address.js';
import { Reader } from '../wire/reader.js';
import { updateDetails, type BgpEvent, type BgpWatch } from './bgp-watch.js';
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

/** The attribute codes a RIB entry's attributes are rewritten around (RFC 4271, RFC 4760). */
const MP_REACH_NLRI = 14;
const EXTENDED_LENGTH = 0x10;
/** Optional and Transitive (RFC 4271 4.3). */
const TYPE_BITS = 0xc0;
const BGP_HEADER_LENGTH = 19;
const MAX_MESSAGE_LENGTH = 65535;

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
   * RFC 6396 4.3.2: one prefix and a route per peer. Each route's attributes (AS numbers
   * always four octets, 4.3.4) become an UPDATE with the prefix, so that they are read and
   * shown as any UPDATE's.
   */
  private rib({ body, timestampNs }: MrtRecord, { family, addPath }: { family: Family; addPath: boolean }, events: BgpEvent[]): void {
    const reader = new Reader(body, 'mrt');
    reader.u32('sequence number');
    const prefixLength = reader.u8('prefix length');
    const prefix = Buffer.concat([Buffer.of(prefixLength), reader.bytes(Math.ceil(prefixLength / 8), 'prefix')]);
    const entries = reader.u16('entry count');
    const context: SessionCodecContext = { fourOctetAs: true, extendedMessage: true, families: [IPV4_UNICAST, IPV6_UNICAST], ...(addPath ? { addPath: [family] } : {}) };
    for (let index = 0; index < entries; index++) {
      const peerIndex = reader.u16('peer index');
      const originated = reader.u32('originated time');
      const pathId = addPath ? reader.bytes(4, 'path identifier') : Buffer.alloc(0);
      const attributes = reader.bytes(reader.u16('attribute length'), 'attributes');
      this.counts.ribEntries++;
      const peer = this.peers[peerIndex];
      if (peer === undefined) throw new DecodeError('mrt', `a RIB entry names peer ${peerIndex}, which the peer index table does not hold`);
      const update = decodeMessage(ribUpdate(family, Buffer.concat([pathId, prefix]), attributes), context) as UpdateMessage;
      events.push({
        event: 'bgp-rib',
        at: timestampNs,
        from: peer.address,
        to: this.collector,
        details: { peer_as: peer.asn, originated: new Date(originated * 1000).toISOString(), ...updateDetails(update, context) },
      });
    }
  }
}

function addressOf(bytes: Buffer): string {
  return bytes.length === 16 ? ipv6FromBytes(bytes) : ipv4FromBytes(bytes);
}

/**
 * An UPDATE announcing `nlri` with a RIB entry's attributes. IPv4 routes carry it in the
 * NLRI field; an IPv6 route's MP_REACH_NLRI is abbreviated in the dump to the next hop
 * (RFC 6396 4.3.4), so it is written out whole, with the AFI, SAFI and the prefix.
 */
function ribUpdate(family: Family, nlri: Buffer, attributes: Buffer): Buffer {
  const ipv4 = family.afi === IPV4_UNICAST.afi;
  const pathAttributes = asOnTheWire(attributes, family, ipv4 ? undefined : nlri);
  const length = BGP_HEADER_LENGTH + 4 + pathAttributes.length + (ipv4 ? nlri.length : 0);
  if (length > MAX_MESSAGE_LENGTH) throw new DecodeError('mrt', `a RIB entry's attributes come to ${length} bytes, more than any BGP message holds`);
  const header = Buffer.alloc(BGP_HEADER_LENGTH + 4, 0xff);
  header.writeUInt16BE(length, 16);
  header.writeUInt8(2, 18);
  header.writeUInt16BE(0, 19);
  header.writeUInt16BE(pathAttributes.length, 21);
  return Buffer.concat([header, pathAttributes, ...(ipv4 ? [nlri] : [])]);
}

/**
 * A dump's attributes as an UPDATE carries them. A dump is not the wire: BIRD writes
 * NEXT_HOP and LOCAL_PREF with flags 0 in its RIB dumps, so the Optional and Transitive
 * bits of a known attribute are taken from its code (as bgpdump reads them); the abbreviated
 * MP_REACH_NLRI is written out whole with `mpNlri`, for IPv6.
 */
function asOnTheWire(attributes: Buffer, family: Family, mpNlri: Buffer | undefined): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < attributes.length) {
    if (attributes.length - offset < 3) throw new DecodeError('mrt', 'a RIB entry ends inside an attribute header');
    const flags = attributes[offset]!;
    const code = attributes[offset + 1]!;
    const headerLength = flags & EXTENDED_LENGTH ? 4 : 3;
    if (attributes.length - offset < headerLength) throw new DecodeError('mrt', 'a RIB entry ends inside an attribute header');
    const valueLength = flags & EXTENDED_LENGTH ? attributes.readUInt16BE(offset + 2) : attributes[offset + 2]!;
    const end = offset + headerLength + valueLength;
    if (end > attributes.length) throw new DecodeError('mrt', 'a RIB entry ends inside an attribute');
    const value = attributes.subarray(offset + headerLength, end);
    const typeFlags = typeFlagsOf(code);
    const wireFlags = typeFlags === undefined ? flags : (flags & ~TYPE_BITS) | typeFlags;
    // Abbreviated: the next hop's length, then the next hop (some dumpers write it whole).
    if (code === MP_REACH_NLRI && mpNlri !== undefined && value.length > 0 && value[0] === value.length - 1) {
      const full = Buffer.concat([Buffer.of(family.afi >> 8, family.afi & 0xff, family.safi), value, Buffer.of(0), mpNlri]);
      parts.push(Buffer.of(wireFlags | EXTENDED_LENGTH, code, full.length >> 8, full.length & 0xff), full);
    } else {
      parts.push(Buffer.of(wireFlags), attributes.subarray(offset + 1, end));
    }
    offset = end;
  }
  return Buffer.concat(parts);
}
