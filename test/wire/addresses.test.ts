import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ipv4FromBytes,
  ipv4ToBytes,
  ipv6FromBytes,
  ipv6MulticastMac,
  ipv6ToBytes,
  solicitedNodeMulticast,
} from '../../src/wire/ip-address.js';
import { BROADCAST_MAC, isMac, macFromBytes, macToBytes, ZERO_MAC } from '../../src/wire/mac.js';

describe('mac', () => {
  it('reads colon or dash separated, any case, and writes lower-case colons', () => {
    for (const text of ['02:00:5E:10:00:0A', '02-00-5e-10-00-0a', '02:00:5e:10:00:0a']) {
      assert.equal(macFromBytes(macToBytes(text)), '02:00:5e:10:00:0a');
    }
    assert.deepEqual(macToBytes(BROADCAST_MAC), Buffer.alloc(6, 0xff));
    assert.deepEqual(macToBytes(ZERO_MAC), Buffer.alloc(6));
  });

  it('refuses anything else with a DecodeError', () => {
    for (const text of ['', '02:00:5e:10:00', '02:00:5e:10:00:0a:0b', '02:00-5e:10:00:0a', '020:0:5e:10:00:0a', 'g2:00:5e:10:00:0a']) {
      assert.equal(isMac(text), false, text);
      assert.throws(() => macToBytes(text), { name: 'DecodeError', codec: 'mac' }, text);
    }
    assert.throws(() => macFromBytes(Buffer.alloc(5)), { name: 'DecodeError', codec: 'mac' });
  });
});

describe('ipv4 address', () => {
  it('converts dotted quads both ways', () => {
    assert.deepEqual(ipv4ToBytes('192.0.2.10'), Buffer.from([192, 0, 2, 10]));
    assert.equal(ipv4FromBytes(Buffer.from([192, 0, 2, 255])), '192.0.2.255');
  });

  it('refuses malformed text and wrong lengths', () => {
    for (const text of ['', '192.0.2', '192.0.2.256', '192.0.2.010', '192.0.2.1.1', ' 192.0.2.1']) {
      assert.throws(() => ipv4ToBytes(text), { name: 'DecodeError', codec: 'ipv4-address' }, text);
    }
    assert.throws(() => ipv4FromBytes(Buffer.alloc(16)), { name: 'DecodeError' });
  });
});

describe('ipv6 address', () => {
  it('writes RFC 5952 canonical text', () => {
    const canonical: Array<[string, string]> = [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: one zero group stays
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3: the longest run
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3: the first of equal runs
      ['0:0:0:0:0:0:0:0', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['2001:0db8:0002::0011', '2001:db8:2::11'], // 4.1: no leading zeros
      ['::ffff:c000:20a', '::ffff:192.0.2.10'], // 5: IPv4-mapped
      ['64:ff9b::192.0.2.10', '64:ff9b::c000:20a'],
    ];
    for (const [input, text] of canonical) {
      assert.equal(ipv6FromBytes(ipv6ToBytes(input)), text, input);
    }
  });

  it('refuses malformed text and wrong lengths', () => {
    const malformed = ['', ':', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', 'fe80::1%eth0', '::192.0.2', '1:2:3:4:5:6:7:1.2.3.4'];
    for (const text of malformed) {
      assert.throws(() => ipv6ToBytes(text), { name: 'DecodeError', codec: 'ipv6-address' }, text);
    }
    assert.throws(() => ipv6FromBytes(Buffer.alloc(4)), { name: 'DecodeError' });
  });

  it('maps to the solicited-node group (RFC 4291 2.7.1) and its MAC (RFC 2464 7)', () => {
    assert.equal(solicitedNodeMulticast('2001:db8:2::11'), 'ff02::1:ff00:11');
    assert.equal(solicitedNodeMulticast('fe80::5eff:fe10:a'), 'ff02::1:ff10:a');
    assert.equal(ipv6MulticastMac('ff02::1:ff00:11'), '33:33:ff:00:00:11');
    assert.equal(ipv6MulticastMac('ff02::1'), '33:33:00:00:00:01');
    assert.throws(() => ipv6MulticastMac('2001:db8:2::11'), { name: 'DecodeError' });
  });
});
