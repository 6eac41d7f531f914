import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEMBERSHIP_PORT, MembershipTransport } from '../../src/liveness/membership-transport.js';
import { MemorySegment } from '../../src/link/memory-link.js';
import { ethernet, EtherType } from '../../src/wire/ethernet.js';
import { IpProtocol, ipv4 } from '../../src/wire/ipv4.js';
import { membershipMessage, type MembershipMessage } from '../../src/wire/membership.js';
import { udp } from '../../src/wire/udp.js';

const MESSAGE: MembershipMessage = { ring: 42, entries: [{ member: 3, version: 1, suspect: true, up: false, leaving: false }] };

function frame(ttl: number, payload: Buffer): Buffer {
  const datagram = udp.encode({ sourcePort: MEMBERSHIP_PORT, destinationPort: MEMBERSHIP_PORT, checksum: 0, payload });
  const packet = ipv4.encode({ typeOfService: 0, identification: 1, flags: 0, fragmentOffset: 0, ttl, protocol: IpProtocol.Udp, source: '192.0.2.12', destination: '127.0.0.1', options: Buffer.alloc(0), payload: datagram });
  return ethernet.encode({ destination: '02:00:00:00:00:01', source: '02:00:00:00:00:02', etherType: EtherType.IPv4, payload: packet });
}

test('membership messages are taken from the link with TTL 255 only, and what does not decode is discarded with its reason', async () => {
  const segment = new MemorySegment();
  const transport = await MembershipTransport.open(segment.attach('eth0', '02:00:00:00:00:01'), '127.0.0.1');
  const received: unknown[] = [];
  const discarded: string[] = [];
  transport.on('message', (message) => received.push(message));
  transport.on('discarded', ({ reason }) => discarded.push(reason));
  const peer = segment.attach('peer0', '02:00:00:00:00:02');
  peer.send(frame(255, membershipMessage.encode(MESSAGE)));
  peer.send(frame(64, membershipMessage.encode(MESSAGE)));
  peer.send(frame(255, Buffer.from([9, 0, 0, 0])));
  await new Promise((resolve) => setImmediate(resolve));
  transport.close();
  assert.deepEqual(received, [{ from: '192.0.2.12', message: MESSAGE }]);
  assert.equal(discarded.length, 2);
  assert.match(discarded[0]!, /TTL 64, not 255/);
  assert.match(discarded[1]!, /membership: version 9/);
});
