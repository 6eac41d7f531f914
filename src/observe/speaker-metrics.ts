/**
 * Prometheus metrics of a running speaker (prom-client), served over HTTP on a loopback
 * address unless asked otherwise: what this node announces, what it answers and sends,
 * how often ownership moved, each member's liveness, each BGP session (MetalLB's
 * metallb_bgp_* under vipkit's prefix), and Node's own figures — the event loop's lag
 * among them, which says whether the control plane could starve the data plane.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PeerStatus } from '../bgp/announcer.js';
import { UserError } from '../user-error.js';

/** The port MetalLB's speaker serves its metrics on, so that existing scrape configs find vipkit. */
export const DEFAULT_METRICS_PORT = 7472;

export class MetricsError extends UserError {
  override readonly name = 'MetricsError';
}

export class SpeakerMetrics {
  readonly registry = new Registry();
  private readonly announced = new Gauge({ name: 'vipkit_announced', help: 'Service IPs this node announces (1) or no longer does (0)', labelNames: ['service', 'ip', 'protocol'], registers: [this.registry] });
  private readonly answered = new Counter({ name: 'vipkit_requests_answered_total', help: 'ARP requests and neighbor solicitations answered, per IP', labelNames: ['ip'], registers: [this.registry] });
  private readonly gratuitous = new Counter({ name: 'vipkit_gratuitous_sent_total', help: 'Gratuitous ARPs and unsolicited neighbor advertisements sent, per IP', labelNames: ['ip'], registers: [this.registry] });
  private readonly ownershipChanges = new Counter({ name: 'vipkit_ownership_changes_total', help: 'Service IPs this node took over or gave up', labelNames: ['change'], registers: [this.registry] });
  private readonly memberUp = new Gauge({ name: 'vipkit_member_up', help: "Whether a member's BFD session is Up (1) or not (0)", labelNames: ['member'], registers: [this.registry] });
  private server?: Server;
  /** The BGP peers as they are at the time of a scrape. */
  private peers: () => readonly PeerStatus[] = () => [];

  constructor() {
    const perPeer = (name: string, help: string, value: (peer: PeerStatus) => number) => {
      const read = () => this.peers();
      new Gauge({
        name,
        help,
        labelNames: ['peer'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const peer of read()) this.set({ peer: peer.address }, value(peer));
        },
      });
    };
    perPeer('vipkit_bgp_session_up', 'Whether the BGP session with the peer is Established (1) or not (0)', (peer) => (peer.state === 'Established' ? 1 : 0));
    perPeer('vipkit_bgp_announced_prefixes', 'Prefixes the peer holds from this node', (peer) => peer.announced);
    perPeer('vipkit_bgp_updates_sent_total', 'UPDATE messages sent to the peer', (peer) => peer.updatesSent);
    perPeer('vipkit_bgp_notifications_received_total', 'NOTIFICATION messages received from the peer', (peer) => peer.notificationsReceived);
    // Node's own: event-loop lag (vipkit_nodejs_eventloop_lag_*), heap, CPU, handles.
    collectDefaultMetrics({ register: this.registry, prefix: 'vipkit_' });
  }

  serviceAnnounced(service: string, ip: string, protocol: string): void {
    this.announced.set({ service, ip, protocol }, 1);
    this.ownershipChanges.inc({ change: 'taken' });
  }

  serviceWithdrawn(service: string, ip: string, protocol: string): void {
    this.announced.set({ service, ip, protocol }, 0);
    this.ownershipChanges.inc({ change: 'given up' });
  }

  requestAnswered(ip: string): void {
    this.answered.inc({ ip });
  }

  gratuitousSent(ip: string): void {
    this.gratuitous.inc({ ip });
  }

  /** Where the per-peer figures come from, read at each scrape. */
  followPeers(peers: () => readonly PeerStatus[]): void {
    this.peers = peers;
  }

  /** With --kubernetes: whether the API server answers, and whether this speaker writes the Services' addresses, read at each scrape. */
  followKubernetes(state: () => { connected: boolean; leader: boolean }): void {
    const gauge = (name: string, help: string, value: (now: { connected: boolean; leader: boolean }) => boolean) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(value(state()) ? 1 : 0);
        },
      });
    gauge('vipkit_kubernetes_connected', 'Whether the API server answers (1) or announcing goes on from the last snapshot (0)', (now) => now.connected);
    gauge('vipkit_kubernetes_leader', "Whether this speaker holds the Lease and writes the Services' addresses", (now) => now.leader);
  }

  member(name: string, up: boolean): void {
    this.memberUp.set({ member: name }, up ? 1 : 0);
  }

  /** Serves GET /metrics on `host:port`; rejects with one sentence when it cannot listen. */
  listen(host: string, port: number): Promise<void> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/metrics') {
        response.writeHead(404).end('vipkit serves /metrics only\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(`${error.message}\n`),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(new MetricsError(`cannot serve metrics on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'another process listens there (another speaker?)' : error.code === 'EADDRNOTAVAIL' ? 'that address is not on this host' : error.message}.`));
      });
      server.listen({ host, port }, () => resolve());
    });
  }

  close(): void {
    this.server?.close();
  }
}
