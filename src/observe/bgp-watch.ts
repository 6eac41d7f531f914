/**
 * BGP seen on the wire, for `vipkit watch --bgp`: TCP port 179 reassembled in both
 * directions, framed and decoded with the BGP codec, so that a span port or a pcap says
 * what a speaker announces without asking a router. A pure observer of the watch engine.
 *
 * UPDATEs decode with the context the two OPENs negotiate, per direction (ADD-PATH is
 * one-way, RFC 7911). Without both OPENs, each direction's reading (2- or 4-octet AS
 * numbers, path identifiers per family) is inferred from the UPDATEs themselves
 * (update-reading.ts), and each settled reading is reported with its reason.
 *
 * Messages read whole from an MRT dump (mrt-watch.ts) take the same path from `message`.
 */
import { DecodeError } from '../wire/decode-error.js';
import type { DecodedFrame } from '../wire/frame.js';
import {
  BASE_CONTEXT,
  decodeMessage,
  describeCapability,
  describeNotification,
  describeOrf,
  endOfRib,
  familyName,
  MessageType,
  negotiate,
  openAsn,
  routeAttributes,
  routeJson,
  type BgpMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type SessionCodecContext,
  type UpdateMessage,
} from '../wire/bgp/index.js';
import { ipv4FromBytes, ipv6FromBytes } from '../wire/ip-address.js';
import { ResynchronisingFramer } from './resynchronising-framer.js';
import { endpoint, TcpReassembler, type TcpStream } from './tcp-reassembly.js';
import { tcpSegmentOf } from './tcp-segment.js';
import { type SettledReading, UpdateReading } from './update-reading.js';
import type { FrameObserver } from './watch-engine.js';

export const BGP_PORT = 179;

export interface BgpEvent {
  event: 'bgp-open' | 'bgp-update' | 'bgp-notification' | 'bgp-route-refresh' | 'bgp-reading' | 'bgp-state' | 'bgp-rib' | 'bgp-malformed';
  at: bigint;
  interfaceName?: string;
  /** `address:port` of the speaker that sent the message, and of its peer (the address alone from an MRT dump). */
  from: string;
  to: string;
  /** The message in the JSON conventions of DESIGN.md (prefixes, as_path, communities as text). */
  details: Record<string, unknown>;
}

export interface BgpCounts {
  segments: number;
  retransmitted: number;
  outOfOrder: number;
  /** Holes in a stream the capture never filled. */
  gaps: number;
  messages: number;
  keepalives: number;
  /** Messages, segments or byte runs that did not decode; skipped. */
  malformed: number;
  /** Stream bytes passed over to the next BGP marker: after a bad header, or held when a
   *  hole cut their message short. */
  skippedBytes: number;
}

interface Direction {
  framer: ResynchronisingFramer;
  open?: OpenMessage;
  /** What this direction's UPDATEs are decoded with, once both OPENs were seen. */
  context?: SessionCodecContext;
  /** Until then, how they are read. */
  reading: UpdateReading;
}

export class BgpWatch implements FrameObserver<BgpEvent> {
  readonly counts: BgpCounts = { segments: 0, retransmitted: 0, outOfOrder: 0, gaps: 0, messages: 0, keepalives: 0, malformed: 0, skippedBytes: 0 };
  private readonly directions = new Map<string, Direction>();
  private readonly reassembler: TcpReassembler;
  /** Where the reassembler's callbacks put their events, during one `observe`. */
  private events: BgpEvent[] = [];
  private interfaceName: string | undefined;

  constructor() {
    this.reassembler = new TcpReassembler({
      data: (stream, bytes, at) => this.data(stream, bytes, at),
      gap: (stream) => {
        this.counts.skippedBytes += this.direction(stream).framer.lose();
      },
      end: (stream) => this.directions.delete(stream.id),
    });
  }

  observe(decoded: DecodedFrame, at: bigint, interfaceName: string | undefined, events: BgpEvent[]): boolean {
    let segment;
    try {
      segment = tcpSegmentOf(decoded);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.counts.malformed++;
      return true;
    }
    if (segment === undefined || (segment.sourcePort !== BGP_PORT && segment.destinationPort !== BGP_PORT)) return false;
    this.events = events;
    this.interfaceName = interfaceName;
    this.reassembler.add(segment, at);
    Object.assign(this.counts, this.reassembler.counts);
    return true;
  }

  finish(end: bigint, events: BgpEvent[]): void {
    this.events = events;
    this.reassembler.finish(end);
    Object.assign(this.counts, this.reassembler.counts);
  }

  /** A whole BGP message from `from` to `to`, read from elsewhere than TCP (an MRT dump's BGP4MP record). */
  message(from: string, to: string, bytes: Buffer, at: bigint, events: BgpEvent[]): void {
    this.events = events;
    this.interfaceName = undefined;
    this.decode({ from, to }, this.directionOf(`${from} > ${to}`), bytes, at);
  }

  private direction(stream: TcpStream): Direction {
    return this.directionOf(stream.id);
  }

  private directionOf(id: string): Direction {
    let direction = this.directions.get(id);
    if (direction === undefined) {
      direction = { framer: new ResynchronisingFramer(), reading: new UpdateReading() };
      this.directions.set(id, direction);
    }
    return direction;
  }

  private data(stream: TcpStream, bytes: Buffer, at: bigint): void {
    const direction = this.direction(stream);
    const { messages, framingErrors, skippedBytes } = direction.framer.push(bytes);
    this.counts.malformed += framingErrors;
    this.counts.skippedBytes += skippedBytes;
    const ends = { from: endpoint(stream.source, stream.sourcePort), to: endpoint(stream.destination, stream.destinationPort) };
    for (const message of messages) this.decode(ends, direction, message, at);
  }

  private decode(ends: { from: string; to: string }, direction: Direction, bytes: Buffer, at: bigint): void {
    let message: BgpMessage;
    let context = direction.context;
    let settled: SettledReading[] = [];
    try {
      if (context === undefined && bytes[HEADER_TYPE_OFFSET] === MessageType.Update) {
        ({ message, context, settled } = direction.reading.read(bytes));
      } else {
        message = decodeMessage(bytes, context ?? BASE_CONTEXT);
      }
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.counts.malformed++;
      // A troubleshooter shows what it could not read, and why, where it was.
      this.events.push({ at, ...ends, ...this.where(), event: 'bgp-malformed', details: { error: error.message, bytes: bytes.length } });
      return;
    }
    this.counts.messages++;
    const where = { at, ...ends, ...this.where() };
    for (const reading of settled) this.events.push({ ...where, event: 'bgp-reading', details: readingDetails(reading) });
    switch (message.type) {
      case 'open':
        direction.open = message;
        this.negotiate(ends, direction);
        this.events.push({ ...where, event: 'bgp-open', details: openDetails(message) });
        return;
      case 'update':
        this.events.push({ ...where, event: 'bgp-update', details: updateDetails(message, context ?? BASE_CONTEXT) });
        return;
      case 'notification':
        this.events.push({
          ...where,
          event: 'bgp-notification',
          details: { code: message.code, subcode: message.subcode, error: describeNotification(message.code, message.subcode), communication: message.communication },
        });
        return;
      case 'route-refresh':
        this.events.push({ ...where, event: 'bgp-route-refresh', details: routeRefreshDetails(message) });
        return;
      case 'keepalive':
        this.counts.keepalives++;
    }
  }

  private where(): { interfaceName?: string } {
    return this.interfaceName === undefined ? {} : { interfaceName: this.interfaceName };
  }

  /** With both OPENs of a connection seen, each direction's UPDATEs decode as the two
   *  speakers agreed (RFC 6793, RFC 8654, RFC 7911 per direction, RFC 4760 families). */
  private negotiate({ from, to }: { from: string; to: string }, direction: Direction): void {
    const reverse = this.directions.get(`${to} > ${from}`);
    if (direction.open === undefined || reverse?.open === undefined) return;
    // negotiate(local, peer).peerContext reads what `peer` sends.
    direction.context = negotiate(reverse.open, direction.open).peerContext;
    reverse.context = negotiate(direction.open, reverse.open).peerContext;
    direction.framer.extendedMessage = reverse.framer.extendedMessage = direction.context.extendedMessage;
  }
}

/** The Type octet of the header (RFC 4271 4.1), after the marker and the length. */
const HEADER_TYPE_OFFSET = 18;

function openDetails(open: OpenMessage): Record<string, unknown> {
  return { asn: openAsn(open), hold_time: open.holdTime, router_id: open.bgpIdentifier, capabilities: open.capabilities.map(describeCapability) };
}

/** A next hop of a family vipkit does not decode: an address when it has an address's
 *  length, its octets in hex otherwise (e.g. a route distinguisher in front). */
function rawNextHop(bytes: Buffer): string {
  if (bytes.length === 4) return ipv4FromBytes(bytes);
  if (bytes.length === 16 || bytes.length === 32) return ipv6FromBytes(bytes.subarray(0, 16));
  return bytes.toString('hex');
}

/** Announced and withdrawn prefixes of every family decoded, with their path ids
 *  (ADD-PATH), the route's attributes as text, and any other family by AFI/SAFI. */
function updateDetails(update: UpdateMessage, context: SessionCodecContext): Record<string, unknown> {
  const family = endOfRib(update);
  if (family !== undefined) return { end_of_rib: familyName(family) };
  const announced = [...update.nlri];
  const withdrawn = [...update.withdrawn];
  const announcedPathIds = [...(update.nlriPathIds ?? [])];
  const withdrawnPathIds = [...(update.withdrawnPathIds ?? [])];
  const otherFamilies: Array<Record<string, unknown>> = [];
  for (const attribute of update.attributes) {
    if (attribute.type === 'mp-reach') {
      announced.push(...attribute.prefixes);
      announcedPathIds.push(...(attribute.pathIds ?? []));
    } else if (attribute.type === 'mp-unreach') {
      withdrawn.push(...attribute.prefixes);
      withdrawnPathIds.push(...(attribute.pathIds ?? []));
    } else if (attribute.type === 'mp-reach-undecoded' || attribute.type === 'mp-unreach-undecoded') {
      const reach = attribute.type === 'mp-reach-undecoded';
      otherFamilies.push({
        family: familyName(attribute),
        afi: attribute.afi,
        safi: attribute.safi,
        [reach ? 'announced_bytes' : 'withdrawn_bytes']: attribute.nlri.length,
        ...(reach ? { next_hop: rawNextHop(attribute.nextHop) } : {}),
      });
    }
  }
  const route = routeAttributes(update.attributes, context);
  const showRoute = announced.length > 0 || otherFamilies.some((other) => 'next_hop' in other);
  return {
    announced: announced.length > 0 ? announced : undefined,
    path_ids: announcedPathIds.length > 0 ? announcedPathIds : undefined,
    withdrawn: withdrawn.length > 0 ? withdrawn : undefined,
    withdrawn_path_ids: withdrawnPathIds.length > 0 ? withdrawnPathIds : undefined,
    other_families: otherFamilies.length > 0 ? otherFamilies : undefined,
    ...(showRoute ? routeJson(route, announced.length > 0 && !announced.some((prefix) => !prefix.includes(':'))) : {}),
    errors: update.errors?.map((error) => error.message),
  };
}

const ROUTE_REFRESH_SUBTYPES = ['request', 'begin', 'end'];

function routeRefreshDetails(message: RouteRefreshMessage): Record<string, unknown> {
  const orf = describeOrf(message);
  return { family: familyName(message), subtype: ROUTE_REFRESH_SUBTYPES[message.subtype] ?? message.subtype, orf: orf.length > 0 ? orf : undefined };
}

function readingDetails(reading: SettledReading): Record<string, unknown> {
  const what = reading.what === 'four-octet-as' ? { four_octet_as: reading.chosen } : { add_path: familyName(reading.what), path_ids: reading.chosen };
  return { ...what, reason: `${reading.reason} (no OPEN exchange captured)` };
}
