import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe } from 'node:test';
import { Bird } from '../../src/lab/bgp-daemons.js';
import type { Lab } from '../../src/lab/lab.js';
import { labTest, labUnavailableReason, sharedLab } from '../helpers/root.js';
import { startVipkitJson, until, type JsonEvent, type VipkitProcess } from '../helpers/vipkit-process.js';

/**
 * `--accept-incoming` against BIRD configured with vipkit's address as its neighbour, so
 * both connect: a connection collision (RFC 4271 6.8) that must end in one session.
 * BIRD's router id is higher than vipkit's, so both sides close the connection vipkit
 * opened. `bgp-peer` runs on node1 against `router`, `announce` on node2 against
 * `router2`, each pair with its own BIRD.
 *
 * To make the two connections overlap every time, each side is paused (SIGSTOP) in turn;
 * the kernels complete the TCP handshakes and hold what is sent meanwhile. vipkit pauses
 * once it listens, while BIRD starts and connects to it (BIRD then sits in OpenSent).
 * BIRD pauses, vipkit resumes: it takes BIRD's connection, and its ConnectRetry timer
 * opens the second one and sends an OPEN on it, which waits in BIRD's socket. Only then
 * does BIRD resume, so neither connection can reach Established before both exist.
 */
const PAIRS = {
  bgpPeer: { router: 'router', routerAddress: '192.0.2.1', node: 'node1', nodeAddress: '192.0.2.11' },
  announce: { router: 'router2', routerAddress: '192.0.2.2', node: 'node2', nodeAddress: '192.0.2.12' },
};
type Pair = (typeof PAIRS)['bgpPeer'];

function birdConfig(pair: Pair): string {
  return `router id 203.0.113.254;
protocol device {}
protocol static s4 { ipv4; route 203.0.113.0/25 blackhole; route 198.51.100.0/24 blackhole; }
protocol bgp vipkit {
  local ${pair.routerAddress} as 65002;
  neighbor ${pair.nodeAddress} as 64800;
  connect delay time 1;
  connect retry time 2;
  ipv4 { import all; export all; };
}
`;
}

/** The bird process of `host` (its namespace holds no other). */
function birdPid(lab: Lab, host: string): number {
  const pids = execFileSync('ip', ['netns', 'pids', lab.namespace(host)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  const pid = pids.find((candidate) => readFileSync(`/proc/${candidate}/comm`, 'utf8').trim() === 'bird');
  if (pid === undefined) throw new Error(`no bird process in ${host}`);
  return pid;
}

/** Whether bytes (our OPEN) wait unread at BIRD on a connection vipkit opened to its port. */
async function openWaitsAtBird(lab: Lab, pair: Pair): Promise<boolean> {
  const sockets = (await lab.exec(pair.router, ['ss', '-Htn', 'state', 'established', '( sport = :179 )'])).stdout;
  const quoted = (address: string) => address.replaceAll('.', '\\.');
  return new RegExp(`^\\S*\\s*[1-9]\\d*\\s+\\d+\\s+\\S*${quoted(pair.routerAddress)}\\]?:179\\s+\\S*${quoted(pair.nodeAddress)}\\]?:\\d+`, 'm').test(sockets);
}

/**
 * Runs vipkit (`argv`) and BIRD into a collision as the header says, then `check`;
 * vipkit must exit 0 when stopped.
 */
async function collide(lab: Lab, pair: Pair, argv: string[], check: (vipkit: VipkitProcess, bird: Bird) => Promise<void>): Promise<void> {
  const vipkit = startVipkitJson(lab, pair.node, argv);
  let bird: Bird | undefined;
  let birdProcess: number | undefined;
  try {
    // BIRD is not running yet: the first connection is refused, and vipkit listens by then.
    await until('vipkit tried to connect', () => vipkit.events.some((event) => event.event === 'state' && event['to'] === 'Idle'), 15_000);
    vipkit.child.kill('SIGSTOP');
    bird = await Bird.start(lab, pair.router, birdConfig(pair));
    await until('BIRD connected to vipkit and sent its OPEN', async () => /\bOpenSent\b/.test(await bird!.birdc('show', 'protocols', 'vipkit')), 15_000);
    birdProcess = birdPid(lab, pair.router);
    process.kill(birdProcess, 'SIGSTOP');
    vipkit.child.kill('SIGCONT');
    await until('vipkit connected to BIRD too and sent its OPEN', () => openWaitsAtBird(lab, pair), 15_000);
    process.kill(birdProcess, 'SIGCONT');
    await bird.waitEstablished();
    await check(vipkit, bird);
  } finally {
    if (birdProcess !== undefined) process.kill(birdProcess, 'SIGCONT');
    vipkit.child.kill('SIGCONT');
    const code = await vipkit.stop();
    assert.equal(code, 0, vipkit.stderr());
  }
}

const established = (events: JsonEvent[]) => events.filter((event) => event.event === 'state' && event['to'] === 'Established');

describe('--accept-incoming: a connection collision with BIRD', { skip: labUnavailableReason() }, () => {
  const lab = sharedLab({
    hosts: Object.values(PAIRS).flatMap((pair) => [
      { name: pair.router, addresses: [`${pair.routerAddress}/24`] },
      { name: pair.node, addresses: [`${pair.nodeAddress}/24`] },
    ]),
  });

  labTest('bgp-peer: one connection gets Cease / Connection Collision Resolution, the session comes up once, routes flow', async () => {
    const argv = ['bgp-peer', '--my-asn', '64800', '--peer-asn', '65002', '--family', 'ipv4', '--accept-incoming', '--timeout', '50', '--json', PAIRS.bgpPeer.routerAddress];
    await collide(lab(), PAIRS.bgpPeer, argv, async (vipkit) => {
      await until('vipkit received both BIRD routes', () => vipkit.events.filter((event) => event.event === 'route').length === 2, 30_000);
      const collisions = vipkit.events.filter((event) => event.event === 'notification' && event['code'] === 6 && event['subcode'] === 7);
      assert.ok(collisions.length > 0, `a Cease / Connection Collision Resolution on one connection: ${JSON.stringify(vipkit.events)}`);
      // Sent by vipkit or by BIRD, whichever saw it first; when vipkit did, it closed its own.
      const ours = collisions.find((event) => event['direction'] === 'sent');
      if (ours) assert.match(String(ours['reason']), /^connection collision \(RFC 4271 6\.8\): .*\(on the connection we opened\)$/);
      assert.equal(established(vipkit.events).length, 1, 'the session came up exactly once');
      assert.ok(!vipkit.events.some((event) => event.event === 'down'), 'and stayed up');
      assert.deepEqual(vipkit.events.filter((event) => event.event === 'route').map((event) => event['prefix']).sort(), ['198.51.100.0/24', '203.0.113.0/25']);
    });
  });

  labTest('announce: the session comes up once and BIRD gets the route, next hop our address on either connection', async () => {
    const argv = ['announce', '--peer', `${PAIRS.announce.routerAddress},asn=65002`, '--my-asn', '64800', '--accept-incoming', '--json', '203.0.113.200'];
    await collide(lab(), PAIRS.announce, argv, async (vipkit, bird) => {
      await until('BIRD holds the announced route', async () => (await bird.birdc('show', 'route', 'protocol', 'vipkit')).includes('203.0.113.200/32'), 15_000);
      assert.match(await bird.birdc('show', 'route', 'all', 'protocol', 'vipkit'), new RegExp(`BGP\\.next_hop: ${PAIRS.announce.nodeAddress.replaceAll('.', '\\.')}\\b`));
      const collisions = vipkit.events.filter((event) => event.event === 'notification' && String(event['description']).startsWith('Cease / Connection Collision Resolution'));
      assert.ok(collisions.length > 0, `a Cease / Connection Collision Resolution on one connection: ${JSON.stringify(vipkit.events)}`);
      assert.equal(established(vipkit.events).length, 1, 'the session came up exactly once');
    });
  });
});
