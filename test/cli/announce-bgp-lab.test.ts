import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { Bird, birdAcceptingSpeakers, Gobgp, gobgpConfig } from '../../src/lab/bgp-daemons.js';
import { Lab } from '../../src/lab/lab.js';
import { parseBirdRoutes, type BirdRoute } from '../helpers/bird-routes.js';
import { parseGobgpRoutes, type GobgpRoute } from '../helpers/gobgp-routes.js';
import { labTest, labUnavailableReason } from '../helpers/root.js';
import { fileURLToPath } from 'node:url';
import { startVipkitJson, until, type JsonEvent } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * node1 (AS 64800) announces to BIRD (AS 65002, eBGP over IPv4) and GoBGP (AS 64800,
 * iBGP over IPv6); what the routers hold is read with birdc and gobgp, never with vipkit.
 */
const SPEC = {
  hosts: [
    { name: 'router', addresses: ['192.0.2.1/24', '2001:db8:2::1/64'] },
    { name: 'gobgp', addresses: ['192.0.2.2/24', '2001:db8:2::2/64'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'node2', addresses: ['192.0.2.12/24'] },
    { name: 'misbehaving', addresses: ['192.0.2.3/24'] },
  ],
};
/** BIRD logs every message of its speakers here, so the tests read what BIRD itself received. */
const BIRD_TRACE_FOLDER = mkdtempSync(join(tmpdir(), 'vipkit-bird-trace-'));
const BIRD_TRACE = join(BIRD_TRACE_FOLDER, 'bird.log');
const BIRD_CONFIG = birdAcceptingSpeakers({ routerId: '192.0.2.1', localAs: 65002, accept: '192.0.2.0/24', trace: BIRD_TRACE });
const BIRD_PEER = '192.0.2.1,asn=65002';
const GOBGP_PEER = '[2001:db8:2::2],asn=64800';

const spawnAnnounce = (lab: Lab, host: string, args: string[]) => startVipkitJson(lab, host, ['announce', '--json', ...args]);

describe('vipkit announce over BGP to BIRD and GoBGP in a namespace lab', () => {
  let lab: Lab;
  let bird: Bird;
  let gobgp: Gobgp;
  before(async () => {
    if (labUnavailableReason() !== undefined) return;
    lab = await Lab.create(SPEC);
    bird = await Bird.start(lab, 'router', BIRD_CONFIG);
    const config = gobgpConfig({ as: 64800, routerId: '192.0.2.2', localAddresses: ['2001:db8:2::2'], neighbors: [{ address: '2001:db8:2::11', peerAs: 64800, passive: true }] });
    gobgp = await Gobgp.start(lab, 'gobgp', config);
  });
  after(async () => {
    await lab?.destroy();
    rmSync(BIRD_TRACE_FOLDER, { recursive: true, force: true });
  });

  /** What BIRD has logged since `from` (a length read before). */
  const birdTrace = (from = 0): string => (existsSync(BIRD_TRACE) ? readFileSync(BIRD_TRACE, 'utf8').slice(from) : '');

  const birdRoutes = async (): Promise<BirdRoute[]> => parseBirdRoutes(await bird.birdc('show', 'route', 'all'));
  const gobgpRoutes = async (): Promise<GobgpRoute[]> => [...parseGobgpRoutes(await gobgp.json('global', 'rib', '-a', 'ipv4')), ...parseGobgpRoutes(await gobgp.json('global', 'rib', '-a', 'ipv6'))];
  const prefixes = (routes: { prefix: string }[]) => routes.map((route) => route.prefix).sort();
  /** Waits until the peer holds exactly `expected`; its routes then. */
  const withPrefixes = async <T extends { prefix: string }>(read: () => Promise<T[]>, expected: string[]): Promise<T[]> => {
    let routes: T[] = [];
    await until(`the peer holds exactly ${expected.join(', ') || 'nothing'}`, async () => {
      routes = await read();
      return JSON.stringify(prefixes(routes)) === JSON.stringify([...expected].sort());
    });
    return routes;
  };

  labTest('BIRD (eBGP, IPv4 session) and GoBGP (iBGP, IPv6 session) hold exactly the routes, with every attribute; SIGTERM withdraws them with a Cease carrying our message', async () => {
    const announce = spawnAnnounce(lab, 'node1', [
      '--peer', BIRD_PEER, '--peer', GOBGP_PEER, '--my-asn', '64800',
      '--origin', 'incomplete', '--med', '42', '--community', '64800:100', '--community', 'no-export', '--large-community', '64800:7:8', '--as-path-prepend', '2',
      '--shutdown-message', 'maintenance by the test',
      '203.0.113.8/30', '198.51.100.20-198.51.100.22', '2001:db8:100::5', '2001:db8:100::10-2001:db8:100::11',
    ]);
    const ipv4 = ['203.0.113.8/32', '203.0.113.9/32', '203.0.113.10/32', '203.0.113.11/32', '198.51.100.20/32', '198.51.100.21/32', '198.51.100.22/32'];
    const ipv6 = ['2001:db8:100::5/128', '2001:db8:100::10/128', '2001:db8:100::11/128'];
    try {
      for (const route of await withPrefixes(birdRoutes, [...ipv4, ...ipv6])) {
        const nextHop = route.prefix.includes(':') ? '2001:db8:2::11' : '192.0.2.11';
        assert.deepEqual(
          { origin: route.bgp['origin'], as_path: route.bgp['as_path'], next_hop: route.bgp['next_hop'], med: route.bgp['med'], community: route.bgp['community'], large_community: route.bgp['large_community'] },
          { origin: 'Incomplete', as_path: '64800 64800 64800', next_hop: nextHop, med: '42', community: '(64800,100) (65535,65281)', large_community: '(64800, 7, 8)' },
          route.prefix,
        );
      }
      for (const route of await withPrefixes(gobgpRoutes, [...ipv4, ...ipv6])) {
        const nextHop = route.prefix.includes(':') ? '2001:db8:2::11' : '192.0.2.11';
        // iBGP: no AS of ours in the path (prepending is for eBGP), LOCAL_PREF 100 by default.
        assert.deepEqual(route, { prefix: route.prefix, origin: 'incomplete', asPath: '', nextHop, med: 42, localPref: 100, communities: ['64800:100', '65535:65281'], largeCommunities: ['64800:7:8'] });
      }
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
    }
    await withPrefixes(birdRoutes, []);
    await withPrefixes(gobgpRoutes, []);
    const protocols = await bird.birdc('show', 'protocols', 'all');
    assert.match(protocols, /Received: Administrative shutdown/);
    assert.match(protocols, /Message:\s+maintenance by the test/);
    await until('GoBGP logs the Cease with our message', () => /maintenance by the test/.test(gobgp.log()));
    const sent = announce.events.filter((event) => event.event === 'notification' && event['direction'] === 'sent');
    assert.equal(sent.length, 2);
    assert.ok(sent.every((event) => event['description'] === 'Cease / Administrative Shutdown ("maintenance by the test")'));
    assert.equal(announce.events.at(-1)?.event, 'summary');
  });

  labTest('End-of-RIB follows the initial routes of each family, as BIRD reads them (RFC 4724 4)', async () => {
    const from = birdTrace().length;
    const announce = spawnAnnounce(lab, 'node1', ['--peer', BIRD_PEER, '--my-asn', '64800', '203.0.113.90', '2001:db8:100::90']);
    try {
      await withPrefixes(birdRoutes, ['203.0.113.90/32', '2001:db8:100::90/128']);
      await until('BIRD logs an End-of-RIB per family', () => birdTrace(from).split('Got END-OF-RIB').length - 1 === 2);
      const trace = birdTrace(from);
      const endOfRib = trace.indexOf('Got END-OF-RIB');
      // Both families' routes were imported before the first End-of-RIB arrived.
      for (const prefix of ['203.0.113.90/32', '2001:db8:100::90/128']) assert.ok(trace.indexOf(prefix) >= 0 && trace.indexOf(prefix) < endOfRib, `${prefix} before End-of-RIB in:\n${trace}`);
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
    }
    await withPrefixes(birdRoutes, []);
  });

  labTest('a --peer written by pools convert --to flags is taken by announce as it is; BIRD sees its hold time, router id and source', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'vipkit-convert-'));
    const legacy = join(folder, 'config.yaml');
    writeFileSync(legacy, [
      'peers:',
      '- {peer-address: 192.0.2.1, peer-asn: 65002, my-asn: 64800, peer-port: 179, hold-time: 9s, keepalive-time: 2s, router-id: 192.0.2.111, source-address: 192.0.2.11}',
      'address-pools:',
      '- {name: lab, protocol: bgp, addresses: [203.0.113.96/28]}',
    ].join('\n'));
    const converted = await lab.exec('node1', [process.execPath, VIPKIT, 'pools', 'convert', '--to', 'flags', '--json', legacy]);
    rmSync(folder, { recursive: true, force: true });
    assert.equal(converted.code, 0, converted.stderr);
    const args = (JSON.parse(converted.stdout) as { args: string[] }).args;
    const peer = args[args.indexOf('--peer') + 1]!;
    assert.match(peer, /keepalive-time=2/);
    const announce = spawnAnnounce(lab, 'node1', ['--peer', peer, '203.0.113.97']);
    try {
      await withPrefixes(birdRoutes, ['203.0.113.97/32']);
      const protocols = await bird.birdc('show', 'protocols', 'all');
      assert.match(protocols, /Neighbor address: 192\.0\.2\.11\b/);
      assert.match(protocols, /Neighbor ID:\s+192\.0\.2\.111\b/);
      assert.match(protocols, /Hold timer:\s+[\d.]+\/9\b/);
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
    }
    await withPrefixes(birdRoutes, []);
  });

  labTest('aggregation lengths announce the covering prefixes instead of host routes', async () => {
    const announce = spawnAnnounce(lab, 'node1', ['--peer', BIRD_PEER, '--my-asn', '64800', '--aggregation-length', '24', '--aggregation-length-v6', '64', '198.51.100.10-198.51.100.20', '203.0.113.200', '203.0.113.0/25', '2001:db8:100::5', '2001:db8:100:1::/64']);
    try {
      await withPrefixes(birdRoutes, ['198.51.100.0/24', '203.0.113.0/24', '2001:db8:100::/64', '2001:db8:100:1::/64']);
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
    }
    await withPrefixes(birdRoutes, []);
  });

  labTest('LOCAL_PREF goes to an iBGP peer; towards an eBGP peer it is refused', async () => {
    const announce = spawnAnnounce(lab, 'node1', ['--peer', GOBGP_PEER, '--my-asn', '64800', '--local-pref', '200', '203.0.113.77']);
    try {
      const [route] = await withPrefixes(gobgpRoutes, ['203.0.113.77/32']);
      assert.equal(route!.localPref, 200);
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
    }
    const refused = spawnAnnounce(lab, 'node1', ['--peer', BIRD_PEER, '--peer', GOBGP_PEER, '--my-asn', '64800', '--local-pref', '200', '203.0.113.77']);
    assert.equal(await refused.exited, 2);
    assert.match(refused.stderr(), /--local-pref is for iBGP peers only .* 192\.0\.2\.1 is eBGP/);
  });

  labTest('a peer killed and restarted gets everything again', async () => {
    const announce = spawnAnnounce(lab, 'node1', ['--peer', BIRD_PEER, '--my-asn', '64800', '203.0.113.50-203.0.113.52']);
    const expected = ['203.0.113.50/32', '203.0.113.51/32', '203.0.113.52/32'];
    try {
      await withPrefixes(birdRoutes, expected);
      // BIRD is the only process in the router's namespace: kill it without a goodbye.
      const pids = (await lab.exec('router', ['ip', 'netns', 'pids', lab.namespace('router')])).stdout.trim().split('\n');
      await lab.exec('router', ['kill', '-9', ...pids]);
      await until('vipkit sees the session go down', () => announce.events.some((event) => event.event === 'state' && event['from'] === 'Established'));
      bird = await Bird.start(lab, 'router', BIRD_CONFIG);
      await withPrefixes(birdRoutes, expected);
      const established = announce.events.filter((event) => event.event === 'state' && event['to'] === 'Established');
      assert.equal(established.length, 2);
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
    }
  }, { timeout: 120_000 });

  /** The checks in a row that ended just before the health change at `index`. */
  const checksBefore = (events: JsonEvent[], index: number) => events.slice(0, index).filter((event) => event.event === 'check').map((event) => event['passed'] as boolean);

  labTest('health check: routes appear after --rise passes and go after --fall failures', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'vipkit-check-'));
    const flag = join(folder, 'healthy');
    const announce = spawnAnnounce(lab, 'node1', ['--peer', BIRD_PEER, '--my-asn', '64800', '--check', `test -e ${flag}`, '--check-interval', '0.2', '--rise', '2', '--fall', '3', '203.0.113.60']);
    try {
      await until('the session is up and checks are failing', () => announce.events.some((event) => event.event === 'state' && event['to'] === 'Established') && announce.events.filter((event) => event.event === 'check').length >= 3);
      assert.deepEqual(await birdRoutes(), []);
      writeFileSync(flag, '');
      await withPrefixes(birdRoutes, ['203.0.113.60/32']);
      const up = announce.events.findIndex((event) => event.event === 'health' && event['health'] === 'up');
      assert.deepEqual(checksBefore(announce.events, up).slice(-3), [false, true, true]);
      rmSync(flag);
      await withPrefixes(birdRoutes, []);
      const down = announce.events.findIndex((event) => event.event === 'health' && event['health'] === 'down');
      assert.deepEqual(checksBefore(announce.events, down).slice(-4), [true, false, false, false]);
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
      rmSync(folder, { recursive: true, force: true });
    }
  });

  labTest('a check that cannot run says why, once, in the human output', async () => {
    const args = ['announce', '--peer', BIRD_PEER, '--my-asn', '64800', '--check', '/nonexistent/healthz', '--check-interval', '0.2', '--for', '1.5', '203.0.113.62'];
    const { code, stdout } = await lab.exec('node2', [process.execPath, VIPKIT, ...args], { timeoutMs: 30_000 });
    assert.equal(code, 0, stdout);
    assert.equal(stdout.split('\n').filter((line) => line === 'Health check failed: exit 127: command not found; service down.').length, 1, stdout);
    assert.deepEqual(await birdRoutes(), []);
  });

  labTest('health check with --down-med: the route stays, with the worse MED while the check fails', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'vipkit-check-'));
    const flag = join(folder, 'healthy');
    const announce = spawnAnnounce(lab, 'node1', ['--peer', BIRD_PEER, '--my-asn', '64800', '--check', `test -e ${flag}`, '--check-interval', '0.2', '--rise', '1', '--fall', '1', '--med', '10', '--down-med', '1000', '203.0.113.61']);
    const med = async () => (await birdRoutes())[0]?.bgp['med'];
    try {
      await until('MED 1000 while down', async () => (await med()) === '1000');
      writeFileSync(flag, '');
      await until('MED 10 once up', async () => (await med()) === '10');
      rmSync(flag);
      await until('MED 1000 once down again', async () => (await med()) === '1000');
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
      rmSync(folder, { recursive: true, force: true });
    }
    await withPrefixes(birdRoutes, []);
  });

  labTest('malformed input from the peer: an RFC 7606 error is counted and survived, a broken header resets the session, which comes back', async () => {
    const peerScript = fileURLToPath(new URL('./misbehaving-bgp-peer.js', import.meta.url));
    const peer = lab.spawn('misbehaving', [process.execPath, peerScript, '192.0.2.3', '65003'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const received: { connection?: number; type?: string; nlri?: string[]; listening?: string }[] = [];
    peer.stdout!.on('data', (chunk: Buffer) => received.push(...chunk.toString().trim().split('\n').map((line) => JSON.parse(line) as (typeof received)[number])));
    await until('the misbehaving peer listens', () => received.some((line) => line.listening));
    const announce = spawnAnnounce(lab, 'node1', ['--peer', '192.0.2.3,asn=65003', '--my-asn', '64800', '203.0.113.90']);
    try {
      await until('the routes come again on a second connection', () => received.some((line) => line.connection === 2 && line.nlri?.includes('203.0.113.90/32')));
      const malformed = announce.events.find((event) => event.event === 'malformed');
      assert.match(JSON.stringify(malformed?.['errors']), /ORIGIN/);
      const sent = announce.events.find((event) => event.event === 'notification' && event['direction'] === 'sent');
      assert.match(String(sent?.['description']), /Message Header Error \/ Connection Not Synchronized/);
      // The malformed UPDATE did not end the first session: only the broken header did.
      const downs = announce.events.filter((event) => event.event === 'state' && event['from'] === 'Established');
      assert.equal(downs.length, 1);
      assert.ok(announce.events.indexOf(malformed!) < announce.events.indexOf(downs[0]!));
    } finally {
      assert.equal(await announce.stop(), 0, announce.stderr());
      peer.kill();
    }
    const summary = announce.events.at(-1)!;
    assert.deepEqual(summary['peers'], [{ peer: '192.0.2.3', state: 'Idle', established: 2, malformed: 1 }]);
  });

  labTest('refusals exit 2 with the reason; no session ever Established exits 1', async () => {
    const refusals: [string[], RegExp][] = [
      [['--peer', BIRD_PEER, '--my-asn', '64800', '2001:db8:100::5'], /IPv6 routes need a global IPv6 next hop, and there is no global IPv6 address on eth0.*--next-hop-v6/],
      [['--peer', `${BIRD_PEER},password=${'x'.repeat(81)}`, '--my-asn', '64800', '203.0.113.5'], /--peer 192\.0\.2\.1: .*80/],
      [['--peer', BIRD_PEER, '--my-asn', '64800', '2001:db8:100::/64'], /18446744073709551616 routes, more than --max-routes 1000000: announce covering prefixes instead with --aggregation-length-v6 <n>/],
      [['--peer', BIRD_PEER, '--my-asn', '64800', '--max-routes', '100', '198.18.0.0/24'], /256 routes, more than --max-routes 100: announce covering prefixes instead with --aggregation-length <n>/],
      [['--peer', '192.0.2.1', '--my-asn', '64800', '203.0.113.5'], /--peer 192\.0\.2\.1 has no AS number/],
      [['203.0.113.5'], /needs --peer <router>/],
      [['--peer', BIRD_PEER, '--peer', '192.0.2.1,asn=65003', '--my-asn', '64800', '203.0.113.5'], /--peer 192\.0\.2\.1 is given twice/],
      [['--peer', BIRD_PEER, '--my-asn', '64800', '--next-hop', '0.0.0.0', '203.0.113.5'], /--next-hop 0\.0\.0\.0 is in 0\.0\.0\.0\/8, "this network"; a next hop is the unicast address routers forward to/],
      [['--peer', BIRD_PEER, '--my-asn', '64800', '--next-hop-v6', 'ff02::1', '2001:db8:100::5'], /--next-hop-v6 ff02::1 is a multicast address/],
      [['--peer', BIRD_PEER, '--my-asn', '64800', '--community', '65536:1', '203.0.113.5'], /^vipkit: --community "65536:1" is not a community: write communities as 65002:100/m],
      [['--peer', BIRD_PEER, '--my-asn', '64800', '--check', ' ', '203.0.113.5'], /--check needs a command/],
    ];
    for (const [args, message] of refusals) {
      const refused = spawnAnnounce(lab, 'node2', args);
      assert.equal(await refused.exited, 2, `${args.join(' ')}: ${refused.stderr()}`);
      assert.match(refused.stderr(), message);
    }
    const unreachable = spawnAnnounce(lab, 'node2', ['--peer', '192.0.2.99,asn=65002', '--my-asn', '64800', '--timeout', '1', '203.0.113.5']);
    assert.equal(await unreachable.exited, 1, unreachable.stderr());
    assert.match(JSON.stringify(unreachable.events.at(-1)), /"stopped":"no session reached Established within --timeout 1 s"/);
  });
});
