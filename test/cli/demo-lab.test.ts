import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { labTest } from '../helpers/root.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * `vipkit demo` end to end: it builds its own lab, so it runs as a whole process. Every
 * step ends as it should, and the witnesses it prints (iputils arping, the client's
 * neighbour table, birdc) show what the vipkit steps did.
 */
labTest('vipkit demo runs every step with the exit code it shows, and removes its lab', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [VIPKIT, 'demo'], { env: { ...process.env, NO_COLOR: '1' }, timeout: 180_000, maxBuffer: 1 << 24 });
  const steps = [...stdout.matchAll(/^(\w+)\$ vipkit (\S+)/gm)].map((match) => `${match[1]} ${match[2]}`);
  const exits = [...stdout.matchAll(/^\(exit (\d+)\)$/gm)].map((match) => Number(match[1]));
  assert.deepEqual(steps, [
    ...Array<string>(4).fill('client arping'),
    'client watch',
    'node1 announce',
    'node2 run',
    'node2 status',
    'node1 bgp-peer',
    'node2 bgp-peer',
    'node1 announce',
    'node3 run',
    'node3 status',
    'client pools',
    'client pools',
  ]);
  // The wrong AS, a config with a typo, and a service left without an address exit 1; all else 0.
  assert.deepEqual(exits, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1]);

  const node1 = /\(node1's MAC is ([0-9a-f:]{17})\)/.exec(stdout)?.[1];
  assert.ok(node1, stdout);
  assert.match(stdout, new RegExp(`Unicast reply from 192\\.0\\.2\\.150 \\[${node1.toUpperCase()}\\]`));
  assert.match(stdout, new RegExp(`^192\\.0\\.2\\.150 dev eth0 lladdr ${node1} `, 'm'));
  // run: node2 owns 192.0.2.160 (MetalLB's order: node2 > node3 > node1); 192.0.2.162 (node3 > node2 > node1) comes to it when node3 dies.
  assert.match(stdout, /"event":"serviceAnnounced".*"ip":"192\.0\.2\.160"/);
  assert.match(stdout, /"event":"memberDown".*"member":"node3"[^\n]*\n(?:.*\n)*?.*"event":"serviceAnnounced".*"ip":"192\.0\.2\.162"/);
  assert.match(stdout, /^node node2\n\nMEMBER +ADDRESS +BFD\nnode1 +192\.0\.2\.11 +up\nnode3 +192\.0\.2\.13 +up\n/m);
  assert.match(stdout, /^192\.0\.2\.160 +demo\/web +node2 +node2 > node3 > node1 +answering on eth0 /m);
  assert.match(stdout, /\(a second after node3 was killed\)\n(?:Unicast reply from 192\.0\.2\.16\d \[[0-9A-F:]+\].*\n){3}/);
  assert.match(stdout, /^203\.0\.113\.10\/32 +unicast .*\[AS64800i\]\n(?:\t.*\n)*\tBGP\.community: \(64800,100\)/m);
  assert.match(stdout, /speaker1 .*Received: Administrative shutdown/);
  // BGP mode: a path from each node, then node1's kept under graceful restart.
  assert.match(stdout, /\(both nodes announce it\)\nBIRD [^\n]*\nTable master4:\n203\.0\.113\.20\/32 +unicast \[speaker\d[^\n]*\n(?:\t.*\n)+ +unicast \[speaker\d/);
  assert.match(stdout, /^192\.0\.2\.1 +Established /m);
  assert.match(stdout, /kept under graceful restart\)\nBIRD [^\n]*\nTable master4:\n203\.0\.113\.20\/32 +unicast \[speaker\d[^\n]*\n(?:\t.*\n)* +unicast \[speaker\d/);
  assert.match(stderr, /Lab removed\.\s*$/);
});
