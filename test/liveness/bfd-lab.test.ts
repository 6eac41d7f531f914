import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bird } from '../../src/lab/bgp-daemons.js';
import { Lab } from '../../src/lab/lab.js';
import { bfdControl } from '../../src/wire/bfd.js';
import { ethernet, EtherType } from '../../src/wire/ethernet.js';
import { IpProtocol, ipv4 } from '../../src/wire/ipv4.js';
import { udp } from '../../src/wire/udp.js';
import { captureDuring, tsharkFields } from '../helpers/capture.js';
import { labTest, labUnavailableReason } from '../helpers/root.js';
import { until } from '../helpers/vipkit-process.js';

/**
 * vipkit's BFD against BIRD's on one lab segment. The transport (RFC 5881): each hears the
 * other (BIRD's own `show bfd sessions` moves to Init on vipkit's Down), vipkit's packets
 * read cleanly in tshark with TTL 255 from a source port of RFC 5881 4, and a packet that
 * arrives with another TTL is discarded with the reason. The sessions (RFC 5880): Up on
 * both sides, a planned stop (AdminDown) and a kill each take BIRD's side Down, and tshark
 * reads the whole exchange without a complaint.
 */
const TRANSPORT_SCRIPT = fileURLToPath(new URL('./bfd-transport-script.js', import.meta.url));
const SESSIONS_SCRIPT = fileURLToPath(new URL('./bfd-peers-script.js', import.meta.url));
const LINK_SCRIPT = fileURLToPath(new URL('../link/link-script.js', import.meta.url));
const SPEC = {
  hosts: [
    { name: 'router', addresses: ['192.0.2.1/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
    { name: 'stranger', addresses: ['192.0.2.13/24'] },
  ],
};
// vipkit run's defaults, 50 ms x 3 once Up (its issue), on BIRD's side too.
const BIRD_CONFIG = [
  'router id 192.0.2.1;',
  'protocol device {}',
  'protocol bfd { interface "eth0" { min rx interval 50 ms; min tx interval 50 ms; idle tx interval 1000 ms; multiplier 3; }; neighbor 192.0.2.11 local 192.0.2.1; }',
].join('\n');
const OUR_DISCRIMINATOR = 0x1234;

interface Printed {
  event: string;
  from?: string;
  state?: string;
  myDiscriminator?: number;
  yourDiscriminator?: number;
  reason?: string;
}

describe('BFD (RFC 5880/5881) against BIRD', () => {
  let lab: Lab;
  let bird: Bird;
  before(async () => {
    if (labUnavailableReason() !== undefined) return;
    lab = await Lab.create(SPEC);
    bird = await Bird.start(lab, 'router', BIRD_CONFIG);
  });
  after(async () => {
    await lab?.destroy();
  });

  labTest('BIRD and vipkit hear each other; what vipkit sends is single-hop BFD in tshark; another TTL is discarded', async () => {
    let printed: Printed[] = [];
    let sessions = '';
    // A BFD packet as BIRD would send it, but with TTL 64: from beyond the link, as far as RFC 5881 5 can tell.
    const stray = ethernet.encode({
      destination: lab.mac('node1'),
      source: lab.mac('stranger'),
      etherType: EtherType.IPv4,
      payload: ipv4.encode({
        typeOfService: 0, identification: 1, flags: 0, fragmentOffset: 0, ttl: 64, protocol: IpProtocol.Udp, source: '192.0.2.13', destination: '192.0.2.11', options: Buffer.alloc(0),
        payload: udp.encode({ sourcePort: 49152, destinationPort: 3784, checksum: 0, payload: bfdControl.encode({ version: 1, diagnostic: 0, state: 'Down', poll: false, final: false, controlPlaneIndependent: false, demand: false, multipoint: false, detectMultiplier: 3, myDiscriminator: 7, yourDiscriminator: 0, desiredMinTxInterval: 1_000_000, requiredMinRxInterval: 1_000_000, requiredMinEchoRxInterval: 0 }) }),
      }),
    });
    const capture = await captureDuring(lab, 'router', 'udp port 3784', async () => {
      const script = lab.exec('node1', [process.execPath, TRANSPORT_SCRIPT, 'eth0', '192.0.2.11', '192.0.2.1', '3500', String(OUR_DISCRIMINATOR)], { timeoutMs: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await lab.exec('stranger', [process.execPath, LINK_SCRIPT, 'eth0', 'less 1', stray.toString('hex'), '0']);
      sessions = await bird.birdc('show', 'bfd', 'sessions');
      const result = await script;
      assert.equal(result.code, 0, result.stderr);
      printed = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Printed);
    });
    try {
      const fromBird = printed.filter((event) => event.event === 'control' && event.from === '192.0.2.1');
      assert.ok(fromBird.length >= 1, JSON.stringify(printed));
      assert.ok(fromBird.every((event) => event.myDiscriminator !== 0), 'BIRD names its session');
      // BIRD heard our Down and answered with Init (RFC 5880 6.8.6): its own view of our packets.
      assert.match(sessions, /192\.0\.2\.11\s+\S+\s+Init\b/, sessions);
      assert.ok(fromBird.some((event) => event.state === 'Init' && event.yourDiscriminator === OUR_DISCRIMINATOR), JSON.stringify(fromBird));
      assert.deepEqual(printed.filter((event) => event.event === 'discarded'), [{ event: 'discarded', from: '192.0.2.13', reason: 'TTL 64, not 255: not from this link (RFC 5881 5)' }]);
      const ours = tsharkFields(capture.file, ['ip.ttl', 'udp.srcport', 'bfd.version', 'bfd.sta', 'bfd.my_discriminator'], 'ip.src == 192.0.2.11');
      assert.ok(ours.length >= 5, `${ours.length} packets from vipkit`);
      for (const packet of ours) {
        assert.equal(packet['ip.ttl'], '255');
        assert.ok(Number(packet['udp.srcport']) >= 49152, packet['udp.srcport']);
        assert.equal(packet['bfd.version'], '1');
        assert.equal(Number(packet['bfd.my_discriminator']), OUR_DISCRIMINATOR);
        assert.deepEqual([packet['_ws.expert.message'], packet['_ws.malformed']], ['', ''], JSON.stringify(packet));
      }
      assert.equal(new Set(ours.map((packet) => packet['udp.srcport'])).size, 1, 'one source port for the session (RFC 5881 4)');
    } finally {
      capture.dispose();
    }
  });

  /** BIRD's state for its session with node1, as `birdc show bfd sessions` prints it. */
  const birdState = async () => /192\.0\.2\.11\s+\S+\s+(\w+)/.exec(await bird.birdc('show', 'bfd', 'sessions'))?.[1];

  function startSessions(): { child: ChildProcess; lines: Record<string, unknown>[] } {
    const child = lab.spawn('node1', [process.execPath, SESSIONS_SCRIPT, 'eth0', '192.0.2.11', '50', '3', '192.0.2.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
