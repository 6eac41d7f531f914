import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { applyTcpOptions, assertTcpOptionsUsable, dialWithTcpOptions, TcpOptionsError } from '../../src/bgp/tcp-options.js';
import { Bird } from '../../src/lab/bgp-daemons.js';
import { Lab } from '../../src/lab/lab.js';
import { captureDuring, tsharkFields } from '../helpers/capture.js';
import { labTest, labUnavailableReason } from '../helpers/root.js';
import { until } from '../helpers/vipkit-process.js';

/**
 * BGP sessions whose TCP connections carry a TTL and a TCP-MD5 key (src/bgp/tcp-options.ts)
 * against BIRD 2's `password` and `multihop`, read back with birdc, and on the wire with
 * tcpdump and tshark. Each session runs in tcp-options-script.js inside a lab namespace.
 * A session that must not come up is watched for NEVER_MS, as long as the ones that do
 * come up take several times over.
 */
const SCRIPT = fileURLToPath(new URL('./tcp-options-script.js', import.meta.url));
const PASSWORD = 'vipkit lab secret';
const NEVER_MS = 6_000;
const UP_MS = 20_000;

interface StateLine {
  event: string;
  peer?: string;
  to?: string;
}

/** The script in `host`, its JSON lines as they arrive. */
function startScript(lab: Lab, host: string, argv: string[]) {
  const child = lab.spawn(host, [process.execPath, SCRIPT, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: StateLine[] = [];
  let stderr = '';
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    const complete = (partial + chunk.toString()).split('\n');
    partial = complete.pop()!;
    lines.push(...complete.map((line) => JSON.parse(line) as StateLine));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines,
    established: (peer?: string) => lines.some((line) => line.event === 'state' && line.to === 'Established' && (peer === undefined || line.peer === peer)),
    /** SIGTERM; asserts that it stops cleanly, whatever happened before. */
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `the script did not stop cleanly: ${stderr}`);
    },
  };
}

/** BIRD's `BGP state:` for protocol `name`, from `show protocols all`. */
async function birdBgpState(bird: Bird, name: string): Promise<string | undefined> {
  return /BGP state:\s+(\w+)/.exec(await bird.birdc('show', 'protocols', 'all', name))?.[1];
}

/** `ip` in the caller's namespace, for what Lab does not build: every call names a lab namespace with -n. */
const ip = async (argv: string[]) => (await promisify(execFile)('ip', argv, { timeout: 10_000 })).stdout;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TCP options are checked before anything is sent', () => {
  test('a TTL outside 1-255 and a key over 80 bytes are refused in one sentence', () => {
    assert.throws(() => dialWithTcpOptions({ ttl: 0 }), new TcpOptionsError('TTL 0 is not a whole number from 1 to 255.'));
    assert.throws(() => dialWithTcpOptions({ password: 'x'.repeat(81) }), new TcpOptionsError('a BGP password (TCP-MD5 key) is 1 to 80 bytes; this one is 81.'));
  });

  test('the options can be set on IPv4 and IPv6 sockets here', () => {
    assertTcpOptionsUsable({ ttl: 255, password: PASSWORD }, 4);
    assertTcpOptionsUsable({ ttl: 255, password: PASSWORD }, 6);
  });

  test('a dial that cannot set them fails like a connection, with the reason', async () => {
    const socket = dialWithTcpOptions({ password: PASSWORD })({ host: 'router.example', port: 179 });
    const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
    assert.deepEqual(error, new TcpOptionsError('a BGP password or TTL needs the peer\'s IP address, not "router.example".'));
  });

  test('a server gets them only while it listens, and only keys for its own family', async () => {
    const server = net.createServer();
    assert.throws(() => applyTcpOptions(server, { ttl: 255 }), TcpOptionsError);
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    try {
      applyTcpOptions(server, { ttl: 255, keys: [{ peer: '192.0.2.0/24', password: PASSWORD }, { peer: '192.0.2.0/24', password: '' }] });
      assert.throws(() => applyTcpOptions(server, { keys: [{ peer: '2001:db8::1', password: PASSWORD }] }), /cannot set the TCP-MD5 key for 2001:db8::1/);
      assert.throws(() => applyTcpOptions(server, { keys: [{ peer: '192.0.2.7', password: '' }] }), new TcpOptionsError('there is no TCP-MD5 key for 192.0.2.7 to remove.'));
    } finally {
      server.close();
    }
  });
});

describe('TCP-MD5 (RFC 2385) against BIRD\'s password', () => {
  let lab: Lab;
  let bird: Bird;
  // BIRD waits for our connections to 192.0.2.11 and 2001:db8:2::11, and connects to 192.0.2.12 and 2001:db8:2::12 itself.
  const config = `router id 192.0.2.1;
protocol device {}
protocol bgp dialled4 { local 192.0.2.1 as 65002; neighbor 192.0.2.11 as 64800; passive on; password "${PASSWORD}"; ipv4 { import all; export none; }; }
protocol bgp dialled6 { local 2001:db8:2::1 as 65002; neighbor 2001:db8:2::11 as 64800; passive on; password "${PASSWORD}"; ipv6 { import all; export none; }; }
protocol bgp dialling4 { local 192.0.2.1 as 65002; neighbor 192.0.2.12 as 64800; password "${PASSWORD}"; connect delay time 1; connect retry time 2; error wait time 1, 2; ipv4 { import all; export none; }; }
protocol bgp dialling6 { local 2001:db8:2::1 as 65002; neighbor 2001:db8:2::12 as 64800; password "${PASSWORD}"; connect delay time 1; connect retry time 2; error wait time 1, 2; ipv6 { import all; export none; }; }`;
  before(async () => {
    if (labUnavailableReason() !== undefined) return;
    lab = await Lab.create({
      hosts: [
        { name: 'bird', addresses: ['192.0.2.1/24', '2001:db8:2::1/64'] },
        { name: 'speaker', addresses: ['192.0.2.11/24', '192.0.2.12/24', '2001:db8:2::11/64', '2001:db8:2::12/64'] },
      ],
    });
    bird = await Bird.start(lab, 'bird', config);
  });
  after(async () => {
    await lab?.destroy();
  });

  /** Segments the kernel in BIRD's namespace dropped for a missing or wrong MD5 signature. */
  const md5Failures = async () => Number(/TcpExtTCPMD5Failure\s+(\d+)/.exec((await lab.exec('bird', ['nstat', '-asz', 'TcpExtTCPMD5Failure'])).stdout)?.[1] ?? 0);

  labTest('with BIRD\'s password our sessions reach Established, over IPv4 and IPv6, and every segment we send is signed', async () => {
    const capture = await captureDuring(lab, 'bird', 'tcp port 179', async () => {
      const v4 = startScript(lab, 'speaker', ['dial', '192.0.2.11', '-', '192.0.2.1', PASSWORD]);
      const v6 = startScript(lab, 'speaker', ['dial', '2001:db8:2::11', '-', '2001:db8:2::1', PASSWORD]);
      try {
        await until('BIRD shows both sessions Established', async () => (await birdBgpState(bird, 'dialled4')) === 'Established' && (await birdBgpState(bird, 'dialled6')) === 'Established', UP_MS);
        await until('the sessions report Established', () => v4.established() && v6.established());
      } finally {
        await v4.stop();
        await v6.stop();
      }
    });
    try {
      const ours = tsharkFields(capture.file, ['tcp.option_kind', 'tcp.flags.syn'], 'ip.src == 192.0.2.11 || ipv6.src == 2001:db8:2::11');
      assert.ok(ours.filter((segment) => segment['tcp.flags.syn'] === '1').length >= 2, 'a SYN per session');
      // Kind 19: the TCP MD5 signature option (RFC 2385 3.0).
      for (const segment of ours) assert.ok(segment['tcp.option_kind']!.split(',').includes('19'), JSON.stringify(segment));
    } finally {
      capture.dispose();
    }
  });

  labTest('with a wrong password BIRD\'s kernel drops our segments: no session comes up, nothing crashes', async () => {
    const failuresBefore = await md5Failures();
    const v4 = startScript(lab, 'speaker', ['dial', '192.0.2.11', '-', '192.0.2.1', 'not the password']);
    const v6 = startScript(lab, 'speaker', ['dial', '2001:db8:2::11', '-', '2001:db8:2::1', 'not the password']);
    try {
      await sleep(NEVER_MS);
      assert.ok(!v4.established() && !v6.established(), JSON.stringify([v4.lines, v6.lines]));
      assert.notEqual(await birdBgpState(bird, 'dialled4'), 'Established');
      assert.notEqual(await birdBgpState(bird, 'dialled6'), 'Established');
      assert.ok((await md5Failures()) > failuresBefore, 'BIRD\'s kernel counted MD5 failures');
    } finally {
      await v4.stop();
      await v6.stop();
    }
  });

  labTest('BIRD connects to our dual-stack listener over IPv4 and IPv6, with the keys and TTL set on the listening socket; with wrong keys nothing is accepted', async () => {
    const bothPeers = (password: string) => ['192.0.2.1', password, '2001:db8:2::1', password];
    const capture = await captureDuring(lab, 'bird', 'tcp port 179', async () => {
      const right = startScript(lab, 'speaker', ['listen', '::', '255', ...bothPeers(PASSWORD)]);
      try {
        await until('BIRD shows its sessions to our listener Established', async () => (await birdBgpState(bird, 'dialling4')) === 'Established' && (await birdBgpState(bird, 'dialling6')) === 'Established', UP_MS);
        await until('the passive sessions report Established', () => right.established('192.0.2.1') && right.established('2001:db8:2::1'));
      } finally {
        await right.stop();
      }
    });
    try {
      // What the listener's connections sent, from the SYN-ACK on; not the kernel's RSTs to BIRD while nothing listened.
      const ours = tsharkFields(capture.file, ['ip.ttl', 'ipv6.hlim', 'tcp.option_kind'], '(ip.src == 192.0.2.12 || ipv6.src == 2001:db8:2::12) && tcp.flags.reset == 0');
      assert.ok(ours.length >= 6, `${ours.length} segments from the listener's connections`);
      for (const segment of ours) {
        assert.equal(segment['ip.ttl'] || segment['ipv6.hlim'], '255', JSON.stringify(segment));
        assert.ok(segment['tcp.option_kind']!.split(',').includes('19'), JSON.stringify(segment));
      }
    } finally {
      capture.dispose();
    }
    const wrong = startScript(lab, 'speaker', ['listen', '::', '-', ...bothPeers('not the password')]);
    try {
      await until('the listener listens', () => wrong.lines.some((line) => line.event === 'listening'));
      await sleep(NEVER_MS);
      assert.deepEqual(wrong.lines.filter((line) => line.event !== 'listening' && line.event !== 'state'), [], 'no connection accepted');
      assert.notEqual(await birdBgpState(bird, 'dialling4'), 'Established');
      assert.notEqual(await birdBgpState(bird, 'dialling6'), 'Established');
    } finally {
      await wrong.stop();
    }
  });
});

describe('eBGP multihop: the TTL we set against BIRD two hops away', () => {
  let lab: Lab;
  let bird: Bird;
  // speaker (192.0.2.11, 2001:db8:1::11) -- router -- bird (198.51.100.2, 2001:db8:2::2)
  const config = `router id 198.51.100.2;
protocol device {}
protocol bgp hop4 { local 198.51.100.2 as 65002; neighbor 192.0.2.11 as 64800; multihop; passive on; ipv4 { import all; export none; }; }
protocol bgp hop6 { local 2001:db8:2::2 as 65002; neighbor 2001:db8:1::11 as 64800; multihop; passive on; ipv6 { import all; export none; }; }`;
  before(async () => {
    if (labUnavailableReason() !== undefined) return;
    // The lab's bridge joins speaker and router; a veth pair of our own joins router and bird.
    lab = await Lab.create({
      hosts: [
        { name: 'speaker', addresses: ['192.0.2.11/24', '2001:db8:1::11/64'] },
        { name: 'router', addresses: ['192.0.2.1/24', '2001:db8:1::1/64'] },
        { name: 'bird', addresses: [] },
      ],
    });
    await ip(['-n', lab.namespace('router'), 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', lab.namespace('bird')]);
    await ip(['-n', lab.namespace('bird'), 'link', 'set', 'eth0', 'down']);
    for (const [host, addresses] of [['router', ['198.51.100.1/24', '2001:db8:2::1/64']], ['bird', ['198.51.100.2/24', '2001:db8:2::2/64']]] as const) {
      for (const address of addresses) await ip(['-n', lab.namespace(host), 'address', 'add', address, 'dev', 'eth1', ...(address.includes(':') ? ['nodad'] : [])]);
      await ip(['-n', lab.namespace(host), 'link', 'set', 'eth1', 'up']);
    }
    await lab.exec('router', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    await ip(['-n', lab.namespace('speaker'), 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.1']);
    await ip(['-n', lab.namespace('speaker'), 'route', 'add', '2001:db8:2::/64', 'via', '2001:db8:1::1']);
    await ip(['-n', lab.namespace('bird'), 'route', 'add', '192.0.2.0/24', 'via', '198.51.100.1']);
    await ip(['-n', lab.namespace('bird'), 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:2::1']);
    bird = await Bird.start(lab, 'bird', config);
  });
  after(async () => {
    await lab?.destroy();
  });

  /** Runs a session over IPv4 and one over IPv6 with `ttl` while the router's speaker side is captured. */
  async function sessionsWithTtl(ttl: number, body: (v4: ReturnType<typeof startScript>, v6: ReturnType<typeof startScript>) => Promise<void>) {
    return captureDuring(lab, 'router', 'tcp port 179 or icmp or icmp6', async () => {
      const v4 = startScript(lab, 'speaker', ['dial', '192.0.2.11', String(ttl), '198.51.100.2', '-']);
      const v6 = startScript(lab, 'speaker', ['dial', '2001:db8:1::11', String(ttl), '2001:db8:2::2', '-']);
      try {
        await body(v4, v6);
      } finally {
        await v4.stop();
        await v6.stop();
      }
    });
  }

  /** Our SYNs as the router received them: TTL (IPv4) or hop limit (IPv6). */
  const synTtls = (file: string) =>
    tsharkFields(file, ['ip.ttl', 'ipv6.hlim'], 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && !icmp && !icmpv6 && (ip.src == 192.0.2.11 || ipv6.src == 2001:db8:1::11)').map((segment) => segment['ip.ttl'] || `v6 ${segment['ipv6.hlim']}`);

  labTest('TTL 255: the SYNs leave with 255 and both sessions reach Established', async () => {
    const capture = await sessionsWithTtl(255, async (v4, v6) => {
      await until('BIRD shows both sessions Established', async () => (await birdBgpState(bird, 'hop4')) === 'Established' && (await birdBgpState(bird, 'hop6')) === 'Established', UP_MS);
      await until('the sessions report Established', () => v4.established() && v6.established());
    });
    try {
      assert.deepEqual([...new Set(synTtls(capture.file))].sort(), ['255', 'v6 255']);
    } finally {
      capture.dispose();
    }
  });

  labTest('TTL 1: the SYNs die at the router (time exceeded), no session comes up, nothing crashes', async () => {
    const capture = await sessionsWithTtl(1, async (v4, v6) => {
      await sleep(NEVER_MS);
      assert.ok(!v4.established() && !v6.established(), JSON.stringify([v4.lines, v6.lines]));
      assert.notEqual(await birdBgpState(bird, 'hop4'), 'Established');
      assert.notEqual(await birdBgpState(bird, 'hop6'), 'Established');
    });
    try {
      const ttls = synTtls(capture.file);
      assert.ok(ttls.includes('1') && ttls.includes('v6 1'), ttls.join(' '));
      assert.deepEqual([...new Set(ttls)].sort(), ['1', 'v6 1']);
      // The first source is the ICMP packet's own; the second, the quoted SYN's.
      const timeExceeded = tsharkFields(capture.file, ['ip.src', 'ipv6.src'], 'icmp.type == 11 || icmpv6.type == 3').map((packet) => (packet['ip.src'] || packet['ipv6.src'])!.split(',')[0]);
      assert.ok(timeExceeded.includes('192.0.2.1'), 'ICMP time exceeded from the router');
      assert.ok(timeExceeded.includes('2001:db8:1::1'), 'ICMPv6 time exceeded from the router');
    } finally {
      capture.dispose();
    }
  });
});
