import { familyOf } from '../../pools/address-range.js';
import { ExitCode, UsageError } from '../errors.js';
import { Stop } from '../interrupt.js';
import { printTable } from '../table.js';
import type { Ui } from '../ui.js';
import { interfaceHolding, sourceAddressFor, type InterfaceInfo } from '../../link/interfaces.js';
import { interfaceFor } from '../interface-choice.js';
import { L2_SNAPSHOT_LENGTH, type Link } from '../../link/link.js';
import { openPcapLink } from '../../link/pcap-link.js';
import { loadEthers } from '../../l2/ethers.js';
import { gratuitousArp, unsolicitedAdvertisement } from '../../l2/gratuitous.js';
import { Prober, type Reply } from '../../l2/prober.js';
import { sweep } from '../../l2/sweep.js';
import { parseTargets, type TargetList } from '../../l2/targets.js';
import { vlanTag, type VlanTag } from '../../wire/ethernet.js';
import { sleep } from '../../time.js';

interface ArpingOptions {
  interface?: string;
  count?: number;
  deadline?: number;
  interval: number;
  source?: string;
  first?: boolean;
  quiet?: boolean;
  dad?: boolean;
  unsolicited?: boolean;
  reply?: boolean;
  unicast?: boolean;
  json?: boolean;
  vlan?: number;
  ethers?: string;
  failOnDuplicate?: boolean;
  rate: number;
  retry: number;
  timeout: number;
}

const USAGE_EXAMPLES = 'for example: vipkit arping 192.0.2.11, vipkit arping 192.0.2.64/27, vipkit arping 2001:db8:2::11';

/** Everything a run needs, checked before anything is opened or sent. */
interface Plan {
  targets: TargetList;
  iface: InterfaceInfo;
  sourceIp?: string;
  vlan?: VlanTag;
  names: Map<string, string>;
}

export async function run(specs: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as unknown as ArpingOptions;
  const plan = makePlan(specs, options, ui);
  const own = plan.targets.single && !options.unsolicited && !options.reply ? interfaceHolding(plan.targets.addresses[0]!) : undefined;
  if (own) ui.warn(`${plan.targets.addresses[0]} is configured on ${own.name} of this host: a kernel does not answer its own requests, so expect no reply from it.`);
  const link = await openPcapLink({ interfaceName: plan.iface.name, filter: Prober.captureFilter(plan.targets.family, plan.vlan), snapshotLength: L2_SNAPSHOT_LENGTH });
  const stop = new Stop();
  if (options.deadline !== undefined) stop.after(options.deadline, `-w ${options.deadline} s elapsed`);
  try {
    if (options.unsolicited || options.reply) return await announce(link, plan, options, ui, stop.signal);
    const session = new ReplyLog(plan, options, ui);
    const prober = new Prober({ link, family: plan.targets.family, sourceIp: plan.sourceIp, vlan: plan.vlan });
    return plan.targets.single
      ? await probeOne(link, prober, session, plan, options, ui, stop)
      : await probeSweep(link, prober, session, plan, options, ui, stop.signal);
  } finally {
    stop.dispose();
    link.close();
  }
}

function makePlan(specs: string[], options: ArpingOptions, ui: Ui): Plan {
  if (specs.length === 0) throw new UsageError(`arping needs a target: an address, a CIDR or a range; ${USAGE_EXAMPLES}.`);
  const targets = parseTargets(specs);
  if ((options.unsolicited || options.reply || options.dad) && !targets.single) {
    throw new UsageError('-D, -U and -A take one address, not a range.');
  }
  if (options.dad && (options.unsolicited || options.reply)) throw new UsageError('-D cannot be combined with -U or -A.');
  const names = loadEthers(options.ethers, (sentence) => ui.warn(sentence));
  const iface = interfaceFor(targets.addresses[0]!, options.interface);
  const vlan = vlanTag(options.vlan);
  return { targets, iface, vlan, names, sourceIp: chooseSource(targets, iface, options) };
}

function chooseSource(targets: TargetList, iface: InterfaceInfo, options: ArpingOptions): string | undefined {
  const target = targets.addresses[0]!;
  if (options.dad) return undefined;
  if (options.unsolicited || options.reply) return target;
  if (options.source !== undefined) {
    if (familyOf(options.source) !== targets.family) throw new UsageError(`-s ${options.source} is not an IPv${targets.family} address like the target (without a %zone).`);
    return options.source;
  }
  const source = sourceAddressFor(iface, target);
  if (!source) {
    throw new UsageError(`${iface.name} has no IPv${targets.family} address in a subnet holding ${target}; give the source address with -s, or name another interface with -I.`);
  }
  return source;
}

/** Replies seen so far, per target, and how they are shown. */
class ReplyLog {
  readonly macsByTarget = new Map<string, string[]>();
  readonly rtts: number[] = [];
  received = 0;

  constructor(
    private readonly plan: Plan,
    private readonly options: ArpingOptions,
    private readonly ui: Ui,
  ) {}

  record(reply: Reply, printLine: boolean): void {
    this.received++;
    if (reply.rttMs !== undefined) this.rtts.push(reply.rttMs);
    const macs = this.macsByTarget.get(reply.ip) ?? [];
    const isNewMac = !macs.includes(reply.mac);
    if (isNewMac) macs.push(reply.mac);
    this.macsByTarget.set(reply.ip, macs);
    const name = this.plan.names.get(reply.mac);
    if (this.ui.json) {
      this.ui.emit('reply', { interface: this.plan.iface.name, ip: reply.ip, mac: reply.mac, name, rtt_ms: round3(reply.rttMs) });
    } else if (printLine && !this.options.quiet) {
      const rtt = reply.rttMs === undefined ? '' : `  ${reply.rttMs.toFixed(3)}ms`;
      this.ui.line(`Unicast reply from ${reply.ip} [${reply.mac.toUpperCase()}]${rtt}${name ? `  ${name}` : ''}`);
    }
    if (isNewMac && macs.length === 2 && !this.options.quiet) {
      this.ui.warn(`${reply.ip} is answered by more than one MAC: ${this.describe(macs)}. Two hosts or interfaces claim this address.`);
    }
  }

  describe(macs: string[]): string {
    return macs.map((mac) => (this.plan.names.has(mac) ? `${mac} (${this.plan.names.get(mac)})` : mac)).join(', ');
  }

  get duplicates(): string[] {
    return [...this.macsByTarget].filter(([, macs]) => macs.length > 1).map(([ip]) => ip);
  }

  summary(sent: number): Record<string, unknown> {
    const sorted = [...this.rtts].sort((a, b) => a - b);
    const rtt_ms = sorted.length === 0 ? undefined : { min: round3(sorted[0]), median: round3(median(sorted)), max: round3(sorted.at(-1)) };
    const duplicates = this.duplicates;
    return {
      interface: this.plan.iface.name,
      sent,
      received: this.received,
      targets: Object.fromEntries(this.macsByTarget),
      rtt_ms,
      duplicates: duplicates.length > 0 ? duplicates : undefined,
    };
  }

  exitCode(success: boolean): number {
    if (this.options.failOnDuplicate && this.duplicates.length > 0) return ExitCode.AskedToFail;
    return success ? ExitCode.Ok : ExitCode.NotSo;
  }
}

async function probeOne(link: Link, prober: Prober, log: ReplyLog, plan: Plan, options: ArpingOptions, ui: Ui, stop: Stop): Promise<number> {
  const target = plan.targets.addresses[0]!;
  const first = options.first || options.dad;
  let unicastMac: string | undefined;
  let broadcasts = 0;
  let sent = 0;
  link.onFrame((frame) => {
    const result = prober.classify(frame);
    if (!('reply' in result)) return;
    log.record(result.reply, true);
    if (options.unicast) unicastMac ??= result.reply.mac;
    // iputils: -c with -w counts replies, not probes.
    const enoughReplies = options.count !== undefined && options.deadline !== undefined && log.received >= options.count;
    if (first) stop.stop('a reply came');
    if (enoughReplies) stop.stop(`${options.count} replies came`);
  });
  ui.note(`ARPING ${target} from ${prober.sourceIp} ${plan.iface.name}`);
  const countLimitsProbes = options.count !== undefined && options.deadline === undefined;
  while (!stop.signal.aborted && !(countLimitsProbes && sent >= options.count!)) {
    const probedAt = performance.now();
    prober.probe(target, unicastMac);
    sent++;
    if (!unicastMac) broadcasts++;
    await sleep(probedAt + options.interval * 1000 - performance.now(), stop.signal);
  }
  if (ui.json) ui.emit('summary', log.summary(sent));
  else if (!options.quiet) ui.line(`Sent ${sent} probes (${broadcasts} broadcast(s))\nReceived ${log.received} response(s)`);
  if (options.dad) return log.received > 0 ? ExitCode.NotSo : ExitCode.Ok;
  return log.exitCode(log.received > 0);
}

async function probeSweep(link: Link, prober: Prober, log: ReplyLog, plan: Plan, options: ArpingOptions, ui: Ui, signal: AbortSignal): Promise<number> {
  const { addresses } = plan.targets;
  link.onFrame((frame) => {
    const result = prober.classify(frame);
    if ('reply' in result) log.record(result.reply, false);
  });
  ui.note(`ARPING ${addresses.length} addresses (${addresses[0]} to ${addresses.at(-1)}) from ${prober.sourceIp} ${plan.iface.name}`);
  const progress = ui.progress(`probing ${addresses.length} addresses`);
  const started = performance.now();
  const sent = await sweep(prober, addresses, (ip) => log.macsByTarget.has(ip), {
    rate: options.rate,
    attempts: options.retry,
    timeoutMs: options.timeout * 1000,
    signal,
    onProgress: (done, total) => progress.update(`probing: ${done}/${total} probes, ${log.macsByTarget.size} answered`),
  });
  progress.stop();
  const seconds = (performance.now() - started) / 1000;
  const answered = addresses.filter((ip) => log.macsByTarget.has(ip));
  if (ui.json) {
    ui.emit('summary', { ...log.summary(sent), silent: addresses.length - answered.length, duration_s: round3(seconds) });
  } else if (!options.quiet) {
    printSweepTable(answered, log, plan, ui);
    const duplicates = log.duplicates.length;
    ui.line(
      `${answered.length} of ${addresses.length} addresses answered, ${addresses.length - answered.length} silent` +
        `${duplicates > 0 ? ui.style.yellow.bold(`, ${duplicates} answered by more than one MAC`) : ''}; ${sent} probes in ${seconds.toFixed(2)} s`,
    );
  }
  return log.exitCode(answered.length > 0);
}

function printSweepTable(answered: string[], log: ReplyLog, plan: Plan, ui: Ui): void {
  const rows = answered.map((ip) => {
    const macs = log.macsByTarget.get(ip)!;
    const names = macs.map((mac) => plan.names.get(mac) ?? '-').join(', ');
    return [ip, macs.join(', '), names, macs.length > 1 ? 'DUPLICATE' : ''];
  });
  printTable(ui, ['ADDRESS', 'MAC', 'NAME', ''], rows, (row) => row[3] !== '');
}

/** -U / -A: announce the address as ours; no replies are expected (iputils). */
async function announce(link: Link, plan: Plan, options: ArpingOptions, ui: Ui, signal: AbortSignal): Promise<number> {
  const ip = plan.targets.addresses[0]!;
  const frame =
    plan.targets.family === 4 ? gratuitousArp(link.mac, ip, options.reply ? 'reply' : 'request', plan.vlan) : unsolicitedAdvertisement(link.mac, ip, plan.vlan);
  ui.note(`ARPING ${ip} from ${ip} ${plan.iface.name}`);
  let sent = 0;
  while (!signal.aborted && (options.count === undefined || sent < options.count)) {
    link.send(frame);
    sent++;
    if (options.count !== undefined && sent >= options.count) break;
    await sleep(options.interval * 1000, signal);
  }
  if (ui.json) ui.emit('summary', { interface: plan.iface.name, ip, mac: link.mac, sent, received: 0 });
  else if (!options.quiet) ui.line(`Sent ${sent} probes (${sent} broadcast(s))\nReceived 0 response(s)`);
  return sent > 0 ? ExitCode.Ok : ExitCode.NotSo;
}

function median(sorted: number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function round3(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 1000) / 1000;
}
