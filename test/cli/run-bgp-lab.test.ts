import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { Bird, Gobgp, gobgpConfig } from '../../src/lab/bgp-daemons.js';
import { parseBirdRoutes, type BirdRoute } from '../helpers/bird-routes.js';
import { labTest, sharedLab } from '../helpers/root.js';
import { startVipkitJson, until, type VipkitProcess } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * `vipkit run` in BGP mode against BIRD and GoBGP, read back with their own CLIs: three
 * speakers, each service IP announced from every node the peer's node selector takes
 * (BIRD's takes node1 and node2; node3 is not labelled, so it peers with GoBGP alone); services added and removed while running change
 * only those routes, with no session reset; a speaker that dies or restarts on purpose
 * leaves its routes at the router under graceful restart until it is back; a withdraw
 * shutdown removes them at once; a router that restarts gets everything again.
 */
const NODES = ['node1', 'node2', 'node3'];
const SPEC = {
  hosts: [
    { name: 'router', addresses: ['192.0.2.1/24', '2001:db8:2::1/64'] },
    { name: 'router2', addresses: ['192.0.2.2/24', '2001:db8:2::2/64'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'node2', addresses: ['192.0.2.12/24', '2001:db8:2::12/64'] },
    { name: 'node3', addresses: ['192.0.2.13/24', '2001:db8:2::13/64'] },
  ],
};
const LABELLED = ['node1', 'node2'];

/** The TCP-MD5 key BIRD and the speakers share (RFC 2385). */
const PASSWORD = 'lab-secret';

/** One BGP protocol per node, so that `show route` names each path's node; graceful restart helper on; every session signed. */
function birdConfig(): string {
  return [
    'router id 192.0.2.1;',
    'protocol device {}',
    `template bgp speaker { local 192.0.2.1 as 65002; graceful restart on; password "${PASSWORD}"; ipv4 { import all; export none; }; ipv6 { import all; export none; }; }`,
    ...NODES.map((node, index) => `protocol bgp ${node} from speaker { neighbor 192.0.2.${11 + index} as 64800; }`),
  ].join('\n');
}

/** The pool, its advertisement and the router as MetalLB's resources: what `run --config` reads on a cluster. */
function metallbConfig({ community = '64800:100', holdTime = '90s' } = {}): string {
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: web, namespace: metallb-system }
spec:
  addresses: [203.0.113.0/28, 2001:db8:100::/124]
  avoidBuggyIPs: true
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: web, namespace: metallb-system }
spec:
  ipAddressPools: [web]
  communities: ["${community}"]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router, namespace: metallb-system }
spec:
  myASN: 64800
  peerASN: 65002
  peerAddress: 192.0.2.1
  password: ${PASSWORD}
  holdTime: ${holdTime}
  nodeSelectors:
    - matchLabels: { example.com/bgp: metallb }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router2, namespace: metallb-system }
spec:
  myASN: 64800
  peerASN: 65003
  peerAddress: 192.0.2.2
`;
}

/** A Service with externalTrafficPolicy Local, and the EndpointSlice that puts its one ready endpoint on `node`. */
const localService = (name: string, ip: string, node: string) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n  loadBalancerIP: ${ip}\n  ports:\n    - port: 80\n---\n` +
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: ${name}-1\n  namespace: default\n  labels: { kubernetes.io/service-name: ${name} }\nendpoints:\n  - { addresses: [10.0.0.1], conditions: { ready: true }, nodeName: ${node} }\n`;

const service = (name: string, ip: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n  type: LoadBalancer\n  loadBalancerIP: ${ip}\n  ports:\n    - port: 80\n`;

describe('vipkit run (BGP) with three speakers and BIRD', () => {
  const lab = sharedLab(SPEC);
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-run-bgp-'));
  const servicesFile = join(folder, 'services.yaml');
  const configFile = join(folder, 'metallb.yaml');
  const speakers = new Map<string, VipkitProcess>();
  let bird: Bird | undefined;
  let gobgp: Gobgp | undefined;
  after(() => {
    for (const speaker of speakers.values()) speaker.child.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });
  /** GoBGP's view: prefix -> the neighbours it has a path from, sorted. */
  const gobgpPaths = async (): Promise<Map<string, string[]>> => {
    const byPrefix = new Map<string, string[]>();
    for (const family of ['ipv4', 'ipv6']) {
      const table = (await gobgp!.json('global', 'rib', '-a', family)) as Record<string, { 'neighbor-ip'?: string }[]> | null;
      for (const [prefix, routes] of Object.entries(table ?? {})) byPrefix.set(prefix, routes.map((route) => route['neighbor-ip'] ?? '?').sort());
    }
    return byPrefix;
  };

  const start = (node: string, extra: string[] = [], config = ['--config', configFile]) => {
    const index = NODES.indexOf(node);
    const labels = LABELLED.includes(node) ? ['--node-labels', 'example.com/bgp=metallb'] : [];
    const speaker = startVipkitJson(lab(), node, [
      'run', '--json', '--node-name', node, '--socket', join(folder, `${node}.sock`), ...labels,
      '--router-id', `192.0.2.${11 + index}`, ...config, '--services', servicesFile, ...extra,
    ]);
    speakers.set(node, speaker);
    return speaker;
  };
  const routes = async (): Promise<BirdRoute[]> => parseBirdRoutes(await bird!.birdc('show', 'route', 'all'));
  /** prefix -> the nodes BIRD has a path from, sorted. */
  const paths = async (): Promise<Map<string, string[]>> => {
    const byPrefix = new Map<string, string[]>();
    for (const route of await routes()) byPrefix.set(route.prefix, [...(byPrefix.get(route.prefix) ?? []), route.protocol].sort());
    return byPrefix;
  };
  const pathsAre = async (expected: Record<string, string[]>) => JSON.stringify([...(await paths())].sort()) === JSON.stringify(Object.entries(expected).sort());
  /** When BIRD's protocol for `node` last changed state: its session uptime. */
  const since = async (node: string) => /^\S+\s+BGP\s+\S+\s+\w+\s+(\S+ \S+|\S+)\s+Established/m.exec(await bird!.birdc('show', 'protocols', node))?.[1];

  labTest('each service IP reaches BIRD from every node its peer selects, with the pool\'s community; added and removed services change only those routes, with no session reset', async () => {
    bird = await Bird.start(lab(), 'router', birdConfig());
    const nodeAddresses = NODES.map((_node, index) => `192.0.2.${11 + index}`);
    gobgp = await Gobgp.start(lab(), 'router2', gobgpConfig({ as: 65003, routerId: '192.0.2.2', localAddresses: ['192.0.2.2'], neighbors: nodeAddresses.map((address) => ({ address, peerAs: 64800 })) }));
    writeFileSync(configFile, metallbConfig());
    writeFileSync(servicesFile, service('web', '203.0.113.1') + '---\n' + service('api', '203.0.113.2') + '---\n' + service('v6', '2001:db8:100::5'));
    for (const node of NODES) start(node);
    const expected = { '203.0.113.1/32': LABELLED, '203.0.113.2/32': LABELLED, '2001:db8:100::5/128': LABELLED };
    await until('BIRD has every service IP from node1 and node2', () => pathsAre(expected));
    for (const [node, speaker] of speakers) assert.equal(speaker.child.exitCode, null, `${node} exited: ${speaker.stderr()}`);
    for (const route of await routes()) {
      const index = NODES.indexOf(route.protocol);
      assert.equal(route.bgp['as_path'], '64800', `${route.prefix} from ${route.protocol}`);
      assert.equal(route.bgp['community'], '(64800,100)', `${route.prefix} from ${route.protocol}`);
      assert.equal(route.bgp['next_hop'], route.prefix.includes(':') ? `2001:db8:2::${11 + index}` : `192.0.2.${11 + index}`);
    }
    const everyNode = { '203.0.113.1/32': nodeAddresses, '203.0.113.2/32': nodeAddresses, '2001:db8:100::5/128': nodeAddresses };
    await until('GoBGP, which selects no node, has every service IP from all three', async () => JSON.stringify([...(await gobgpPaths())].sort()) === JSON.stringify(Object.entries(everyNode).sort()));
    const node3 = speakers.get('node3')!;
    assert.deepEqual(node3.events.filter((event) => event.event === 'sessionUp').map((event) => event['peer']), ['192.0.2.2'], "node3 is not selected by BIRD's peer: a session with GoBGP alone");

    const uptime = await Promise.all(LABELLED.map(since));
    writeFileSync(configFile, metallbConfig());
    writeFileSync(servicesFile, service('web', '203.0.113.1') + '---\n' + service('v6', '2001:db8:100::5') + '---\n' + service('new', '203.0.113.3') + '---\n' + localService('local', '203.0.113.4', 'node2'));
    await until('BIRD has the new services, the Local one from node2 alone, and not the removed one', () =>
      pathsAre({ '203.0.113.1/32': LABELLED, '203.0.113.3/32': LABELLED, '203.0.113.4/32': ['node2'], '2001:db8:100::5/128': LABELLED }),
    );
    writeFileSync(servicesFile, service('web', '203.0.113.1') + '---\n' + service('v6', '2001:db8:100::5') + '---\n' + service('new', '203.0.113.3'));
    await until('BIRD has no route for the removed Local service', () => pathsAre({ '203.0.113.1/32': LABELLED, '203.0.113.3/32': LABELLED, '2001:db8:100::5/128': LABELLED }));
    assert.deepEqual(await Promise.all(LABELLED.map(since)), uptime, "BIRD's sessions were not reset");
    for (const node of LABELLED) assert.equal(speakers.get(node)!.events.filter((event) => event.event === 'sessionUp' && event['peer'] === '192.0.2.1').length, 1, `${node} established with BIRD once`);

    // A pool's advertisement edited: UPDATEs on the same sessions.
    writeFileSync(configFile, metallbConfig({ community: '64800:200' }));
    await until('BIRD has every route with the new community', async () => (await routes()).length === 6 && (await routes()).every((route) => route.bgp['community'] === '(64800,200)'));
    assert.deepEqual(await Promise.all(LABELLED.map(since)), uptime, "BIRD's sessions were not reset");

    // The peer's hold time edited: what the session negotiated must change, so it is reset, and the log says why.
    writeFileSync(configFile, metallbConfig({ community: '64800:200', holdTime: '60s' }));
    for (const node of LABELLED) {
      await until(`${node} logs the reset with its reason`, () => speakers.get(node)!.events.some((event) => event.event === 'sessionReset' && event['reason'] === 'holdTime 90 -> 60'));
    }
    await until('BIRD has the sessions back with hold time 60', async () => (await Promise.all(LABELLED.map(async (node) => /Hold timer:\s+[\d.]+\/60/.test(await bird!.birdc('show', 'protocols', 'all', node))))).every(Boolean));
    await until('BIRD has every route again', async () => (await routes()).length === 6);
    for (const node of NODES) {
      assert.equal(speakers.get(node)!.events.filter((event) => event.event === 'sessionUp' && event['peer'] === '192.0.2.2').length, 1, `${node}'s session with GoBGP, whose peer did not change, was never reset`);
    }

    // What the speakers say about their sessions: vipkit status and the metrics.
    const status = await lab().exec('node1', [process.execPath, VIPKIT, 'status', '--json', '--socket', join(folder, 'node1.sock')]);
    const peers = status.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['event'] === 'peer');
    assert.deepEqual(
      peers.map((peer) => [peer['address'], peer['state'], peer['announced']]),
      [
        ['192.0.2.1', 'Established', 3],
        ['192.0.2.2', 'Established', 3],
      ],
    );
    const scrape = await lab().exec('node1', [process.execPath, '-e', "fetch('http://127.0.0.1:7472/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"]);
    assert.match(scrape.stdout, /^vipkit_bgp_session_up\{peer="192\.0\.2\.1"\} 1$/m);
    assert.match(scrape.stdout, /^vipkit_bgp_announced_prefixes\{peer="192\.0\.2\.1"\} 3$/m);
    assert.match(scrape.stdout, /^vipkit_bgp_updates_sent_total\{peer="192\.0\.2\.1"\} [1-9]/m);
  });

  const ALL = { '203.0.113.1/32': LABELLED, '203.0.113.3/32': LABELLED, '2001:db8:100::5/128': LABELLED };
  const restarting = async (node: string) => /Neighbor graceful restart active/.test(await bird!.birdc('show', 'protocols', 'all', node));
  const established = async (node: string) => /\bEstablished\b/.test(await bird!.birdc('show', 'protocols', node)) && !(await restarting(node));

  labTest('a speaker killed, or stopped with --shutdown-mode restart, keeps its routes at BIRD under graceful restart until it is back; a withdraw shutdown removes them at once', async () => {
    assert.ok(await pathsAre(ALL), 'the previous test left every route in place');
    // BIRD's paths are polled all along: none of node1's may go missing while it restarts.
    let missing = 0;
    let polling = true;
    const watcher = (async () => {
      while (polling) {
        if (!(await pathsAre(ALL))) missing++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      speakers.get('node1')!.child.kill('SIGKILL');
      await until('BIRD holds node1 as a restarting peer', () => restarting('node1'));
      const planned = start('node1', ['--shutdown-mode', 'restart']);
      await until('node1 is back and BIRD is out of graceful restart (End-of-RIB)', () => established('node1'));
      assert.equal(await planned.stop(), 0, planned.stderr());
      assert.ok(planned.events.some((event) => event.event === 'sessionsClosedForRestart'), 'node1 says it leaves the routes in place');
      await until('BIRD holds node1 as a restarting peer again', () => restarting('node1'));
      start('node1');
      await until('node1 is back again', () => established('node1'));
    } finally {
      polling = false;
      await watcher;
    }
    assert.equal(missing, 0, 'no route went missing at BIRD while node1 restarted, twice');

    // A withdraw shutdown (the default): BIRD drops node2's paths long before any graceful restart time.
    const stopping = Date.now();
    assert.equal(await speakers.get('node2')!.stop(), 0);
    await until("BIRD has no path from node2", () => pathsAre({ '203.0.113.1/32': ['node1'], '203.0.113.3/32': ['node1'], '2001:db8:100::5/128': ['node1'] }), 10_000);
    assert.ok(Date.now() - stopping < 10_000);
    assert.match(await bird!.birdc('show', 'protocols', 'all', 'node2'), /Administrative shutdown[\s\S]*Message:\s+vipkit run stopped/);
    start('node2');
    await until('node2 is back', () => pathsAre(ALL));
  });

  labTest('a router that restarts gets every route again: the speakers reconnect by themselves', async () => {
    assert.ok(await pathsAre(ALL));
    await bird!.birdc('down');
    bird = await Bird.start(lab(), 'router', birdConfig());
    await until('BIRD has every route again from node1 and node2', () => pathsAre(ALL));
    for (const node of LABELLED) assert.ok(speakers.get(node)!.events.some((event) => event.event === 'sessionDown'), `${node} saw its session go down`);
  });

  labTest('a wrong password never brings the session up, and the speaker says why', async () => {
    // node3, which its selector-bound peer left without a session, now peers on its own, with the wrong key.
    assert.equal(await speakers.get('node3')!.stop(), 0);
    const wrong = start('node3', [], ['--pool', 'web=203.0.113.0/28,2001:db8:100::/124,protocol=bgp', '--peer', '192.0.2.1,asn=65002,password=not-the-secret', '--my-asn', '64800']);
    await until('node3 reports the likely cause', () => wrong.events.some((event) => event.event === 'sessionConnectFailed' && /password mismatch/.test(String(event['reason']))), 20_000).catch((error: Error) => assert.fail(`${error.message}: ${JSON.stringify(wrong.events)} ${wrong.stderr()}`));
    assert.ok(!wrong.events.some((event) => event.event === 'sessionUp'));
    assert.match(await bird!.birdc('show', 'protocols', 'node3'), /\b(Active|Connect|Idle)\b/);
    assert.equal(await wrong.stop(), 0);
  });
});

/**
 * BFD towards the router (`--peer ...,bfd=true`) against BIRD's `bfd on` and `bfd
 * graceful`: the sessions are Up in `birdc show bfd sessions`; when the nodes drop off
 * the network (their links cut: no FIN, no NOTIFICATION), BIRD ends node1's BGP session
 * at BFD's detection time and drops its routes, keeps node2's as stale under graceful
 * restart (its policy, `bfd graceful`), and still holds node3's (no BFD) until the hold time.
 */
describe('vipkit run (BGP) with BFD towards BIRD', () => {
  const lab = sharedLab({
    hosts: [
      { name: 'router', addresses: ['192.0.2.1/24'] },
      { name: 'node1', addresses: ['192.0.2.11/24'] },
      { name: 'node2', addresses: ['192.0.2.12/24'] },
      { name: 'node3', addresses: ['192.0.2.13/24'] },
    ],
  });
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-run-bfd-'));
  const speakers: VipkitProcess[] = [];
  let bird: Bird | undefined;
  after(() => {
    for (const speaker of speakers) speaker.child.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  labTest('BIRD sees the BFD sessions Up; when the nodes drop off, it ends the BFD peers\' sessions at once (bfd on: routes gone; bfd graceful: kept as stale), the other at its hold time', async () => {
    const policy: Record<string, string> = { node1: 'bfd on;', node2: 'bfd graceful;', node3: '' };
    bird = await Bird.start(
      lab(),
      'router',
      [
        'router id 192.0.2.1;',
        'protocol device {}',
        'protocol bfd { interface "eth0" { min rx interval 50 ms; min tx interval 50 ms; multiplier 3; }; }',
        'template bgp speaker { local 192.0.2.1 as 65002; hold time 30; graceful restart on; ipv4 { import all; export none; }; }',
        ...NODES.map((node, index) => `protocol bgp ${node} from speaker { neighbor 192.0.2.${11 + index} as 64800; ${policy[node]} }`),
      ].join('\n'),
    );
    NODES.forEach((node, index) => {
      const bfd = node === 'node3' ? '' : ',bfd=true';
      speakers.push(
        startVipkitJson(lab(), node, ['run', '--json', '--node-name', node, '--socket', join(folder, `${node}.sock`), '--peer', `192.0.2.1,asn=65002${bfd}`, '--my-asn', '64800', '--hold-time', '30', '--router-id', `192.0.2.${11 + index}`, '--pool', 'web=203.0.113.0/28,protocol=bgp', '--service', `default/web=203.0.113.${1 + index}`]),
      );
    });
    const routes = async () => parseBirdRoutes(await bird!.birdc('show', 'route', 'all')).map((route) => `${route.prefix} ${route.protocol}`).sort();
    const everything = ['203.0.113.1/32 node1', '203.0.113.2/32 node2', '203.0.113.3/32 node3'];
    await until('BIRD has a route from each node', async () => JSON.stringify(await routes()) === JSON.stringify(everything));
    await until("BIRD's BFD sessions with node1 and node2 are Up", async () => {
      const sessions = await bird!.birdc('show', 'bfd', 'sessions');
      return /192\.0\.2\.11\s+eth0\s+Up/.test(sessions) && /192\.0\.2\.12\s+eth0\s+Up/.test(sessions);
    });
    assert.doesNotMatch(await bird.birdc('show', 'bfd', 'sessions'), /192\.0\.2\.13/, 'node3 asked for no BFD');
    for (const speaker of speakers.slice(0, 2)) await until('the speaker logged bfdUp', () => speaker.events.some((event) => event.event === 'bfdUp'));
    const status = await lab().exec('node1', [process.execPath, VIPKIT, 'status', '--json', '--socket', join(folder, 'node1.sock')]);
    const peer = status.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['event'] === 'peer');
    assert.deepEqual([peer?.['address'], peer?.['state'], peer?.['bfd']], ['192.0.2.1', 'Established', 'up'], 'vipkit status shows the BFD session with the router');

    // The nodes drop off the network at once: no FIN, no NOTIFICATION reaches BIRD.
    await Promise.all(NODES.map((node) => lab().exec(node, ['ip', 'link', 'set', 'eth0', 'down'])));
    await until("BIRD drops node1's route (bfd on)", async () => !(await routes()).includes('203.0.113.1/32 node1'), 10_000);
    assert.deepEqual(await routes(), ['203.0.113.2/32 node2', '203.0.113.3/32 node3'], "node2's route is kept (stale), node3's still held: its hold time has not passed");
    assert.match(await bird.birdc('show', 'protocols', 'all', 'node1'), /BFD session down/);
    await until('BIRD holds node2 in graceful restart after its BFD session went down', async () => /Neighbor graceful restart active/.test(await bird!.birdc('show', 'protocols', 'all', 'node2')), 10_000);
    assert.match(await bird.birdc('show', 'protocols', 'node3'), /Established/, "node3's session waits for its hold time");
  });
});
