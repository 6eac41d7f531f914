/**
 * What `announce` shows of a running Speaker: a live status on a terminal, lines
 * otherwise, or --json events. One class per mode; neither decides anything.
 */
import { LiveStatus, type Ui } from './ui.js';
import type { Peer } from '../pools/model.js';
import { whyFailed, type CheckResult, type Health } from '../speaker/health-check.js';
import type { Speaker } from '../speaker/speaker.js';

/** Layer 2: counts of answers, gratuitous frames and malformed frames, per interface. */
export class L2Output {
  private answered = 0;
  private gratuitous = 0;
  private malformed = 0;
  private readonly failures = new Set<string>();
  private readonly status: LiveStatus;

  constructor(
    private readonly ui: Ui,
    private readonly speaker: Speaker,
    private readonly interfaceName: string,
    private readonly addresses: string[],
  ) {
    this.status = new LiveStatus(ui, '');
    speaker.on('answered', ({ ip, requesterMac, requesterIp }) => {
      this.answered++;
      if (ui.json) ui.emit('answered', { interface: interfaceName, ip, requester_mac: requesterMac, requester_ip: requesterIp });
      this.refresh();
    });
    speaker.on('gratuitous', ({ ip, mac }) => {
      this.gratuitous++;
      if (ui.json) ui.emit('gratuitous', { interface: interfaceName, ip, mac });
      this.refresh();
    });
    speaker.on('malformed-frame', ({ reason }) => {
      this.malformed++;
      if (ui.json) ui.emit('malformed', { interface: interfaceName, reason });
      else if (this.malformed === 1) this.status.print(() => ui.warn(`ignored a malformed frame on ${interfaceName}: ${reason} (further ones are counted).`));
      this.refresh();
    });
    speaker.on('send-failed', ({ reason }) => {
      if (ui.json) ui.emit('send-failed', { interface: interfaceName, reason });
      // A link that keeps failing fails for one reason: a human is told each reason once.
      else if (!this.failures.has(reason)) this.status.print(() => ui.warn(`could not send on ${interfaceName}: ${reason}; retrying.`));
      this.failures.add(reason);
    });
  }

  started(): void {
    const mac = this.speaker.macOf(this.interfaceName);
    // The banner goes before the spinner starts, or the spinner would draw over it.
    this.ui.note(`Announcing ${describeAddresses(this.addresses)} on ${this.interfaceName} at ${mac}; Ctrl-C stops.`);
    if (this.ui.json) for (const ip of this.addresses) this.ui.emit('announced', { interface: this.interfaceName, ip, mac });
    this.status.update(this.statusText);
    this.status.start();
  }

  summary(): void {
    const { ui, interfaceName, addresses } = this;
    if (ui.json) ui.emit('summary', { interface: interfaceName, addresses, answered: this.answered, gratuitous: this.gratuitous, malformed: this.malformed });
    else ui.line(`Stopped announcing ${describeAddresses(addresses)} on ${interfaceName}: ${this.counts}.`);
  }

  close(): void {
    this.status.stop();
  }

  private get counts(): string {
    return `${this.answered} requests answered, ${this.gratuitous} gratuitous sent${this.malformed > 0 ? `, ${this.malformed} malformed frames ignored` : ''}`;
  }

  private get statusText(): string {
    return `announcing ${this.addresses.length} address(es) on ${this.interfaceName}: ${this.counts}`;
  }

  private refresh(): void {
    this.status.update(this.statusText);
  }
}

export interface BgpOutputOptions {
  /** Routes announced when up. */
  total: number;
  /** Their prefixes, when few enough to list. */
  listed: string[] | undefined;
  /** The MED the routes carry now (it changes with the health check's state). */
  medNow(): number | undefined;
}

/** BGP: a live status per peer on a TTY, lines otherwise, or --json events. */
export class BgpOutput {
  /** Why the last health check failed; undefined after a pass. */
  private lastFailure?: string;
  /** Started after the banner, so the banner is not written over the spinner. */
  private readonly status: LiveStatus;

  constructor(
    private readonly ui: Ui,
    private readonly speaker: Speaker,
    private readonly options: BgpOutputOptions,
  ) {
    this.status = new LiveStatus(ui, 'connecting');
    const { total, listed } = options;
    speaker.on('state', ({ peer, from, to, reason }) => {
      if (ui.json) ui.emit('state', { peer, from, to, reason });
      else if (to === 'Established' || from === 'Established' || to === 'Idle') this.print(() => ui.note(`${peer}: ${from} -> ${to} (${reason})`));
      this.refresh();
    });
    speaker.on('announced', ({ peer, count }) => {
      const med = options.medNow();
      if (ui.json) ui.emit('announced', { peer, routes: count, med, prefixes: count === total ? listed : undefined });
      else this.print(() => ui.line(`Announced ${describeRoutes(count, listed)} to ${peer}${med !== undefined ? ` with MED ${med}` : ''}.`));
      this.refresh();
    });
    speaker.on('withdrawn', ({ peer, count }) => {
      if (ui.json) ui.emit('withdrawn', { peer, routes: count, prefixes: count === total ? listed : undefined });
      else this.print(() => ui.line(`Withdrew ${describeRoutes(count, listed)} from ${peer}.`));
      this.refresh();
    });
    // Every resend skips the same routes again: a human is told once per peer and reason.
    const warned = new Set<string>();
    speaker.on('skipped', ({ peer, family, count, reason }) => {
      if (ui.json) ui.emit('skipped', { peer, family, routes: count, reason });
      else if (!warned.has(`${peer} ${family} ${reason}`)) {
        warned.add(`${peer} ${family} ${reason}`);
        this.print(() => ui.warn(`${count} ${family} route(s) not sent to ${peer}: ${reason}.`));
      }
    });
    speaker.on('notification', ({ peer, description, sent }) => {
      if (ui.json) ui.emit('notification', { peer, direction: sent ? 'sent' : 'received', description });
      else this.print(() => ui.note(`${peer}: NOTIFICATION ${sent ? 'sent' : 'received'}: ${description}`));
    });
    speaker.on('rejected', ({ address, reason }) => {
      if (ui.json) ui.emit('rejected', { peer: address, reason });
      else this.print(() => ui.note(`${address}: connection refused (Cease NOTIFICATION sent): ${reason}`));
    });
    speaker.on('malformed', ({ peer, errors }) => {
      // RFC 7606: the session survived; say what was wrong and go on.
      if (ui.json) ui.emit('malformed', { peer, errors });
      else this.print(() => ui.warn(`${peer} sent a malformed UPDATE (handled as RFC 7606 says): ${errors.join('; ')}`));
    });
  }

  started(peers: Peer[]): void {
    if (this.ui.json) return;
    const what = describeRoutes(this.options.total, this.options.listed);
    this.ui.note(`Announcing ${what} to ${peers.map((peer) => `${peer.address} (AS ${peer.asn})`).join(', ')}; Ctrl-C withdraws and stops.`);
    this.status.start();
    this.refresh();
  }

  check(result: CheckResult): void {
    if (this.ui.json) this.ui.emit('check', { passed: result.passed, code: result.code, reason: result.reason, duration_ms: result.durationMs, health: result.state, pending: result.pending });
    const failure = whyFailed(result);
    // Each new reason once (a check that cannot run at all says so), not every failure.
    if (failure !== undefined && failure !== this.lastFailure && !this.ui.json) this.print(() => this.ui.line(`Health check failed: ${failure}; service ${result.state}.`));
    this.lastFailure = failure;
    this.refresh(`check ${result.passed ? 'passed' : 'failed'}${failure ? ` (${failure})` : ''}, service ${result.state}`);
  }

  health(state: Health): void {
    if (this.ui.json) this.ui.emit('health', { health: state });
    else this.print(() => this.ui.line(`Health check: service ${state}.`));
  }

  summary(stopReason: string | undefined): void {
    const peers = this.speaker.peers;
    if (this.ui.json) {
      this.ui.emit('summary', { routes: this.options.total, stopped: stopReason, peers: peers.map((peer) => ({ peer: peer.address, state: peer.state, established: peer.establishedCount, malformed: peer.malformed })) });
      return;
    }
    for (const peer of peers) {
      this.ui.line(`${peer.address}: ${peer.establishedCount > 0 ? `established ${peer.establishedCount} time(s)` : 'never established'}${peer.malformed > 0 ? `, ${peer.malformed} malformed UPDATE error(s) survived` : ''}.`);
    }
    const ending = this.speaker.everEstablished ? 'withdrew everything and closed each session with a Cease' : 'no session ever reached Established';
    this.ui.line(`Stopped (${stopReason}): ${ending}.`);
  }

  close(): void {
    this.status.stop();
  }

  private print(write: () => void): void {
    this.status.print(write);
  }

  private refresh(extra?: string): void {
    const lines = this.speaker.peers.map((peer) => `${peer.address}  ${peer.state}  ${peer.announced} prefixes sent  since ${peer.lastChange.toLocaleTimeString()}`);
    this.status.update([...lines, ...(extra ? [extra] : [])].join('\n  '));
  }
}

export function describeAddresses(addresses: string[]): string {
  return addresses.length <= 3 ? addresses.join(', ') : `${addresses.length} addresses (${addresses[0]} to ${addresses.at(-1)})`;
}

function describeRoutes(count: number, listed: string[] | undefined): string {
  if (listed !== undefined && count === listed.length && count <= 3) return listed.join(', ');
  return `${count} route(s)`;
}
