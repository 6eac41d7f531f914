import assert from 'node:assert/strict';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import type { RoutePolicy } from '../../src/bgp/announcer.js';
import type { OpenLinkOptions } from '../../src/link/link.js';
import { MemorySegment } from '../../src/link/memory-link.js';
import { LocalL2Plane } from '../../src/speaker/l2-plane.js';
import { NOTHING, Speaker, STOP_TIMEOUT_MS, type DesiredState, type SpeakerEnvironment } from '../../src/speaker/speaker.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { decodeFrame, encodeArpFrame } from '../../src/wire/frame.js';
import { IPV4_UNICAST } from '../../src/wire/bgp/registry.js';
import type { UpdateMessage } from '../../src/wire/bgp/update.js';
import { memoryDialer, sendKeepalive, sendOpen, settle } from '../bgp/memory-socket.js';
import { ManualClock } from '../helpers/manual-clock.js';

const MAC = '02:00:00:00:00:0a';
const CLIENT_MAC = '02:00:00:00:00:0b';
const schedule = { count: 2, intervalMs: 1000, ratePerSecond: 1000 };
const plain: RoutePolicy = { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 };

/** A speaker answering on eth0 of a memory segment, with a client beside it and a manual clock. */
function l2Speaker() {
  const segment = new MemorySegment();
  const clock = new ManualClock();
  const client = segment.attach('client0', CLIENT_MAC);
  const environment: SpeakerEnvironment = { l2Plane: (config) => new LocalL2Plane(config, { openLink: async ({ interfaceName }) => segment.attach(interfaceName, MAC), clock }), clock };
  const speaker = new Speaker({ l2: { interfaces: ['eth0'], schedule } }, environment);
  return { segment, clock, client, speaker };
}

const l2 = (...addresses: string[]): DesiredState => ({ ...NOTHING, l2: new Map([['eth0', addresses]]) });

function request(ip: string): Buffer {
  return encodeArpFrame({ source: CLIENT_MAC, destination: 'ff:ff:ff:ff:ff:ff', arp: { operation: ArpOperation.Request, senderMac: CLIENT_MAC, senderIp: '192.0.2.10', targetMac: '00:00:00:00:00:00', targetIp: ip } });
}

/** The ARP frames the speaker sent, as "operation target". */
function arpSent(segment: MemorySegment): string[] {
  return segment.sent
    .filter((frame) => frame.interfaceName === 'eth0')
    .map((frame) => decodeFrame(frame.data).arp!)
    .map((arp) => `${arp.operation === ArpOperation.Reply ? 'reply' : 'gratuitous'} ${arp.senderIp}`);
}

test('a desired state set before start is applied at start: gratuitous frames at once, then on schedule', async () => {
  const { segment, clock, speaker } = l2Speaker();
  speaker.set(l2('192.0.2.100'));
  assert.deepEqual(arpSent(segment), [], 'nothing before start');
  await speaker.start();
  clock.advance(0);
  assert.deepEqual(arpSent(segment), ['gratuitous 192.0.2.100']);
  clock.advance(schedule.intervalMs);
  assert.deepEqual(arpSent(segment), ['gratuitous 192.0.2.100', 'gratuitous 192.0.2.100']);
  await speaker.stop('test done');
});

test('set moves the answers: only the addresses desired now are answered, and only new ones are announced', async () => {
  const { segment, clock, client, speaker } = l2Speaker();
  await speaker.start();
  speaker.set(l2('192.0.2.100', '192.0.2.101'));
  clock.advance(0);
  speaker.set(l2('192.0.2.101', '192.0.2.102'));
  clock.advance(0);
  client.send(request('192.0.2.100'));
  client.send(request('192.0.2.102'));
  await settle();
  await settle();
  assert.deepEqual(arpSent(segment), ['gratuitous 192.0.2.100', 'gratuitous 192.0.2.101', 'gratuitous 192.0.2.102', 'reply 192.0.2.102']);
  await speaker.stop('test done');
});

test('after stop nothing is answered and no scheduled frame goes out', async () => {
  const { segment, clock, client, speaker } = l2Speaker();
  await speaker.start();
  speaker.set(l2('192.0.2.100'));
  clock.advance(0);
  await speaker.stop('test done');
  clock.advance(10 * schedule.intervalMs);
  client.send(request('192.0.2.100'));
  await settle();
  await settle();
  assert.deepEqual(arpSent(segment), ['gratuitous 192.0.2.100']);
});

test('an interface the speaker was not configured for is a bug in the caller, refused', async () => {
  const { speaker } = l2Speaker();
  assert.throws(() => speaker.set({ ...NOTHING, l2: new Map([['eth1', ['192.0.2.100']]]) }), /not configured to answer on eth1/);
});

const PEER = '192.0.2.1';
const noL2Plane = (): never => {
  throw new Error('a BGP-only speaker opens no Layer 2 plane');
};
const bgpPeer = { session: { peerAddress: PEER, port: 179, localAs: 64800, peerAs: 65002, routerId: '192.0.2.11', holdTime: 90 }, nextHop: '192.0.2.11' };

test('over BGP: the routes desired reach the peer, NOTHING withdraws them, stop closes with a Cease carrying the message', async () => {
  const { dial, peers } = memoryDialer(PEER);
  const clock = new ManualClock();
  const speaker = new Speaker({ bgp: { peers: [bgpPeer], families: [IPV4_UNICAST] } }, { l2Plane: noL2Plane, clock, dial });
  speaker.set({ l2: new Map(), bgp: new Map([['203.0.113.10/32', plain]]) });
  await speaker.start();
  await settle();
  await settle();
  const peer = peers[0]!;
  sendOpen(peer.peer, PEER);
  sendKeepalive(peer.peer);
  for (let turn = 0; turn < 4; turn++) await settle();
  const updates = () => peer.received.filter((message): message is UpdateMessage => message.type === 'update');
  assert.deepEqual(updates().flatMap((update) => update.nlri), ['203.0.113.10/32']);
  speaker.set(NOTHING);
  await settle();
  assert.deepEqual(updates().flatMap((update) => update.withdrawn), ['203.0.113.10/32']);
  await speaker.stop('maintenance window');
  await settle();
  const cease = peer.received.at(-1);
  assert.ok(cease?.type === 'notification' && cease.code === 6 && cease.subcode === 2, 'Cease / Administrative Shutdown');
  assert.equal(cease.data?.subarray(1).toString(), 'maintenance window');
});

/** A connection whose close never completes: a peer or kernel that does not let go. */
class StuckSocket extends Duplex {
  remoteAddress = PEER;
  override _read(): void {}
  override _write(_chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    done();
  }
  override _destroy(): void {}
  setNoDelay(): this {
    return this;
  }
}

test('stop is bounded: a session whose connection never closes does not hold it past STOP_TIMEOUT_MS', async () => {
  const clock = new ManualClock();
  const socket = new StuckSocket();
  const dial = () => {
    setImmediate(() => socket.emit('connect'));
    return socket as unknown as net.Socket;
  };
  const speaker = new Speaker({ bgp: { peers: [bgpPeer], families: [IPV4_UNICAST] } }, { l2Plane: noL2Plane, clock, dial });
  await speaker.start();
  await settle();
  let stopped = false;
  const stopping = speaker.stop('bye').then(() => (stopped = true));
  await settle();
  clock.advance(STOP_TIMEOUT_MS - 1);
  await settle();
  assert.equal(stopped, false, 'still waiting for the connection to close');
  clock.advance(1);
  await stopping;
  assert.equal(stopped, true);
});

test('a start that fails closes what it opened and throws', async () => {
  const segment = new MemorySegment();
  const opened: string[] = [];
  const clock = new ManualClock();
  const openLink = async ({ interfaceName }: OpenLinkOptions) => {
    if (interfaceName === 'eth1') throw new Error('no such interface eth1');
    opened.push(interfaceName);
    return segment.attach(interfaceName, MAC);
  };
  const environment: SpeakerEnvironment = { l2Plane: (config) => new LocalL2Plane(config, { openLink, clock }), clock };
  const speaker = new Speaker({ l2: { interfaces: ['eth0', 'eth1'], schedule } }, environment);
  await assert.rejects(speaker.start(), /no such interface eth1/);
  assert.deepEqual(opened, ['eth0']);
  assert.equal(speaker.macOf('eth0'), undefined, 'eth0 was closed again');
});
