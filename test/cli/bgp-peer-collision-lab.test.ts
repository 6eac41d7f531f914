import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe } from 'node:test';
import { Bird, Gobgp } from '../../src/lab/bgp-daemons.js';
import type { Lab } from '../../src/lab/lab.js';
import { labTest, labUnavailableReason, sharedLab } from '../helpers/root.js';
import { startVipkitJson, until, type JsonEvent, type VipkitProcess } from '../helpers/vipkit-process.js';

/**
 * `--accept-incoming` against a router configured with vipkit's address as its neighbour,
 * so both connect: a connection collision (RFC 4271 6.8) that must end in one session.
 * The routers' BGP identifier is higher than vipkit's, so both sides close the connection
 * vipkit opened. `bgp-peer` runs on node1 against BIRD on `router` and on node3 against
 * GoBGP on `router3`; `announce` on node2 against BIRD on `router2`.
 *
 * To make the two connections overlap every time, each side is paused (SIGSTOP) in turn;
 * the kernels complete the TCP handshakes and hold what is sent meanwhile. vipkit pauses
 * once it listens, while the router starts and connects to it (it then sits in OpenSent).
 * The router pauses, vipkit resumes: it takes the router's connection, and its
 * ConnectRetry timer opens the second one and sends an OPEN on it, which waits in the
 * router's socket. Only then does the router resume, so neither connection can reach
 * Established before both exist.
 */
const PAIRS = {
  bgpPeer: { router: 'router', routerAddress: '192.0.2.1', node: 'node1', nodeAddress: '192.0.2.11' },
  announce: { router: 'router2', routerAddress: '192.0.2.2', node: 'node2', nodeAddress: '192.0.2.12' },
  gobgp: { router: 'router3', routerAddress: '192.0.2.3', node: 'node3', nodeAddress: '192.0.2.13' },
};
type Pair = (typeof PAIRS)['bgpPeer'];
/** Higher than any node's address, which vipkit takes as its identifier. */
const ROUTER_ID = '203.0.113.254';

/** A router daemon in the collision: started in its namespace, watched by its own CLI. */
interface CollidingRouter {
  /** The process name, to pause it. */
  command: string;
  start(lab: Lab, pair: Pair): Promise<void>;
  /** Whether it connected to vipkit and sent its OPEN. */
  openSent(pair: Pair): Promise<boolean>;
  waitEstablished(pair: Pair): Promise<void>;
  stop(): void;
}

class BirdRouter implements CollidingRouter {
  readonly command = 'bird';
  bird?: Bird;

  async start(lab: Lab, pair: Pair): Promise<void> {
    this.bird = await Bird.start(
      lab,
      pair.router,
      `router id ${ROUTER_ID};
protocol device {}
protocol static s4 { ipv4; route 203.0.113.0/25 blackhole; route 198.51.100.0/24 blackhole; }
protocol bgp vipkit {
  local ${pair.routerAddress} as 65002;
  neighbor ${pair.nodeAddress} as 64800;
  connect delay time 1;
  connect retry time 2;
  ipv4 { import all; export all; };
}
`,
    );
  }

  async openSent(): Promise<boolean> {
    return /\bOpenSent\b/.test(await this.bird!.birdc('show', 'protocols', 'vipkit'));
  }

  async waitEstablished(): Promise<void> {
    await this.bird!.waitEstablished();
  }

  stop(): void {
    this.bird?.removeFolder();
  }
}

class GobgpRouter implements CollidingRouter {
  readonly command = 'gobgpd';
  gobgp?: Gobgp;

  async start(lab: Lab, pair: Pair): Promise<void> {
    // GoBGP connects out by itself, and again every connect-retry seconds while it has no session.
    this.gobgp = await Gobgp.start(
      lab,
      pair.router,
      `[global.config]
  as = 65002
  router-id = "${ROUTER_ID}"
  local-address-list = ["${pair.routerAddress}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${pair.nodeAddress}"
    peer-as = 64800
  [neighbors.timers.config]
    connect-retry = 5
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`,
    );
    for (const prefix of ['203.0.113.0/25', '198.51.100.0/24']) await this.gobgp.cli('global', 'rib', 'add', '-a', 'ipv4', prefix);
  }

  async openSent(pair: Pair): Promise<boolean> {
    const neighbor = (await this.gobgp!.json('neighbor', pair.nodeAddress)) as { state?: { session_state?: number | string } };
    return neighbor.state?.session_state === 4 || neighbor.state?.session_state === 'opensent';
  }

  async waitEstablished(pair: Pair): Promise<void> {
    await this.gobgp!.waitEstablished(pair.nodeAddress);
  }

  stop(): void {
    this.gobgp?.removeFolder();
  }
}

/** The router's process in its namespace (which holds no other of that name). */
function routerPid(lab: Lab, host: string, command: string): number {
  const pids = execFileSync('ip', ['netns', 'pids', lab.namespace(host)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  const pid = pids.find((candidate) => readFileSync(`/proc/${candidate}/comm`, 'utf8').trim() === command);
  if (pid === undefined) throw new Error(`no ${command} process in ${host}`);
  return pid;
}

/** Whether bytes (our OPEN) wait unread at the router on a connection vipkit opened to its port. */
async function openWaitsAtRouter(lab: Lab, pair: Pair): Promise<boolean> {
  const sockets = (await lab.exec(pair.router, ['ss', '-Htn', 'state', 'established', '( sport = :179 )'])).stdout;
  const quoted = (address: string) => address.replaceAll('.', '\\.');
  return new RegExp(`^\\S*\\s*[1-9]\\d*\\s+\\d+\\s+\\S*${quoted(pair.routerAddress)}\\]?:179\\s+\\S*${quoted(pair.nodeAddress)}\\]?:\\d+`, 'm').test(sockets);
}

/**
 * Runs vipkit (`argv`) and the router into a collision as the header says, then `check`;
 * vipkit must exit 0 when stopped.
 */
async function collide(lab: Lab, pair: Pair, router: CollidingRouter, argv: string[], check: (vipkit: VipkitProcess) => Promise<void>): Promise<void> {
  const vipkit = startVipkitJson(lab, pair.node, argv);
  let routerProcess: number | undefined;
  try {
    // The router is not running yet: the first connection is refused, and vipkit listens by then.
    await until('vipkit tried to connect', () => vipkit.events.some((event) => event.event === 'state' && event['to'] === 'Idle'), 15_000);
    vipkit.child.kill('SIGSTOP');
    await router.start(lab, pair);
    await until(`${router.command} connected to vipkit and sent its OPEN`, () => router.openSent(pair), 20_000);
    routerProcess = routerPid(lab, pair.router, router.command);
    process.kill(routerProcess, 'SIGSTOP');
    vipkit.child.kill('SIGCONT');
    await until(`vipkit connected to ${router.command} too and sent its OPEN`, () => openWaitsAtRouter(lab, pair), 15_000);
    process.kill(routerProcess, 'SIGCONT');
    await router.waitEstablished(pair);
    await check(vipkit);
  } finally {
    if (routerProcess !== undefined) process.kill(routerProcess, 'SIGCONT');
    vipkit.child.kill('SIGCONT');
    const code = await vipkit.stop();
    router.stop();
    assert.equal(code, 0, vipkit.stderr());
  }
}

const established = (events: JsonEvent[]) => events.filter((event) => event.event === 'state' && event['to'] === 'Established');

describe('--accept-incoming: a connection collision with BIRD and with GoBGP', { skip: labUnavailableReason() }, () => {
  const lab = sharedLab({
    hosts: Object.values(PAIRS).flatMap((pair) => [
      { name: pair.router, addresses: [`${pair.routerAddress}/24`] },
      { name: pair.node, addresses: [`${pair.nodeAddress}/24`] },
    ]),
  });

  /** bgp-peer against `router`: one session, the router's two routes, and a Cease for the other connection. */
  const bgpPeerCollides = (pair: Pair, router: CollidingRouter) => {
    const argv = ['bgp-peer', '--my-asn', '64800', '--peer-asn', '65002', '--family', 'ipv4', '--accept-incoming', '--timeout', '50', '--json', pair.routerAddress];
    return collide(lab(), pair, router, argv, async (vipkit) => {
      await until('vipkit received both routes', () => vipkit.events.filter((event) => event.event === 'route').length === 2, 30_000);
      const collisions = vipkit.events.filter((event) => event.event === 'notification' && event['code'] === 6 && event['subcode'] === 7);
      assert.ok(collisions.length > 0, `a Cease / Connection Collision Resolution on one connection: ${JSON.stringify(vipkit.events)}`);
      // Sent by vipkit or by the router, whichever saw it first; when vipkit did, it closed its own.
      const ours = collisions.find((event) => event['direction'] === 'sent');
      if (ours) assert.match(String(ours['reason']), /^connection collision \(RFC 4271 6\.8\): .*\(on the connection we opened\)$/);
      assert.equal(established(vipkit.events).length, 1, 'the session came up exactly once');
      assert.ok(!vipkit.events.some((event) => event.event === 'down'), 'and stayed up');
      assert.deepEqual(vipkit.events.filter((event) => event.event === 'route').map((event) => event['prefix']).sort(), ['198.51.100.0/24', '203.0.113.0/25']);
    });
  };

  labTest('bgp-peer and BIRD: one connection gets Cease / Connection Collision Resolution, the session comes up once, routes flow', () =>
    bgpPeerCollides(PAIRS.bgpPeer, new BirdRouter()));

  labTest('bgp-peer and GoBGP: the same with another implementation on the other side', () => bgpPeerCollides(PAIRS.gobgp, new GobgpRouter()), { timeout: 90_000 });

  labTest('announce: the session comes up once and BIRD gets the route, next hop our address on either connection', async () => {
    const argv = ['announce', '--peer', `${PAIRS.announce.routerAddress},asn=65002`, '--my-asn', '64800', '--accept-incoming', '--json', '203.0.113.200'];
    const router = new BirdRouter();
    await collide(lab(), PAIRS.announce, router, argv, async (vipkit) => {
      const bird = router.bird!;
      await until('BIRD holds the announced route', async () => (await bird.birdc('show', 'route', 'protocol', 'vipkit')).includes('203.0.113.200/32'), 15_000);
      assert.match(await bird.birdc('show', 'route', 'all', 'protocol', 'vipkit'), new RegExp(`BGP\\.next_hop: ${PAIRS.announce.nodeAddress.replaceAll('.', '\\.')}\\b`));
      const collisions = vipkit.events.filter((event) => event.event === 'notification' && String(event['description']).startsWith('Cease / Connection Collision Resolution'));
      assert.ok(collisions.length > 0, `a Cease / Connection Collision Resolution on one connection: ${JSON.stringify(vipkit.events)}`);
      assert.equal(established(vipkit.events).length, 1, 'the session came up exactly once');
    });
  });
});
