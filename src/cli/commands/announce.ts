import { ExitCode, UsageError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import type { Ui } from '../ui.js';
import { listInterfaces } from '../../link/interfaces.js';
import { requiredInterface } from '../interface-choice.js';
import { L2_SNAPSHOT_LENGTH } from '../../link/link.js';
import { openPcapLink } from '../../link/pcap-link.js';
import { CONFLICT_PROBE_FILTER, probeForConflicts } from '../../l2/conflict-probe.js';
import { L2Announcer } from '../../l2/l2-announcer.js';
import { Responder } from '../../l2/responder.js';
import { parseTargets } from '../../l2/targets.js';
import { busyPoll, sleep } from '../../time.js';
import { vlanTag } from '../../wire/ethernet.js';
import { announceBgp, type BgpAnnounceOptions } from './announce-bgp.js';

interface AnnounceOptions {
  l2?: boolean;
  interface?: string;
  garpCount: number;
  garpInterval: number;
  garpRefresh?: number;
  garpRate: number;
  for?: number;
  force?: boolean;
  vlan?: number;
  busyPoll?: boolean;
  json?: boolean;
}

/** Layer 2 announcing may hold at most this many addresses: each one is answered in memory. */
const MAX_L2_ADDRESSES = 65_536;
/** RFC 5227 2.1.1 sends 3 probes; these gaps (100 ms) are LAN-sized rather than its 1-2 s. */
const CONFLICT_PROBE = { attempts: 3, timeoutMs: 300 };

export async function run(specs: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as unknown as AnnounceOptions & BgpAnnounceOptions;
  const bgp = options.peer !== undefined && options.peer.length > 0;
  if (options.l2 && bgp) throw new UsageError('announce does either --l2 or BGP (--peer) in one run; start one of each to do both.');
  if (bgp) return announceBgp(specs, options, ui);
  if (!options.l2) throw new UsageError('announce needs --peer <router> to announce over BGP, or --l2 -I <interface> to answer ARP/NDP.');
  return announceL2(specs, options, ui);
}

async function announceL2(specs: string[], options: AnnounceOptions, ui: Ui): Promise<number> {
  const addresses = parseAddresses(specs);
  const iface = requiredInterface(options.interface, 'announce --l2');
  refuseLocalAddresses(addresses);
  const vlan = vlanTag(options.vlan);
  const protocols = `(${CONFLICT_PROBE_FILTER} or ${Responder.captureFilter()})`;
  const link = await openPcapLink({ interfaceName: iface.name, filter: vlan ? `vlan ${vlan.id} and ${protocols}` : protocols, snapshotLength: L2_SNAPSHOT_LENGTH });
  const stop = new AbortController();
  const stopListening = onInterrupt(() => stop.abort());
  try {
    if (!options.force) {
      const probing = ui.progress(`probing ${addresses.length} address(es) for another host answering`);
      const conflicts = await probeForConflicts(link, addresses, {
        ...CONFLICT_PROBE,
        rate: options.garpRate,
        signal: stop.signal,
        onProgress: (sent, total) => probing.update(`probing for another host answering: ${sent}/${total} probes`),
      });
      probing.stop();
      if (conflicts.size > 0) {
        const [ip, macs] = [...conflicts][0]!;
        throw new UsageError(`${ip} is already answered by ${macs.join(', ')}; refusing to announce it (--force takes it over anyway).`);
      }
      if (stop.signal.aborted) {
        ui.note('Interrupted while probing for conflicts: nothing was announced.');
        return ExitCode.Ok;
      }
    }
    let answered = 0;
    let gratuitous = 0;
    let malformed = 0;
    const counts = () => `${answered} requests answered, ${gratuitous} gratuitous sent${malformed > 0 ? `, ${malformed} malformed frames ignored` : ''}`;
    // The banner goes before the spinner starts, or the spinner would draw over it.
    ui.note(`Announcing ${describe(addresses)} on ${iface.name} at ${link.mac}; Ctrl-C stops.`);
    const status = ui.progress(`announcing ${addresses.length} address(es) on ${iface.name}`);
    const showStatus = () => status.update(`announcing ${addresses.length} address(es) on ${iface.name}: ${counts()}`);
    let failure: unknown;
    const schedule = {
      count: options.garpCount,
      intervalMs: options.garpInterval * 1000,
      refreshMs: options.garpRefresh === undefined ? undefined : options.garpRefresh * 1000,
      ratePerSecond: options.garpRate,
    };
    const announcer = new L2Announcer(
      link,
      schedule,
      {
        answered({ ip, requesterMac, requesterIp }) {
          answered++;
          if (ui.json) ui.emit('answered', { interface: iface.name, ip, requester_mac: requesterMac, requester_ip: requesterIp });
          showStatus();
        },
        gratuitous(ip) {
          gratuitous++;
          if (ui.json) ui.emit('gratuitous', { interface: iface.name, ip, mac: link.mac });
          showStatus();
        },
        malformed(reason) {
          malformed++;
          if (ui.json) ui.emit('malformed', { interface: iface.name, reason });
          else if (malformed === 1) ui.warn(`ignored a malformed frame on ${iface.name}: ${reason} (further ones are counted).`);
          showStatus();
        },
        failed(error) {
          failure = error;
          stop.abort();
        },
      },
      vlan,
    );
    announcer.set(addresses);
    if (ui.json) for (const ip of addresses) ui.emit('announced', { interface: iface.name, ip, mac: link.mac });
    if (options.busyPoll) void busyPoll(stop.signal);
    await sleep(options.for === undefined ? Infinity : options.for * 1000, stop.signal);
    announcer.stop();
    status.stop();
    // A send failure (e.g. the interface went away) ends the run with its one sentence.
    if (failure !== undefined) throw failure;
    if (ui.json) ui.emit('summary', { interface: iface.name, addresses, answered, gratuitous, malformed });
    else ui.line(`Stopped announcing ${describe(addresses)} on ${iface.name}: ${counts()}.`);
    return ExitCode.Ok;
  } finally {
    stopListening();
    link.close();
  }
}

function parseAddresses(specs: string[]): string[] {
  if (specs.length === 0) throw new UsageError('announce --l2 needs the addresses to answer for, for example: vipkit announce --l2 -I eth0 192.0.2.100');
  const addresses = [...new Set(specs.flatMap((spec) => parseTargets([spec], MAX_L2_ADDRESSES).addresses))];
  if (addresses.length > MAX_L2_ADDRESSES) throw new UsageError(`that is ${addresses.length} addresses; announce --l2 holds at most ${MAX_L2_ADDRESSES}.`);
  return addresses;
}

/** An address this host already holds is answered by its kernel: two answers would be a duplicate of our own making. */
function refuseLocalAddresses(addresses: string[]): void {
  for (const iface of listInterfaces()) {
    const held = [...iface.ipv4, ...iface.ipv6].find((address) => addresses.includes(address.address));
    if (held) throw new UsageError(`${held.address} is configured on ${iface.name} of this host, whose kernel already answers for it; remove it there or do not announce it.`);
  }
}

function describe(addresses: string[]): string {
  return addresses.length <= 3 ? addresses.join(', ') : `${addresses.length} addresses (${addresses[0]} to ${addresses.at(-1)})`;
}
