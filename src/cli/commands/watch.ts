import { basename } from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import { namedInterface } from '../interface-choice.js';
import { Stop } from '../interrupt.js';
import { formatTable } from '../table.js';
import type { Ui } from '../ui.js';
import { sourceAddressFor, type InterfaceInfo } from '../../link/interfaces.js';
import { L2_SNAPSHOT_LENGTH, WALL_MINUS_MONOTONIC_NS, type Link } from '../../link/link.js';
import { openPcapLink } from '../../link/pcap-link.js';
import { loadEthers } from '../../l2/ethers.js';
import { Prober } from '../../l2/prober.js';
import { parseTargets } from '../../l2/targets.js';
import type { AddressEvent, AddressHistory } from '../../observe/address-watch.js';
import { BGP_PORT, BgpWatch, type BgpEvent } from '../../observe/bgp-watch.js';
import { captureTimeText } from '../../observe/capture-time.js';
import { isMrtFile, readMrt, type MrtReadStats } from '../../observe/mrt-file.js';
import { MrtWatch } from '../../observe/mrt-watch.js';
import { ethernetFrame, PcapWriter, readCapture, type CaptureReadStats } from '../../observe/pcap-file.js';
import { WatchEngine, type WatchFrame } from '../../observe/watch-engine.js';
import { WatchTargets } from '../../observe/watch-targets.js';
import { familyOf } from '../../pools/address-range.js';
import { sleep } from '../../time.js';
import { vlanTag } from '../../wire/ethernet.js';

interface WatchOptions {
  interface?: string[];
  read?: string;
  write?: string;
  for?: number;
  probe?: number;
  dupWindow: number;
  silence: number;
  vlan?: number;
  ethers?: string;
  bgp?: boolean;
  json?: boolean;
}

type WatchEvent = AddressEvent | BgpEvent;

/** ARP, and NDP solicitations (135) and advertisements (136) where no extension header precedes ICMPv6. */
const L2_FILTER = 'arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))';
/** Live: report what went dark this often, lagging the clock so late-delivered frames still count. */
const TICK_MS = 100;
const TICK_LAG_NS = 100_000_000n;
/** The live table is redrawn at most this often. */
const REDRAW_MS = 250;
/** --probe sends no faster than this, in bursts of PROBE_BURST. */
const MAX_PROBE_RATE = 1000;
const PROBE_BURST = 50;

/** Four times the default: 1024 of cap's 64 KiB slots, 20 ms of a 50k frames/s burst (see FrameQueue). */
const CAPTURE_BUFFER_SIZE = 64 * 1024 * 1024;
/** Frames analysed between two looks at the kernel's ring. */
const FRAME_BATCH = 32;
/** About a second at 1M frames/s: memory stays bounded when analysis (e.g. --bgp) cannot keep up. */
const MAX_QUEUED_FRAMES = 1_000_000;

export async function run(specs: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as unknown as WatchOptions;
  const targets = parseWatchTargets(specs);
  const names = loadEthers(options.ethers, (sentence) => ui.warn(sentence));
  if (options.read !== undefined) {
    if (options.interface !== undefined) throw new UsageError('-r reads a capture file: it takes no -I.');
    if (options.probe !== undefined) throw new UsageError('--probe sends on the live wire; it cannot be used with -r.');
    if (isMrtFile(options.read)) return readMrtFile(options.read, targets, options, new WatchOutput(ui, names, false));
    return readFile(options.read, targets, options, new WatchOutput(ui, names, false));
  }
  if (options.interface === undefined) throw new UsageError('watch needs an interface to listen on (-I <name>), or a capture file (-r <file>).');
  const interfaces = [...new Set(options.interface)].map(namedInterface);
  if (options.probe !== undefined && targets === undefined) throw new UsageError('--probe needs targets to probe: addresses, CIDRs or ranges.');
  return watchLive(interfaces, targets, options, new WatchOutput(ui, names, !!process.stdout.isTTY && !ui.json));
}

function parseWatchTargets(specs: string[]): WatchTargets | undefined {
  if (specs.length === 0) return undefined;
  return new WatchTargets(specs);
}

function engineFor(targets: WatchTargets | undefined, options: WatchOptions, ownMacs?: Set<string>): WatchEngine<BgpEvent> {
  const engineOptions = {
    dupWindowNs: seconds(options.dupWindow),
    silenceNs: seconds(options.silence),
    ...(targets ? { targets } : {}),
    ...(ownMacs ? { ownMacs } : {}),
    ...(options.vlan === undefined ? {} : { vlan: options.vlan }),
  };
  return new WatchEngine<BgpEvent>(engineOptions, options.bgp ? [new BgpWatch()] : []);
}

function openWriter(path: string | undefined): PcapWriter | undefined {
  return path === undefined ? undefined : new PcapWriter(path);
}

async function readFile(path: string, targets: WatchTargets | undefined, options: WatchOptions, output: WatchOutput): Promise<number> {
  const engine = engineFor(targets, options);
  const stats: CaptureReadStats = { records: 0, truncated: 0, skippedBlocks: 0 };
  let otherLinkTypes = 0;
  const writer = openWriter(options.write);
  try {
    for (const record of readCapture(path, stats)) {
      const frame = ethernetFrame(record);
      if (frame === undefined) {
        otherLinkTypes++;
        continue;
      }
      writer?.write(frame, record.timestampNs);
      output.events(engine.observe({ data: frame, at: record.timestampNs, interfaceName: record.interfaceName }));
    }
  } finally {
    writer?.close();
  }
  if (writer !== undefined && writer.clampedRecords > 0) {
    output.ui.warn(`${writer.clampedRecords} frames are timed outside what pcap holds (1970 to 2106); ${basename(options.write!)} has them at the nearest end of that range.`);
  }
  if (stats.truncated > 0) output.ui.warn(`${basename(path)} ends in the middle of a record (a capture cut short); the rest was read.`);
  output.events(engine.finish(engine.latest ?? 0n));
  output.summary(engine, { truncated: stats.truncated, other_link_types: otherLinkTypes });
  return ExitCode.Ok;
}

/**
 * An MRT dump (RFC 6396): BGP alone, so the same events as --bgp on a capture, plus each
 * route of a RIB dump (bgp-rib) and each session state change the dump records (bgp-state).
 */
async function readMrtFile(path: string, targets: WatchTargets | undefined, options: WatchOptions, output: WatchOutput): Promise<number> {
  if (targets !== undefined) throw new UsageError(`${basename(path)} is an MRT dump, which holds BGP only: watch it without addresses to watch at Layer 2.`);
  if (options.write !== undefined) throw new UsageError('-w writes a pcap capture; an MRT dump has no frames to write.');
  const bgp = new BgpWatch();
  const mrt = new MrtWatch(bgp);
  const stats: MrtReadStats = { records: 0, truncated: 0 };
  let latest: bigint | undefined;
  for await (const record of readMrt(path, stats)) {
    const events: BgpEvent[] = [];
    mrt.record(record, events);
    output.events(events);
    latest = record.timestampNs;
  }
  if (stats.truncated > 0) output.ui.warn(`${basename(path)} ends in the middle of a record (a dump cut short); the rest was read.`);
  const counts = { records: stats.records, rib_entries: mrt.counts.ribEntries, unsupported_records: mrt.counts.unsupported, malformed_records: mrt.counts.malformed, truncated: stats.truncated };
  const bgpCounts = { messages: bgp.counts.messages, keepalives: bgp.counts.keepalives, malformed: bgp.counts.malformed };
  if (output.ui.json) output.ui.emit('summary', { ts: isoTime(latest), ...counts, bgp: bgpCounts });
  else output.ui.line(`${Object.entries(counts).map(([key, value]) => `${value} ${key.replaceAll('_', ' ')}`).join(', ')}; BGP: ${Object.entries(bgpCounts).map(([key, value]) => `${value} ${key}`).join(', ')}`);
  return ExitCode.Ok;
}

async function watchLive(interfaces: InterfaceInfo[], targets: WatchTargets | undefined, options: WatchOptions, output: WatchOutput): Promise<number> {
  const filter = captureFilter(options.vlan, options.bgp);
  const probes = options.probe === undefined ? [] : planProbes(interfaces, targets!);
  const links: Link[] = [];
  const stop = new Stop();
  let writer: PcapWriter | undefined;
  let ticker: NodeJS.Timeout | undefined;
  // Kernel capture times arrive on the hrtime scale; events and files want the epoch.
  const epochOffset = WALL_MINUS_MONOTONIC_NS;
  const now = () => process.hrtime.bigint() + epochOffset;
  try {
    // ARP and NDP fit a small snapshot, so the same buffer holds far more frames; BGP segments need it all.
    const snapshotLength = options.bgp ? undefined : L2_SNAPSHOT_LENGTH;
    for (const iface of interfaces) links.push(await openPcapLink({ interfaceName: iface.name, filter, bufferSize: CAPTURE_BUFFER_SIZE, snapshotLength }));
    writer = openWriter(options.write);
    const engine = engineFor(targets, options, new Set(links.map((link) => link.mac)));
    const queue = new FrameQueue(
      (frame) => {
        writer?.write(frame.data, frame.at);
        output.events(engine.observe(frame));
      },
      () => output.ui.warn(`analysis is ${MAX_QUEUED_FRAMES} frames behind the capture; frames are being dropped (counted in the summary).`),
    );
    for (const link of links) {
      link.onFrame((frame) => queue.push({ data: frame.data, at: frame.receivedAt + epochOffset, interfaceName: link.interfaceName }));
    }
    ticker = setInterval(() => {
      queue.flush();
      output.events(engine.advance(now() - TICK_LAG_NS));
      output.redraw(engine);
    }, TICK_MS);
    output.ui.note(`Watching ${interfaces.map((iface) => iface.name).join(', ')}${targets ? ` for ${targets.specs.join(', ')}` : ''}; Ctrl-C stops.`);
    if (options.for !== undefined) stop.after(options.for, `--for ${options.for} s elapsed`);
    if (options.probe !== undefined) await probeTargets(probersFor(links, probes, options), options.probe, stop.signal);
    await stop.done;
    queue.flush();
    output.events(engine.finish(now()));
    output.summary(engine, { dropped: queue.dropped });
    return ExitCode.Ok;
  } finally {
    clearInterval(ticker);
    stop.dispose();
    for (const link of links) link.close();
    writer?.close();
  }
}

/**
 * Frames wait here rather than in the kernel's ring, which holds only about 256 frames:
 * cap's 65535-byte snaplen on an interface with offloads makes every slot 64 KiB, and
 * a 50k frames/s burst fills that in 5 ms. Receiving only queues, so the ring is emptied
 * at once; analysis runs in batches that yield to the event loop, which drains the ring
 * again between them.
 */
class FrameQueue {
  private frames: WatchFrame[] = [];
  private head = 0;
  private scheduled = false;
  /** Frames refused because analysis fell this far behind; reported, never a crash. */
  dropped = 0;

  constructor(
    private readonly analyse: (frame: WatchFrame) => void,
    private readonly onFirstDrop: () => void,
  ) {}

  push(frame: WatchFrame): void {
    if (this.frames.length - this.head >= MAX_QUEUED_FRAMES) {
      if (this.dropped++ === 0) this.onFirstDrop();
      return;
    }
    this.frames.push(frame);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain(FRAME_BATCH));
    }
  }

  /** Analyses everything queued, e.g. before time advances or the watch ends. */
  flush(): void {
    this.drain(Infinity);
  }

  private drain(limit: number): void {
    const end = Math.min(this.frames.length, this.head + limit);
    while (this.head < end) this.analyse(this.frames[this.head++]!);
    if (this.head < this.frames.length) {
      setImmediate(() => this.drain(FRAME_BATCH));
      return;
    }
    this.frames = [];
    this.head = 0;
    this.scheduled = false;
  }
}

/** Every VLAN unless --vlan names one: a bare `arp` would not match tagged frames. */
function captureFilter(vlan: number | undefined, bgp: boolean | undefined): string {
  const protocols = bgp ? `${L2_FILTER} or (tcp port ${BGP_PORT})` : L2_FILTER;
  return vlan === undefined ? `(${protocols}) or (vlan and (${protocols}))` : `vlan ${vlan} and (${protocols})`;
}

/** What one interface probes for one family, and from which of its addresses. */
interface ProbeTargets {
  interfaceIndex: number;
  family: 4 | 6;
  sourceIp: string;
  addresses: string[];
}

interface ProbePlan {
  prober: Prober;
  addresses: string[];
}

/** Checked before any capture opens, so a target or interface that cannot be probed is refused first. */
function planProbes(interfaces: InterfaceInfo[], targets: WatchTargets): ProbeTargets[] {
  const planned: ProbeTargets[] = [];
  for (const family of [4, 6] as const) {
    const specs = targets.specs.filter((spec) => familyOf(spec.split(/[/-]/)[0]!) === family);
    if (specs.length === 0) continue;
    const { addresses } = parseTargets(specs);
    interfaces.forEach((iface, interfaceIndex) => {
      const sourceIp = sourceAddressFor(iface, addresses[0]!);
      if (sourceIp === undefined) {
        throw new UsageError(`--probe needs an IPv${family} address on ${iface.name} to ask from; ${iface.name} has none in a subnet holding ${addresses[0]}.`);
      }
      planned.push({ interfaceIndex, family, sourceIp, addresses });
    });
  }
  return planned;
}

function probersFor(links: Link[], planned: ProbeTargets[], options: WatchOptions): ProbePlan[] {
  const vlan = vlanTag(options.vlan);
  return planned.map(({ interfaceIndex, family, sourceIp, addresses }) => ({ prober: new Prober({ link: links[interfaceIndex]!, family, sourceIp, vlan }), addresses }));
}

/** Every target once per interval, paced to at most MAX_PROBE_RATE probes a second. */
async function probeTargets(plans: ProbePlan[], intervalS: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const roundStart = performance.now();
    let sent = 0;
    for (const { prober, addresses } of plans) {
      for (const ip of addresses) {
        if (signal.aborted) return;
        prober.probe(ip);
        if (++sent % PROBE_BURST === 0) await sleep((PROBE_BURST * 1000) / MAX_PROBE_RATE, signal);
      }
    }
    await sleep(roundStart + intervalS * 1000 - performance.now(), signal);
  }
}

/** How events and the summary are shown: JSON lines, plain lines, or a live table on a terminal. */
class WatchOutput {
  private pending: string[] = [];
  private drawnLines = 0;
  private lastDrawn = 0;

  constructor(
    readonly ui: Ui,
    private readonly names: Map<string, string>,
    private readonly liveTable: boolean,
  ) {}

  events(events: WatchEvent[]): void {
    for (const event of events) {
      if (this.ui.json) this.ui.emit(event.event, this.fields(event));
      else if (this.liveTable) this.pending.push(this.line(event));
      else this.ui.line(this.line(event));
    }
  }

  /** On a terminal: new event lines scroll above a table of every address, redrawn in place. */
  redraw(engine: WatchEngine<BgpEvent>): void {
    if (!this.liveTable || (this.pending.length === 0 && performance.now() - this.lastDrawn < REDRAW_MS)) return;
    this.lastDrawn = performance.now();
    this.erase();
    for (const line of this.pending) this.ui.line(line);
    this.pending = [];
    const latest = engine.latest ?? 0n;
    const rows = engine.addresses.addresses.map((address) => [
      address.ip,
      address.owner ?? '-',
      this.name(address.owner) ?? '-',
      address.lastClaimAt === undefined ? '-' : `${(Number(latest - address.lastClaimAt) / 1e9).toFixed(1)} s ago`,
      String(address.moves.length),
      address.state,
    ]);
    const fit = Math.max(1, (process.stdout.rows ?? 24) - 4);
    const lines = formatTable([['ADDRESS', 'OWNER', 'NAME', 'LAST SEEN', 'MOVES', 'STATE'], ...rows.slice(0, fit)]);
    if (rows.length > fit) lines.push(`(${rows.length - fit} more addresses)`);
    for (const line of lines) this.ui.line(line);
    this.drawnLines = lines.length;
  }

  summary(engine: WatchEngine<BgpEvent>, extra: Record<string, number>): void {
    this.flushLines();
    const addresses = engine.addresses.addresses;
    const bgp = engine.observers.find((observer): observer is BgpWatch => observer instanceof BgpWatch)?.counts;
    const counts = { ...engine.counts, ...Object.fromEntries(Object.entries(extra).filter(([, value]) => value > 0)) };
    if (this.ui.json) {
      const bgpCounts = bgp && Object.fromEntries(Object.entries(bgp).map(([key, value]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value]));
      this.ui.emit('summary', { ts: isoTime(engine.latest), ...counts, bgp: bgpCounts, addresses: addresses.map((address) => this.addressSummary(address)) });
      return;
    }
    const rows = addresses.map((address) => [
      address.ip,
      address.owners.map((mac) => this.describe(mac)).join(', ') || '-',
      address.moves.map((move) => `${move.from} -> ${move.to}${move.gapNs === undefined ? '' : ` (gap ${formatMs(move.gapNs)} ms)`}`).join('; ') || '-',
      String(address.duplicates),
      `${(Number(address.darkNs) / 1e9).toFixed(3)} s`,
    ]);
    this.ui.line('');
    for (const line of formatTable([['ADDRESS', 'OWNERS', 'MOVES', 'DUPLICATES', 'DARK'], ...rows])) this.ui.line(line);
    const details = Object.entries(counts).filter(([key]) => key !== 'frames').map(([key, value]) => `${value} ${key.replaceAll('_', ' ')}`);
    this.ui.line(`${counts.frames} frames (${details.join(', ')}), ${addresses.length} addresses`);
    if (bgp) this.ui.line(`BGP: ${Object.entries(bgp).map(([key, value]) => `${value} ${key.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`)}`).join(', ')}`);
  }

  private flushLines(): void {
    if (!this.liveTable) return;
    this.erase();
    for (const line of this.pending) this.ui.line(line);
    this.pending = [];
  }

  /** Moves the cursor back over the table drawn last and clears to the end of the screen. */
  private erase(): void {
    if (this.drawnLines > 0) this.ui.line(`\x1b[${this.drawnLines + 1}F\x1b[J`);
    this.drawnLines = 0;
  }

  private name(mac: string | undefined): string | undefined {
    return mac === undefined ? undefined : this.names.get(mac);
  }

  private describe(mac: string): string {
    const name = this.names.get(mac);
    return name === undefined ? mac : `${mac} (${name})`;
  }

  private fields(event: WatchEvent): Record<string, unknown> {
    if (isBgpEvent(event)) return { ts: isoTime(event.at), interface: event.interfaceName, from: event.from, to: event.to, ...event.details };
    const context = { ts: isoTime(event.at), interface: event.interfaceName, vlan: event.vlan, ip: event.ip };
    switch (event.event) {
      case 'owner':
        return { ...context, mac: event.mac, name: this.name(event.mac) };
      case 'moved':
        return { ...context, from: event.from, to: event.to, from_name: this.name(event.from), to_name: this.name(event.to), gap_ms: msNumber(event.gapNs) };
      case 'duplicate':
        return { ...context, mac: event.mac, name: this.name(event.mac), macs: event.macs, names: this.namesOf(event.macs) };
      case 'gratuitous':
        return { ...context, mac: event.mac, name: this.name(event.mac), changed_owner: event.changedOwner };
      case 'unanswered':
        return { ...context, since: isoTime(event.since), requests: event.requests };
      case 'ethernet-mismatch':
        return { ...context, mac: event.mac, name: this.name(event.mac), ethernet_source: event.ethernetSource };
    }
  }

  private namesOf(macs: string[]): Record<string, string> | undefined {
    const known = macs.filter((mac) => this.names.has(mac)).map((mac) => [mac, this.names.get(mac)!]);
    return known.length === 0 ? undefined : Object.fromEntries(known);
  }

  private line(event: WatchEvent): string {
    if (isBgpEvent(event)) {
      return `${isoTime(event.at)} ${event.interfaceName ?? '-'} ${event.event} ${event.from} > ${event.to}: ${detailsText(event.details, '; ')}`;
    }
    const where = `${isoTime(event.at)} ${event.interfaceName ?? '-'}${event.vlan === undefined ? '' : `.${event.vlan}`}`;
    const { style } = this.ui;
    switch (event.event) {
      case 'owner':
        return `${where} owner      ${event.ip} is at ${this.describe(event.mac)}`;
      case 'moved': {
        const gap = event.gapNs === undefined ? '' : `, gap ${formatMs(event.gapNs)} ms`;
        return style.cyan.bold(`${where} moved      ${event.ip} from ${this.describe(event.from)} to ${this.describe(event.to)}${gap}`);
      }
      case 'duplicate':
        return style.yellow.bold(`${where} duplicate  ${event.ip} is answered by more than one MAC: ${event.macs.map((mac) => this.describe(mac)).join(', ')}`);
      case 'gratuitous':
        return `${where} gratuitous ${event.ip} announced by ${this.describe(event.mac)}${event.changedOwner ? ', owner changed' : ''}`;
      case 'unanswered':
        return style.red.bold(`${where} unanswered ${event.ip}: ${event.requests} requests since ${isoTime(event.since)} got no answer`);
      case 'ethernet-mismatch':
        return style.yellow(`${where} ethernet-mismatch ${event.ip}: ARP sender ${this.describe(event.mac)}, Ethernet source ${this.describe(event.ethernetSource)}`);
    }
  }

  private addressSummary(address: AddressHistory): Record<string, unknown> {
    return {
      ip: address.ip,
      interface: address.interfaceName,
      vlan: address.vlan,
      owners: address.owners,
      names: this.namesOf(address.owners),
      moves: address.moves.map((move) => ({ ts: isoTime(move.at), from: move.from, to: move.to, gap_ms: msNumber(move.gapNs) })),
      duplicates: address.duplicates,
      dark_ms: msNumber(address.darkNs),
    };
  }
}

/** "key value" pairs, arrays joined with commas, nested objects (other families) inline. */
function detailsText(details: object, separator: string): string {
  const text = (value: unknown): string =>
    Array.isArray(value) ? value.map(text).join(', ') : typeof value === 'object' && value !== null ? detailsText(value, ' ') : String(value);
  return Object.entries(details)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${text(value)}`)
    .join(separator);
}

function isBgpEvent(event: WatchEvent): event is BgpEvent {
  return event.event.startsWith('bgp-');
}

function seconds(value: number): bigint {
  return BigInt(Math.round(value * 1e9));
}

function isoTime(at: bigint | undefined): string | undefined {
  return at === undefined ? undefined : captureTimeText(at);
}

/** Milliseconds with microsecond precision, the capture timestamps' own. */
function msNumber(ns: bigint | undefined): number | undefined {
  return ns === undefined ? undefined : Number(ns / 1000n) / 1000;
}

function formatMs(ns: bigint): string {
  return msNumber(ns)!.toFixed(3);
}
