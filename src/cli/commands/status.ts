/**
 * `vipkit status`: what a running `vipkit run` says over its socket — each Layer 2 VIP
 * with its owner, the candidate order and this node's part, each member's liveness, each
 * BGP service IP with the prefixes this node announces, and each BGP peer's session.
 */
import { ExitCode } from '../errors.js';
import { printTable } from '../table.js';
import type { Ui } from '../ui.js';
import { queryStatus } from '../../observe/status-socket.js';
import type { ClusterStatus } from '../../speaker/cluster-speaker.js';

interface StatusOptions {
  socket: string;
  json?: boolean;
}

export async function run(_targets: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as unknown as StatusOptions;
  let status: ClusterStatus;
  try {
    status = (await queryStatus(options.socket)) as ClusterStatus;
  } catch (error) {
    // The thing asked about is not so: no speaker answers there (exit 1, DESIGN.md).
    ui.problem(`vipkit: ${(error as Error).message}.`);
    return ExitCode.NotSo;
  }
  if (ui.json) {
    ui.emit('node', { node: status.node });
    if (status.kubernetes) ui.emit('kubernetes', status.kubernetes);
    for (const member of status.members) ui.emit('member', member);
    for (const address of status.addresses) ui.emit('address', address);
    for (const route of status.routes) ui.emit('route', route);
    for (const peer of status.peers) ui.emit('peer', peer);
    return ExitCode.Ok;
  }
  ui.line(`node ${status.node}`);
  if (status.kubernetes) ui.line(`Kubernetes API server: ${status.kubernetes.connected ? 'connected' : 'unreachable (announcing what was last known)'}`);
  if (status.members.length > 0) {
    ui.line('');
    printTable(ui, ['MEMBER', 'ADDRESS', 'BFD'], status.members.map((member) => [member.name, member.address, member.state]));
  }
  if (status.addresses.length > 0) {
    ui.line('');
    printTable(
      ui,
      ['ADDRESS', 'SERVICE', 'OWNER', 'CANDIDATES', 'HERE', 'SINCE'],
      status.addresses.map((address) => [address.ip, address.service, address.owner ?? '-', address.order.join(' > '), address.interface !== undefined ? `answering on ${address.interface}` : (address.reason ?? ''), address.changed ?? '']),
    );
  }
  if (status.peers.length > 0) {
    ui.line('');
    printTable(
      ui,
      ['PEER', 'SESSION', 'SINCE', 'PREFIXES SENT', 'UPDATES SENT', 'NOTIFICATIONS RECEIVED', 'BFD'],
      status.peers.map((peer) => [peer.address, peer.state, peer.lastChange, String(peer.announced), String(peer.updatesSent), String(peer.notificationsReceived), peer.bfd ?? '-']),
    );
    for (const peer of status.peers) if (peer.lastError !== undefined) ui.line(`${peer.address}: ${peer.lastError}`);
  }
  if (status.routes.length > 0) {
    ui.line('');
    printTable(ui, ['ADDRESS', 'SERVICE', 'POOL', 'HERE'], status.routes.map((route) => [route.ip, route.service, route.pool, route.reason ?? `announcing ${route.prefixes.join(' ')}`]));
  }
  return ExitCode.Ok;
}
