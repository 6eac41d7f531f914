import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arp, ArpOperation } from '../../src/wire/arp.js';
import { assertRoundTrip } from './round-trip.js';

const request = { operation: ArpOperation.Request, senderMac: '02:00:5e:10:00:0a', senderIp: '192.0.2.10', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.11' };

describe('arp', () => {
  it('round-trips', () => {
    assertRoundTrip(arp, request);
  });

  it('ignores Ethernet padding after the 28 bytes', () => {
    assert.deepEqual(arp.decode(Buffer.concat([arp.encode(request), Buffer.alloc(18)])), request);
  });

  it('refuses other hardware/protocol types and address lengths', () => {
    const mutations: Array<[string, (bytes: Buffer) => void]> = [
      ['hardware type 6 (IEEE 802)', (bytes) => bytes.writeUInt16BE(6, 0)],
      ['protocol type IPv6', (bytes) => bytes.writeUInt16BE(0x86dd, 2)],
      ['hardware address length 8', (bytes) => bytes.writeUInt8(8, 4)],
      ['protocol address length 16', (bytes) => bytes.writeUInt8(16, 5)],
    ];
    for (const [what, mutate] of mutations) {
      const bytes = arp.encode(request);
      mutate(bytes);
      assert.throws(() => arp.decode(bytes), { name: 'DecodeError', codec: 'arp' }, what);
    }
    assert.throws(() => arp.decode(arp.encode(request).subarray(0, 27)), { name: 'DecodeError', codec: 'arp' });
  });
});
