import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bird } from '../../src/lab/bgp-daemons.js';
import { Lab } from '../../src/lab/lab.js';
import { captureDuring, tsharkFields } from '../helpers/capture.js';
import { labTest, labUnavailableReason } from '../helpers/root.js';
import { until } from '../helpers/vipkit-process.js';

/**
 * vipkit's BFD sessions against BIRD's: the session comes Up on both sides (BIRD's own
 * `show bfd sessions` says so), a planned stop takes BIRD's side Down at once through
 * AdminDown, a killed speaker is noticed by BIRD through its detection time, and tshark
 * reads the whole exchange without a complaint.
 */
const SCRIPT = fileURLToPath(new URL('./bfd-peers-script.js', import.meta.url));
const SPEC = {
  hosts: [
    { name: 'router', addresses: ['192.0.2.1/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
  ],
};
// vipkit run's defaults, 50 ms x 3 once Up (its issue), on BIRD's side too.
const BIRD_CONFIG = [
  'router id 192.0.2.1;',
  'protocol device {}',
  'protocol bfd { interface "eth0" { min rx interval 50 ms; min tx interval 50 ms; idle tx interval 1000 ms; multiplier 3; }; neighbor 192.0.2.11 local 192.0.2.1; }',
].join('\n');

describe('BFD sessions (RFC 5880/5881) against BIRD', () => {
  let lab: Lab;
  let bird: Bird;
  before(async () => {
    if (labUnavailableReason() !== undefined) return;
    lab = await Lab.create(SPEC);
    bird = await Bird.start(lab, 'router', BIRD_CONFIG);
  });
  after(async () => {
    await lab?.destroy();
    bird?.removeFolder();
  });

  /** BIRD's state for its session with node1, as `birdc show bfd sessions` prints it. */
  const birdState = async () => /192\.0\.2\.11\s+\S+\s+(\w+)/.exec(await bird.birdc('show', 'bfd', 'sessions'))?.[1];

  function startSessions(): { child: ChildProcess; lines: Record<string, unknown>[] } {
    const child = lab.spawn('node1', [process.execPath, SCRIPT, 'eth0', '192.0.2.11', '50', '3', '192.0.2.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      lines.push(...complete.map((line) => JSON.parse(line) as Record<string, unknown>));
    });
    return { child, lines };
  }

  const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

  labTest('Up on both sides; a planned stop (AdminDown) and a kill each take BIRD Down; tshark finds nothing malformed', async () => {
    const capture = await captureDuring(lab, 'router', 'udp port 3784', async () => {
      const first = startSessions();
      try {
        await until('vipkit reports its session with BIRD Up', () => first.lines.some((line) => line['event'] === 'state' && line['to'] === 'Up'));
        await until('BIRD shows its session with vipkit Up', async () => (await birdState()) === 'Up');
        first.child.kill('SIGTERM');
        assert.equal(await exited(first.child), 0);
        await until('BIRD shows the session Down after vipkit went AdminDown', async () => (await birdState()) === 'Down');
      } finally {
        first.child.kill('SIGKILL');
      }
      const second = startSessions();
      try {
        await until('BIRD shows the new session Up', async () => (await birdState()) === 'Up');
        second.child.kill('SIGKILL');
        await exited(second.child);
        await until('BIRD detects the killed speaker', async () => (await birdState()) === 'Down');
      } finally {
        second.child.kill('SIGKILL');
      }
    });
    try {
      const packets = tsharkFields(capture.file, ['ip.src', 'ip.ttl', 'bfd.sta', 'bfd.diag']);
      const ours = packets.filter((packet) => packet['ip.src'] === '192.0.2.11');
      assert.ok(ours.some((packet) => packet['bfd.sta'] === '0x03'), 'vipkit sent Up');
      assert.ok(ours.some((packet) => packet['bfd.sta'] === '0x00' && packet['bfd.diag'] === '0x07'), 'vipkit sent AdminDown with diagnostic 7');
      for (const packet of packets) assert.deepEqual([packet['_ws.expert.message'], packet['_ws.malformed']], ['', ''], JSON.stringify(packet));
      assert.ok(ours.every((packet) => packet['ip.ttl'] === '255'));
    } finally {
      capture.dispose();
    }
  });
});
