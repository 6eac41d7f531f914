import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { sharedBirdLab } from '../helpers/bird-lab.js';
import { labTest } from '../helpers/root.js';
import { type JsonEvent } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * vipkit bgp-peer --add-path (RFC 7911) against BIRD 2 with `add paths tx`: BIRD holds two
 * routes for one prefix (from two static protocols) and sends both, each with its path
 * identifier; without --add-path it sends its best alone.
 */
const BIRD_CONFIG = `router id 192.0.2.1;
protocol device {}
protocol static static_a { ipv4; route 198.51.100.0/24 blackhole; }
protocol static static_b { ipv4 { preference 50; }; route 198.51.100.0/24 unreachable; }
protocol bgp node1 {
  local 192.0.2.1 as 65002;
  neighbor 192.0.2.11 as 64800;
  ipv4 { import none; export all; add paths tx; };
}
`;

describe('vipkit bgp-peer --add-path', () => {
  const shared = sharedBirdLab(BIRD_CONFIG);

  const routes = async (extra: string[]): Promise<JsonEvent[]> => {
    const result = await shared().lab.exec('node1', [process.execPath, VIPKIT, 'bgp-peer', '--my-asn', '64800', '--once', '--family', 'ipv4', '--json', ...extra, '192.0.2.1'], { timeoutMs: 45_000 });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as JsonEvent)
      .filter((event) => event.event === 'route');
  };

  labTest('asked for every path, it gets both of BIRD\'s routes for the prefix, each with its own path id; not asked, the best alone', async () => {
    const { lab, bird } = shared();
    assert.equal((await bird.birdc('show', 'route', 'for', '198.51.100.0/24')).match(/\[(static_a|static_b) /g)?.length, 2, 'BIRD holds two routes for the prefix');
    const all = await routes(['--add-path']);
    assert.deepEqual(all.map((route) => route['prefix']), ['198.51.100.0/24', '198.51.100.0/24']);
    const ids = all.map((route) => route['path_id']);
    assert.ok(ids.every((id) => typeof id === 'number'), 'each route carries its path id');
    assert.notEqual(ids[0], ids[1]);
    const best = await routes([]);
    assert.deepEqual(best.map((route) => [route['prefix'], route['path_id']]), [['198.51.100.0/24', undefined]]);
    const table = await lab.exec('node1', [process.execPath, VIPKIT, 'bgp-peer', '--my-asn', '64800', '--once', '--family', 'ipv4', '--add-path', '192.0.2.1'], { timeoutMs: 45_000 });
    assert.match(table.stdout, new RegExp(`\\+ 198\\.51\\.100\\.0/24 path ${ids[0]} `));
  });
});
