import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe } from 'node:test';
import { Bird } from '../../src/lab/bgp-daemons.js';
import { ROUTER_AND_NODE } from '../helpers/bird-lab.js';
import { labTest, sharedLab } from '../helpers/root.js';
import { startVipkitJson, until } from '../helpers/vipkit-process.js';

/**
 * A router that stops talking: BIRD is frozen (SIGSTOP) after the session is up, so no
 * KEEPALIVE reaches vipkit, whose hold timer (3 s, the smaller of both offers) must
 * expire, be explained, and send the Hold Timer Expired NOTIFICATION (RFC 4271 6.5).
 */
const BIRD_CONFIG = `router id 192.0.2.1;
protocol device {}
protocol bgp node1 { local 192.0.2.1 as 65002; neighbor 192.0.2.11 as 64800; ipv4 { import all; export none; }; }
`;

describe('vipkit bgp-peer when the router falls silent', () => {
  const lab = sharedLab(ROUTER_AND_NODE);

  labTest('the hold timer expires: explained, NOTIFICATION sent, the session goes down', async () => {
    await Bird.start(lab(), 'router', BIRD_CONFIG);
    const vipkit = startVipkitJson(lab(), 'node1', ['bgp-peer', '--json', '--my-asn', '64800', '--hold-time', '3', '--timeout', '60', '192.0.2.1']);
    try {
      await until('the session is established', () => vipkit.events.some((event) => event.event === 'state' && event['to'] === 'Established'));
      assert.equal(vipkit.events.find((event) => event['to'] === 'Established')!['hold_time'], 3);
      // Freeze every process of the router's namespace only (never by name: other labs may run BIRD too).
      const pids = execFileSync('ip', ['netns', 'pids', lab().namespace('router')], { encoding: 'utf8' }).split('\n').filter(Boolean);
      assert.ok(pids.length > 0, 'BIRD runs in the router namespace');
      for (const pid of pids) process.kill(Number(pid), 'SIGSTOP');
      try {
        await until('the hold timer expired', () => vipkit.events.some((event) => event.event === 'state' && event['from'] === 'Established'), 30_000);
      } finally {
        for (const pid of pids) process.kill(Number(pid), 'SIGCONT');
      }
      const down = vipkit.events.find((event) => event.event === 'state' && event['from'] === 'Established')!;
      assert.equal(down['to'], 'Idle');
      assert.match(String(down['reason']), /hold timer expired/);
      const sent = vipkit.events.find((event) => event.event === 'notification' && event['direction'] === 'sent');
      assert.equal(sent?.['code'], 4, JSON.stringify(vipkit.events));
      assert.equal(sent?.['description'], 'Hold Timer Expired');
    } finally {
      await vipkit.stop();
    }
  });
});
