import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { Lab, withLab } from '../../src/lab/lab.js';
import { Bird, Gobgp, gobgpConfig } from '../../src/lab/bgp-daemons.js';
import { formatCommunity } from '../../src/wire/bgp/format.js';
import { parseBirdRoutes, type BirdRoute } from '../helpers/bird-routes.js';
import { labTest, labUnavailableReason } from '../helpers/root.js';
import { startVipkitJson, until, type JsonEvent } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * vipkit bgp-peer against real routers, each in its own namespace: BIRD 2 on `router`,
 * GoBGP on `gobgp`; vipkit runs on node1 (the good session), node2 (a wrong --my-asn)
 * and node3 (a wrong --peer-asn), so a failed session never delays the next test.
 */
const SPEC = {
  hosts: [
    { name: 'router', addresses: ['192.0.2.1/24', '2001:db8:2::1/64'] },
    { name: 'gobgp', addresses: ['192.0.2.2/24', '2001:db8:2::2/64'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'node2', addresses: ['192.0.2.12/24', '2001:db8:2::12/64'] },
    { name: 'node3', addresses: ['192.0.2.13/24', '2001:db8:2::13/64'] },
  ],
};

/** BIRD exports three IPv4 routes and one IPv6 route with communities, a large community and a MED; `withdrawable` can be disabled. */
const BIRD_CONFIG = `router id 192.0.2.1;
protocol device {}
protocol static s4 { ipv4; route 203.0.113.0/25 blackhole; route 198.51.100.0/24 blackhole; }
protocol static s6 { ipv6; route 2001:db8:100::/48 blackhole; }
protocol static withdrawable { ipv4; route 198.51.100.128/25 blackhole; }
filter tagged {
  bgp_community.add((65002,100));
  bgp_community.add((65535,65281));
  bgp_large_community.add((65002,7,8));
  bgp_med = 42;
  if net = 198.51.100.128/25 then { bgp_path.prepend(64512); bgp_community.delete((65535,65281)); }
  accept;
}
template bgp node {
  local 192.0.2.1 as 65002;
  graceful restart on;
  ipv4 { import all; export filter tagged; };
  ipv6 { import all; export filter tagged; next hop address 2001:db8:2::1; };
}
protocol bgp node1 from node { neighbor 192.0.2.11 as 64800; }
protocol bgp node2 from node { neighbor 192.0.2.12 as 64800; }
protocol bgp node3 from node { neighbor 192.0.2.13 as 64800; }
`;

/** A route event, reduced to the fields both sides can state. */
interface RouteView {
  prefix: string;
  next_hop?: string;
  as_path?: string;
  origin?: string;
  med?: number;
  communities?: string[];
  large_communities?: string[];
}

function view(event: JsonEvent): RouteView {
  const { prefix, next_hop, as_path, origin, med, communities, large_communities } = event as unknown as RouteView;
  return { prefix, next_hop, as_path, origin, med, communities, large_communities };
}

/** BIRD's "(65002,100) (65535,65281)" as vipkit writes communities: "65002:100", "NO_EXPORT". */
function birdCommunities(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return [...text.matchAll(/\((\d+),(\d+)\)/g)].map((match) => formatCommunity(Number(match[1]) * 65536 + Number(match[2])));
}

function birdLargeCommunities(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return [...text.matchAll(/\((\d+), (\d+), (\d+)\)/g)].map((match) => `${match[1]}:${match[2]}:${match[3]}`);
}

/**
 * What BIRD says it exports to a neighbour (`show route all export <protocol>`: the
 * routes after the export filter), and what eBGP then adds on the wire (RFC 4271 5.1.2,
 * 5.1.3): its own AS in front of the path, and its session address as next hop.
 */
function birdExported(route: BirdRoute, nextHop: string): RouteView {
  const path = route.bgp['as_path'] ?? '';
  return {
    prefix: route.prefix,
    next_hop: nextHop,
    as_path: `65002${path ? ` ${path}` : ''}`,
    origin: (route.bgp['origin'] ?? 'IGP').toLowerCase(),
    med: route.bgp['med'] === undefined ? undefined : Number(route.bgp['med']),
    communities: birdCommunities(route.bgp['community']),
    large_communities: birdLargeCommunities(route.bgp['large_community']),
  };
}

interface GobgpPath {
  nlri: { prefix: string };
  attrs: Array<{ type: number; value?: number; as_paths?: Array<{ segment_type: number; asns: number[] }>; metric?: number; communities?: number[]; value_?: unknown; nexthop?: string } & Record<string, unknown>>;
}

/** `gobgp -j global rib` as vipkit writes routes; eBGP puts GoBGP's AS 65003 in front of the path. */
function gobgpExported(path: GobgpPath): RouteView {
  const attribute = (type: number) => path.attrs.find((candidate) => candidate.type === type);
  const segments = attribute(2)?.as_paths ?? [];
  const asPath = segments.map((segment) => (segment.segment_type === 1 ? `{${segment.asns.join(' ')}}` : segment.asns.join(' '))).join(' ');
  const large = attribute(32)?.['value'] as Array<{ ASN: number; LocalData1: number; LocalData2: number }> | undefined;
  return {
    prefix: path.nlri.prefix,
    next_hop: attribute(3)?.nexthop ?? (attribute(14)?.['nexthop'] as string | undefined),
    as_path: `65003${asPath ? ` ${asPath}` : ''}`,
    origin: ['igp', 'egp', 'incomplete'][attribute(1)?.value ?? 0],
    med: attribute(4)?.metric,
    communities: attribute(8)?.communities?.map(formatCommunity),
    large_communities: large?.map((community) => `${community.ASN}:${community.LocalData1}:${community.LocalData2}`),
  };
}

const sortByPrefix = (routes: RouteView[]) => [...routes].sort((a, b) => a.prefix.localeCompare(b.prefix));
const routesIn = (events: JsonEvent[]) => events.filter((event) => event.event === 'route').map(view);

describe('vipkit bgp-peer against BIRD and GoBGP', { skip: labUnavailableReason() }, () => {
  let lab: Lab;
  let bird: Bird;
  let gobgp: Gobgp;

  before(async () => {
    lab = await Lab.create(SPEC);
    bird = await Bird.start(lab, 'router', BIRD_CONFIG);
    gobgp = await Gobgp.start(
      lab,
      'gobgp',
      gobgpConfig({
        as: 65003,
        routerId: '192.0.2.2',
        localAddresses: ['192.0.2.2', '2001:db8:2::2'],
        neighbors: [
          { address: '192.0.2.11', peerAs: 64800, passive: true },
          { address: '192.0.2.12', peerAs: 64800, passive: true },
          { address: '2001:db8:2::13', peerAs: 64800, passive: true },
        ],
      }),
    );
    await gobgp.cli('global', 'rib', 'add', '203.0.113.5/32', 'nexthop', '192.0.2.2', 'community', '65003:100', 'large-community', '65003:1:2', '-a', 'ipv4');
    await gobgp.cli('global', 'rib', 'add', '198.51.100.128/25', 'nexthop', '192.0.2.2', 'origin', 'incomplete', 'aspath', '64512 {64513,64514}', 'med', '7', 'community', 'no-export,65003:200', '-a', 'ipv4');
    await gobgp.cli('global', 'rib', 'add', '2001:db8:200::/48', 'nexthop', '2001:db8:2::2', 'community', '65003:600', '-a', 'ipv6');
  });

  after(async () => {
    await lab?.destroy();
  });

  labTest('BIRD: IPv4 and IPv6 unicast over IPv4; routes exactly as BIRD exports them; a withdrawal is shown', async () => {
    const vipkit = startVipkitJson(lab, 'node1', ['bgp-peer', '--my-asn', '64800', '--json', '192.0.2.1']);
    try {
      await until('vipkit received BIRD End-of-RIB for both families', () => vipkit.events.filter((event) => event.event === 'end-of-rib').length === 2);
      const established = vipkit.events.find((event) => event.event === 'state' && event['to'] === 'Established')!;
      assert.deepEqual(established['families'], ['ipv4-unicast', 'ipv6-unicast']);
      assert.deepEqual((established['remote'] as { asn: number; router_id: string }).asn, 65002);
      assert.equal((established['remote'] as { router_id: string }).router_id, '192.0.2.1');
      assert.ok((established['agreed'] as string[]).includes('graceful-restart'));

      const exported4 = parseBirdRoutes(await bird.birdc('show', 'route', 'all', 'export', 'node1', 'table', 'master4')).map((route) => birdExported(route, '192.0.2.1'));
      const exported6 = parseBirdRoutes(await bird.birdc('show', 'route', 'all', 'export', 'node1', 'table', 'master6')).map((route) => birdExported(route, '2001:db8:2::1'));
      assert.equal(exported4.length + exported6.length, 4);
      assert.deepEqual(sortByPrefix(routesIn(vipkit.events)), sortByPrefix([...exported4, ...exported6]));

      await bird.birdc('disable', 'withdrawable');
      await until('vipkit showed the withdrawal', () => vipkit.events.some((event) => event.event === 'withdraw' && event['prefix'] === '198.51.100.128/25'));
    } finally {
      assert.equal(await vipkit.stop(), 0, vipkit.stderr());
    }
  });

  for (const [router, address] of [
    ['BIRD', '192.0.2.1'],
    ['GoBGP', '192.0.2.2'],
  ]) {
    labTest(`${router}: a wrong --my-asn gets its Bad Peer AS NOTIFICATION decoded, exit 1`, async () => {
      const result = await lab.exec('node2', [process.execPath, VIPKIT, 'bgp-peer', '--my-asn', '64801', address!], { timeoutMs: 45_000 });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, /no session: peer closed: OPEN Message Error \/ Bad Peer AS — .*64801/);
    });
  }

  labTest('BIRD: a wrong --peer-asn makes vipkit refuse its OPEN, exit 1', async () => {
    const result = await lab.exec('node3', [process.execPath, VIPKIT, 'bgp-peer', '--my-asn', '64800', '--peer-asn', '65099', '--json', '192.0.2.1'], { timeoutMs: 45_000 });
    assert.equal(result.code, 1, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonEvent);
    const sent = events.find((event) => event.event === 'notification' && event['direction'] === 'sent');
    assert.equal(sent?.['description'], 'OPEN Message Error / Bad Peer AS');
    const summary = events.find((event) => event.event === 'summary')!;
    assert.equal(summary['established'], false);
    assert.match(String(summary['reason']), /65002.*65099/);
  });

  labTest('GoBGP: routes exactly as `gobgp -j global rib` has them; a withdrawal is shown', async () => {
    const vipkit = startVipkitJson(lab, 'node1', ['bgp-peer', '--my-asn', '64800', '--json', '192.0.2.2']);
    try {
      await until('vipkit received the GoBGP routes', () => routesIn(vipkit.events).length === 3);
      const rib = [
        ...Object.values((await gobgp.json('global', 'rib', '-a', 'ipv4')) as Record<string, GobgpPath[]>),
        ...Object.values((await gobgp.json('global', 'rib', '-a', 'ipv6')) as Record<string, GobgpPath[]>),
      ].map((paths) => gobgpExported(paths[0]!));
      assert.deepEqual(sortByPrefix(routesIn(vipkit.events)), sortByPrefix(rib));

      await gobgp.cli('global', 'rib', 'del', '203.0.113.5/32', '-a', 'ipv4');
      await until('vipkit showed the withdrawal', () => vipkit.events.some((event) => event.event === 'withdraw' && event['prefix'] === '203.0.113.5/32'));
    } finally {
      assert.equal(await vipkit.stop(), 0, vipkit.stderr());
    }
  });

  labTest('GoBGP over an IPv6 session: the session comes up on IPv6 transport and the routes are GoBGP\'s', async () => {
    // Whatever GoBGP holds now (another test withdraws one of its routes).
    const rib = [
      ...Object.values((await gobgp.json('global', 'rib', '-a', 'ipv4')) as Record<string, GobgpPath[]>),
      ...Object.values((await gobgp.json('global', 'rib', '-a', 'ipv6')) as Record<string, GobgpPath[]>),
    ].map((paths) => gobgpExported(paths[0]!));
    const vipkit = startVipkitJson(lab, 'node3', ['bgp-peer', '--my-asn', '64800', '--json', '[2001:db8:2::2]']);
    try {
      await until('vipkit received the GoBGP routes', () => routesIn(vipkit.events).length === rib.length);
      assert.deepEqual(sortByPrefix(routesIn(vipkit.events)), sortByPrefix(rib));
      // GoBGP's own view: its neighbour 2001:db8:2::13 is up.
      const neighbor = (await gobgp.json('neighbor', '2001:db8:2::13')) as { state?: { session_state?: number | string } };
      assert.ok(neighbor.state?.session_state === 6 || neighbor.state?.session_state === 'established', JSON.stringify(neighbor.state));
    } finally {
      assert.equal(await vipkit.stop(), 0, vipkit.stderr());
    }
  });

  labTest('nothing listening: connection refused, explained, exit 1', async () => {
    const result = await lab.exec('node1', [process.execPath, VIPKIT, 'bgp-peer', '--my-asn', '64800', '--port', '1179', '--timeout', '2', '192.0.2.1'], { timeoutMs: 30_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /connection refused by 192\.0\.2\.1 port 1179/);
  });
});

/** vipkit as the router on node1; BIRD (router) and GoBGP (gobgp) are the speakers, node2's BIRD is outside --accept. */
const LISTEN_SPEC = {
  hosts: [
    { name: 'vipkit', addresses: ['192.0.2.1/24', '2001:db8:2::1/64'] },
    { name: 'bird', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'gobgp', addresses: ['192.0.2.12/24', '2001:db8:2::12/64'] },
    { name: 'outsider', addresses: ['192.0.2.100/24'] },
  ],
};

const SPEAKER_BIRD = (address: string) => `router id ${address};
protocol device {}
protocol static s4 { ipv4; route 203.0.113.64/26 blackhole; }
protocol bgp upstream {
  local ${address} as 65011;
  neighbor 192.0.2.1 as 64800;
  # In the export filter: BIRD drops a MED set elsewhere when it sends to another AS.
  ipv4 { import none; export filter { bgp_community.add((65011,1)); bgp_large_community.add((65011,2,3)); bgp_med = 5; accept; }; };
}
`;

describe('vipkit bgp-peer --listen: BIRD and GoBGP speakers connect to it', { skip: labUnavailableReason() }, () => {
  let lab: Lab;

  before(async () => {
    lab = await Lab.create(LISTEN_SPEC);
  });

  after(async () => {
    await lab?.destroy();
  });

  labTest('each speaker in the accepted range gets a session and its routes are shown; others are refused', async () => {
    const vipkit = startVipkitJson(lab, 'vipkit', ['bgp-peer', '--listen', '--accept', '192.0.2.0/28', '--my-asn', '64800', '--json']);
    try {
      await until('vipkit listens', () => vipkit.events.some((event) => event.event === 'listening'));
      const bird = await Bird.start(lab, 'bird', SPEAKER_BIRD('192.0.2.11'));
      const gobgp = await Gobgp.start(lab, 'gobgp', gobgpConfig({ as: 65012, routerId: '192.0.2.12', localAddresses: ['192.0.2.12'], neighbors: [{ address: '192.0.2.1', peerAs: 64800 }] }));
      await gobgp.cli('global', 'rib', 'add', '198.51.100.7/32', 'nexthop', '192.0.2.12', 'community', '65012:7', 'large-community', '65012:1:1', 'med', '3', '-a', 'ipv4');
      const outsider = await Bird.start(lab, 'outsider', SPEAKER_BIRD('192.0.2.100'));

      const routeFrom = (peer: string) => vipkit.events.find((event) => event.event === 'route' && event['peer'] === peer);
      await until('both speakers announced their routes', () => routeFrom('192.0.2.11') !== undefined && routeFrom('192.0.2.12') !== undefined, 45_000);
      const [birdView] = parseBirdRoutes(await bird.birdc('show', 'route', 'all', 'export', 'upstream')).map((route) => ({ ...birdExported(route, '192.0.2.11'), as_path: `65011${route.bgp['as_path'] ? ` ${route.bgp['as_path']}` : ''}` }));
      assert.deepEqual(view(routeFrom('192.0.2.11')!), birdView);
      const rib = Object.values((await gobgp.json('global', 'rib', '-a', 'ipv4')) as Record<string, GobgpPath[]>).map((paths) => ({ ...gobgpExported(paths[0]!), as_path: '65012' }));
      assert.deepEqual(view(routeFrom('192.0.2.12')!), rib[0]);

      await until('the outsider was refused', () => vipkit.events.some((event) => event.event === 'rejected' && event['peer'] === '192.0.2.100'), 45_000);
      assert.ok(!vipkit.events.some((event) => event.event === 'state' && event['peer'] === '192.0.2.100'));
      assert.match(await outsider.birdc('show', 'protocols', 'all', 'upstream'), /Connection rejected/i);

      const second = await lab.exec('vipkit', [process.execPath, VIPKIT, 'bgp-peer', '--listen', '--accept', '192.0.2.0/24', '--my-asn', '64800']);
      assert.equal(second.code, 2);
      assert.match(second.stderr, /cannot listen on every address port 179: another process .* already does/);
    } finally {
      assert.equal(await vipkit.stop(), 0, vipkit.stderr());
    }
    const summaries = vipkit.events.filter((event) => event.event === 'summary');
    assert.deepEqual(summaries.map((summary) => [summary['peer'], summary['established']]).sort(), [
      ['192.0.2.11', true],
      ['192.0.2.12', true],
    ]);
  });
});

/**
 * A hand-made speaker (node, in its own namespace) that sends a good UPDATE, the same
 * UPDATE with an invalid ORIGIN (RFC 7606: treat-as-withdraw) and then a broken header
 * (a session reset): vipkit reports each, and keeps running.
 */
const MALFORMED_SPEAKER = (codec: string) => `
import net from 'node:net';
import { encodeMessage } from '${codec}';
const base = { fourOctetAs: false, extendedMessage: false };
const context = { fourOctetAs: true, extendedMessage: false };
const socket = net.connect({ host: '192.0.2.1', port: 179, localAddress: '192.0.2.11' });
socket.on('data', () => {});
socket.on('error', () => {});
socket.on('connect', () => {
  socket.write(encodeMessage({ type: 'open', version: 4, myAs: 64900, holdTime: 90, bgpIdentifier: '192.0.2.11', capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'four-octet-as', asn: 64900 }] }, base));
  socket.write(encodeMessage({ type: 'keepalive' }, base));
  setTimeout(() => {
    const update = encodeMessage({ type: 'update', withdrawn: [], attributes: [{ type: 'origin', value: 'igp' }, { type: 'as-path', segments: [{ type: 'sequence', asns: [64900] }] }, { type: 'next-hop', value: '192.0.2.11' }], nlri: ['203.0.113.7/32'] }, context);
    const invalidOrigin = Buffer.from(update);
    invalidOrigin[invalidOrigin.indexOf(Buffer.from([0x40, 0x01, 0x01, 0x00])) + 3] = 7;
    socket.write(update);
    setTimeout(() => socket.write(invalidOrigin), 200);
    setTimeout(() => socket.write(Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 5, 2])])), 400);
  }, 500);
});
setTimeout(() => process.exit(0), 5000);
`;

describe('vipkit bgp-peer --listen survives malformed input', { skip: labUnavailableReason() }, () => {
  labTest('RFC 7606 treat-as-withdraw is reported, a broken header resets only that session', async () => {
    const spec = {
      hosts: [
        { name: 'vipkit', addresses: ['192.0.2.1/24'] },
        { name: 'speaker', addresses: ['192.0.2.11/24'] },
      ],
    };
    await withLab(spec, async (lab) => {
      const vipkit = startVipkitJson(lab, 'vipkit', ['bgp-peer', '--listen', '--accept', '192.0.2.0/24', '--my-asn', '64800', '--json']);
      try {
        await until('vipkit listens', () => vipkit.events.some((event) => event.event === 'listening'));
        const codec = new URL('../../src/wire/bgp/message.js', import.meta.url).href;
        const speaker = lab.spawn('speaker', [process.execPath, '--input-type=module', '-e', MALFORMED_SPEAKER(codec)], { stdio: 'ignore' });
        const speakerExited = new Promise((resolve) => speaker.once('close', resolve));
        await until('the session was reset', () => vipkit.events.some((event) => event.event === 'notification' && event['direction'] === 'sent'));
        const kinds = vipkit.events.filter((event) => ['route', 'withdraw', 'malformed', 'notification'].includes(event.event)).map((event) => event.event);
        assert.deepEqual(kinds, ['route', 'malformed', 'withdraw', 'notification']);
        const malformed = vipkit.events.find((event) => event.event === 'malformed')!;
        assert.equal(malformed['action'], 'treat-as-withdraw');
        const reset = vipkit.events.find((event) => event.event === 'notification')!;
        assert.equal(reset['description'], 'Message Header Error / Bad Message Length');
        await speakerExited;
        assert.equal(vipkit.child.exitCode, null, 'vipkit still runs');
      } finally {
        assert.equal(await vipkit.stop(), 0, vipkit.stderr());
      }
      const summary = vipkit.events.find((event) => event.event === 'summary')!;
      assert.equal(summary['malformed'], 1);
    });
  });
});

