/**
 * BGP seen on the wire, for `vipkit watch --bgp`: TCP port 179 reassembled in both
 * directions, framed and decoded with the BGP codec, so that a span port or a pcap says
 * what a speaker announces without asking a router. A pure observer of the watch engine.
 *
 * UPDATEs decode with the context the two OPENs negotiate. A capture that starts after
 * the OPENs assumes 4-octet AS numbers (RFC 6793), which every current speaker offers.
 */
import { DecodeError } from '../wire/decode-error.js';
import type { DecodedFrame } from '../wire/frame.js';
import {
  BASE_CONTEXT,
  decodeMessage,
  describeNotification,
  endOfRib,
  describeCapability,
  familyName,
  negotiate,
  openAsn,
  routeAttributes,
  routeJson,
  type BgpMessage,
  type OpenMessage,
  type SessionCodecContext,
  type UpdateMessage,
} from '../wire/bgp/index.js';
import { ResynchronisingFramer } from './resynchronising-framer.js';
import { endpoint, TcpReassembler, type TcpStream } from './tcp-reassembly.js';
import { tcpSegmentOf } from './tcp-segment.js';
import type { FrameObserver } from './watch-engine.js';

export const BGP_PORT = 179;

export interface BgpEvent {
  event: 'bgp-open' | 'bgp-update' | 'bgp-notification';
  at: bigint;
  interfaceName?: string;
  /** `address:port` of the speaker that sent the message, and of its peer. */
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
}

export class BgpWatch implements FrameObserver<BgpEvent> {
  readonly counts: BgpCounts = { segments: 0, retransmitted: 0, outOfOrder: 0, gaps: 0, messages: 0, keepalives: 0, malformed: 0, skippedBytes: 0 };
  private readonly directions = new Map<string, Direction>();
  private readonly contexts = new Map<string, SessionCodecContext>();
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

  private direction(stream: TcpStream): Direction {
    let direction = this.directions.get(stream.id);
    if (direction === undefined) {
      direction = { framer: new ResynchronisingFramer() };
      this.directions.set(stream.id, direction);
    }
    return direction;
  }

  private data(stream: TcpStream, bytes: Buffer, at: bigint): void {
    const direction = this.direction(stream);
    const { messages, framingErrors, skippedBytes } = direction.framer.push(bytes);
    this.counts.malformed += framingErrors;
    this.counts.skippedBytes += skippedBytes;
    for (const message of messages) this.decode(stream, direction, message, at);
  }

  private decode(stream: TcpStream, direction: Direction, bytes: Buffer, at: bigint): void {
    let message: BgpMessage;
    try {
      message = decodeMessage(bytes, this.contexts.get(stream.connection) ?? { ...BASE_CONTEXT, fourOctetAs: true });
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.counts.malformed++;
      return;
    }
    this.counts.messages++;
    const from = endpoint(stream.source, stream.sourcePort);
    const to = endpoint(stream.destination, stream.destinationPort);
    const context = { at, from, to, ...(this.interfaceName === undefined ? {} : { interfaceName: this.interfaceName }) };
    switch (message.type) {
      case 'open':
        direction.open = message;
        this.negotiate(stream, message);
        this.events.push({ ...context, event: 'bgp-open', details: openDetails(message) });
        return;
      case 'update':
        this.events.push({ ...context, event: 'bgp-update', details: updateDetails(message, this.contexts.get(stream.connection)) });
        return;
      case 'notification':
        this.events.push({
          ...context,
          event: 'bgp-notification',
          details: { code: message.code, subcode: message.subcode, error: describeNotification(message.code, message.subcode), communication: message.communication },
        });
        return;
      default:
        this.counts.keepalives += message.type === 'keepalive' ? 1 : 0;
    }
  }

  /** With both OPENs of a connection seen, UPDATEs decode as the two speakers agreed (RFC 6793, RFC 8654). */
  private negotiate(stream: TcpStream, open: OpenMessage): void {
    const reverse = this.directions.get(`${endpoint(stream.destination, stream.destinationPort)} > ${endpoint(stream.source, stream.sourcePort)}`);
    const own = { ...BASE_CONTEXT, fourOctetAs: open.capabilities.some((capability) => capability.type === 'four-octet-as') };
    const context = reverse?.open === undefined ? own : negotiate(open, reverse.open).context;
    this.contexts.set(stream.connection, context);
    for (const direction of [this.directions.get(stream.id), reverse]) {
      if (direction) direction.framer.extendedMessage = context.extendedMessage;
    }
  }
}

function openDetails(open: OpenMessage): Record<string, unknown> {
  return { asn: openAsn(open), hold_time: open.holdTime, router_id: open.bgpIdentifier, capabilities: open.capabilities.map(describeCapability) };
}

/** Announced and withdrawn prefixes of every family, and the route's attributes as text. */
function updateDetails(update: UpdateMessage, context: SessionCodecContext | undefined): Record<string, unknown> {
  const family = endOfRib(update);
  if (family !== undefined) return { end_of_rib: familyName(family) };
  const announced = [...update.nlri];
  const withdrawn = [...update.withdrawn];
  for (const attribute of update.attributes) {
    if (attribute.type === 'mp-reach') announced.push(...attribute.prefixes);
    if (attribute.type === 'mp-unreach') withdrawn.push(...attribute.prefixes);
  }
  const route = routeAttributes(update.attributes, context ?? { ...BASE_CONTEXT, fourOctetAs: true });
  return {
    announced: announced.length > 0 ? announced : undefined,
    withdrawn: withdrawn.length > 0 ? withdrawn : undefined,
    ...(announced.length === 0 ? {} : routeJson(route, !announced.some((prefix) => !prefix.includes(':')))),
    errors: update.errors?.map((error) => error.message),
  };
}
