import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { sharedBirdLab } from '../helpers/bird-lab.js';
import { labTest } from '../helpers/root.js';
import { type JsonEvent } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * vipkit bgp-peer shows the attributes routers add beyond communities: BIRD 2 (AS 65002)
 * exports a route with route targets of all three kinds and a route origin (RFC 4360,
 * 5668), and as a provider (RFC 9234 `local role`) it adds OTC towards its customer.
 */
const BIRD_CONFIG = `router id 192.0.2.1;
protocol device {}
protocol static s4 { ipv4; route 203.0.113.0/25 blackhole; }
filter tagged {
  bgp_ext_community.add((rt, 65002, 100));
  bgp_ext_community.add((ro, 192.0.2.1, 7));
  bgp_ext_community.add((rt, 65550, 200));
  accept;
}
protocol bgp node1 {
  local 192.0.2.1 as 65002;
  neighbor 192.0.2.11 as 64800;
  local role provider;
  ipv4 { import all; export filter tagged; };
}
`;

/** BIRD's "(rt, 65002, 100) (ro, 192.0.2.1, 7)" as vipkit writes them: "RT:65002:100", "SoO:192.0.2.1:7". */
function birdExtendedCommunities(text: string): string[] {
  return [...text.matchAll(/\((rt|ro), ([^,]+), (\d+)\)/g)].map((match) => `${match[1] === 'rt' ? 'RT' : 'SoO'}:${match[2]}:${match[3]}`);
}

describe('vipkit bgp-peer shows extended communities and OTC', () => {
  const shared = sharedBirdLab(BIRD_CONFIG);

  labTest('as BIRD exports them, in --json and in the route table', async () => {
    const { lab, bird } = shared();
    const run = (json: boolean) => lab.exec('node1', [process.execPath, VIPKIT, 'bgp-peer', '--my-asn', '64800', '--once', '--family', 'ipv4', ...(json ? ['--json'] : []), '192.0.2.1'], { timeoutMs: 45_000 });
    const result = await run(true);
    assert.equal(result.code, 0, result.stderr);
    const route = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as JsonEvent)
      .find((event) => event.event === 'route')!;
    // The route through the export filter (the session is over, so `export node1` shows nothing).
    const exported = await bird.birdc('show', 'route', 'all', 'filter', 'tagged', 'table', 'master4');
    const extended = /BGP\.ext_community: (.*)/.exec(exported)?.[1] ?? '';
    assert.deepEqual(route['extended_communities'], birdExtendedCommunities(extended));
    assert.deepEqual(route['extended_communities'], ['RT:65002:100', 'SoO:192.0.2.1:7', 'RT:65550:200']);
    // RFC 9234 5: a provider adds OTC with its own AS towards a customer.
    assert.equal(route['otc'], 65002);

    const human = await run(false);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /\+ 203\.0\.113\.0\/25 .* RT:65002:100 SoO:192\.0\.2\.1:7 RT:65550:200\n {4}OTC 65002\n/);
  });
});
