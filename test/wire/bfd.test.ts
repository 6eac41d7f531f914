import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '../../src/observe/pcap-file.js';
import { BfdDiagnostic, bfdControl, type BfdControlPacket } from '../../src/wire/bfd.js';
import { DecodeError } from '../../src/wire/decode-error.js';
import { ethernet, EtherType } from '../../src/wire/ethernet.js';
import { IpProtocol, ipv4 } from '../../src/wire/ipv4.js';
import { udp } from '../../src/wire/udp.js';
import { tsharkFields } from '../helpers/capture.js';
import { prng } from '../helpers/prng.js';
import { hexFixtureFolder } from './frame-fixtures.js';
import { assertRoundTrip } from './round-trip.js';

const fixtures = hexFixtureFolder(fileURLToPath(new URL('../../../test/fixtures/bfd/', import.meta.url)));

const BASE: BfdControlPacket = {
  version: 1,
  diagnostic: BfdDiagnostic.None,
  state: 'Down',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  multipoint: false,
  detectMultiplier: 3,
  myDiscriminator: 0x0b4e8e9b,
  yourDiscriminator: 0,
  desiredMinTxInterval: 1_000_000,
  requiredMinRxInterval: 50_000,
  requiredMinEchoRxInterval: 0,
};

// BIRD 2.0.12 in test/fixtures/bfd (see its README): R is 0x0b4e8e9b, B is 0x5b09e601.
const R = 0x0b4e8e9b;
const B = 0x5b09e601;
const GOLDEN: Record<string, BfdControlPacket> = {
  'bird-down': { ...BASE },
  'bird-init': { ...BASE, state: 'Init', yourDiscriminator: B },
  'bird-up-final': { ...BASE, state: 'Up', final: true, yourDiscriminator: B, desiredMinTxInterval: 50_000 },
  'bird-up-poll': { ...BASE, state: 'Up', poll: true, yourDiscriminator: B, desiredMinTxInterval: 50_000 },
  'bird-up': { ...BASE, state: 'Up', yourDiscriminator: B, desiredMinTxInterval: 50_000 },
  'bird-down-detection-expired': { ...BASE, diagnostic: BfdDiagnostic.ControlDetectionTimeExpired },
  'bird-b-down': { ...BASE, myDiscriminator: B },
  'bird-b-up-poll': { ...BASE, state: 'Up', poll: true, myDiscriminator: B, yourDiscriminator: R, desiredMinTxInterval: 50_000 },
  'bird-b-up-final': { ...BASE, state: 'Up', final: true, myDiscriminator: B, yourDiscriminator: R, desiredMinTxInterval: 50_000 },
};

const AUTHENTICATED: BfdControlPacket = {
  ...BASE,
  // Simple Password (RFC 5880 4.2): Key ID 5, then the password.
  authentication: { type: 1, data: Buffer.concat([Buffer.from([5]), Buffer.from('secret')]) },
};

describe('bfd control packet: golden bytes captured from BIRD 2', () => {
  it('has an expectation for every fixture and a fixture for every expectation', () => {
    assert.deepEqual([...fixtures.all().keys()].sort(), Object.keys(GOLDEN).sort());
  });

  for (const [name, expected] of Object.entries(GOLDEN)) {
    it(`${name} decodes to its fields and encodes back to the same bytes`, () => {
      const bytes = fixtures.get(name);
      assert.deepEqual(bfdControl.decode(bytes), expected);
      assert.deepEqual(bfdControl.encode(expected), bytes);
    });
  }
});

describe('bfd control packet codec', () => {
  it('round-trips every flag, the largest values and an authentication section', () => {
    assertRoundTrip(bfdControl, {
      ...BASE,
      diagnostic: 31,
      state: 'AdminDown',
      final: true,
      controlPlaneIndependent: true,
      demand: true,
      detectMultiplier: 255,
      myDiscriminator: 0xffffffff,
      yourDiscriminator: 0xffffffff,
      desiredMinTxInterval: 0xffffffff,
      requiredMinRxInterval: 0xffffffff,
      requiredMinEchoRxInterval: 0xffffffff,
    });
    assert.equal(assertRoundTrip(bfdControl, AUTHENTICATED).authentication?.data.toString('latin1'), '\x05secret');
    assert.equal(bfdControl.encode(AUTHENTICATED)[3], 33, 'Length counts the authentication section');
  });

  it('ignores bytes past Length (UDP payload padding)', () => {
    assert.deepEqual(bfdControl.decode(Buffer.concat([fixtures.get('bird-up'), Buffer.alloc(6)])), GOLDEN['bird-up']);
  });

  it('refuses values that do not fit their fields', () => {
    assert.throws(() => bfdControl.encode({ ...BASE, diagnostic: 32 }), { name: 'DecodeError', message: /diagnostic 32 does not fit in 5 bits/ });
    assert.throws(() => bfdControl.encode({ ...BASE, detectMultiplier: 256 }), { name: 'DecodeError', message: /detect multiplier/ });
    assert.throws(() => bfdControl.encode({ ...BASE, state: 'Established' as BfdControlPacket['state'] }), { name: 'DecodeError', message: /state Established is none of AdminDown, Down, Init, Up/ });
    const tooLong = { type: 1, data: Buffer.alloc(230) };
    assert.throws(() => bfdControl.encode({ ...BASE, authentication: tooLong }), { name: 'DecodeError', message: /length 256 does not fit in 8 bits/ });
  });

  // Each check of RFC 5880 6.8.6 that needs only the packet, on a packet that passes all
  // the others: the decoder must say which one failed.
  const refusals: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /version and diagnostic needs 1 bytes/],
    ['version 0', mutate(BASE, (bytes) => (bytes[0] = 0x00)), /version 0, only 1 exists/],
    ['version 2', mutate(BASE, (bytes) => (bytes[0] = 0x40)), /version 2/],
    ['Length 23', mutate(BASE, (bytes) => (bytes[3] = 23)), /length 23, under the 24 bytes of a packet without authentication/],
    ['A set, Length 24: no authentication section', mutate(BASE, (bytes) => (bytes[1] |= 0x04)), /length 24, under the 26 bytes of a packet with authentication/],
    ['Length over the payload', bfdControl.encode(BASE).subarray(0, 20), /length 24, but the payload has only 20 bytes/],
    ['Detect Mult 0', mutate(BASE, (bytes) => (bytes[2] = 0)), /detect multiplier 0/],
    ['M set', mutate({ ...BASE, multipoint: true }, () => {}), /multipoint \(M\) bit set/],
    ['My Discriminator 0', mutate({ ...BASE, myDiscriminator: 0 }, () => {}), /my discriminator 0/],
    ['Your Discriminator 0 in Init', mutate({ ...BASE, state: 'Init' }, () => {}), /your discriminator 0 in state Init/],
    ['Your Discriminator 0 in Up', mutate({ ...BASE, state: 'Up' }, () => {}), /your discriminator 0 in state Up/],
    ['Auth Len 1', mutate(AUTHENTICATED, (bytes) => (bytes[25] = 1)), /auth len 1, under the 2 bytes/],
    ['Auth Len past Length', mutate(AUTHENTICATED, (bytes) => (bytes[25] = 10)), /authentication data needs 8 bytes, 7 left/],
  ];
  for (const [what, bytes, reason] of refusals) {
    it(`refuses: ${what}`, () => {
      assert.throws(() => bfdControl.decode(bytes), (error) => error instanceof DecodeError && error.codec === 'bfd' && reason.test(error.message));
    });
  }

  it('accepts Your Discriminator 0 in Down and AdminDown', () => {
    assert.equal(bfdControl.decode(bfdControl.encode(BASE)).state, 'Down');
    assert.equal(bfdControl.decode(bfdControl.encode({ ...BASE, state: 'AdminDown' })).state, 'AdminDown');
  });
});

function mutate(packet: BfdControlPacket, change: (bytes: Buffer) => void): Buffer {
  const bytes = bfdControl.encode(packet);
  change(bytes);
  return bytes;
}

// Property: decode returns or throws DecodeError on any input, nothing else. Set
// VIPKIT_FUZZ_SEED to replay a failure; the seed is in every failure message.
const CASES = 20_000;
const seed = Number(process.env['VIPKIT_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 32));

describe('bfd decode on random and mutated input', () => {
  it(`${CASES} cases return or throw DecodeError (seed ${seed})`, () => {
    const random = prng(seed);
    const below = (limit: number): number => Math.floor(random() * limit);
    const captured = [...fixtures.all().values(), bfdControl.encode(AUTHENTICATED)];
    let decoded = 0;
    for (let index = 0; index < CASES; index++) {
      let input: Buffer;
      if (index % 2 === 0) {
        input = Buffer.from(Array.from({ length: below(64) }, () => below(256)));
      } else {
        input = Buffer.from(captured[below(captured.length)]!);
        if (random() < 0.3) input = input.subarray(0, below(input.length + 1));
        for (let flips = below(3); flips > 0 && input.length > 0; flips--) input[below(input.length)] = below(256);
      }
      try {
        bfdControl.decode(input);
        decoded++;
      } catch (error) {
        if (!(error instanceof DecodeError)) assert.fail(`seed ${seed}, case ${index}: threw ${String(error)} on ${input.toString('hex')}`);
      }
    }
    // The mutations must leave many packets valid, or this checked only the first bytes.
    assert.ok(decoded > CASES / 10, `seed ${seed}: only ${decoded} inputs decoded`);
  });
});

// Independent eyes: each encoded packet goes out as vipkit's transport will send it,
// Ethernet/IPv4 with TTL 255/UDP from an ephemeral port to 3784 (RFC 5881 4, 5), written
// by the project's PcapWriter, and tshark decodes the file.
const FIELDS = [
  'ip.ttl',
  'udp.srcport',
  'udp.dstport',
  'bfd.version',
  'bfd.diag',
  'bfd.sta',
  'bfd.flags.p',
  'bfd.flags.f',
  'bfd.flags.c',
  'bfd.flags.a',
  'bfd.flags.d',
  'bfd.flags.m',
  'bfd.detect_time_multiplier',
  'bfd.message_length',
  'bfd.my_discriminator',
  'bfd.your_discriminator',
  'bfd.desired_min_tx_interval',
  'bfd.required_min_rx_interval',
  'bfd.required_min_echo_interval',
  'bfd.auth.type',
  'bfd.auth.len',
  'bfd.auth.key',
  'bfd.auth.password',
];

function singleHopFrame(packet: Buffer): Buffer {
  // UDP checksum 0: none, which IPv4 allows (RFC 768).
  const datagram = udp.encode({ sourcePort: 49152, destinationPort: 3784, checksum: 0, payload: packet });
  const ip = ipv4.encode({ typeOfService: 0, identification: 0, flags: 0b010, fragmentOffset: 0, ttl: 255, protocol: IpProtocol.Udp, source: '192.0.2.10', destination: '192.0.2.11', options: Buffer.alloc(0), payload: datagram });
  return ethernet.encode({ source: '02:00:5e:10:00:0a', destination: '02:00:5e:10:00:0b', etherType: EtherType.IPv4, payload: ip });
}

function tsharkReading(packets: Buffer[]): Array<Record<string, string>> {
  const directory = mkdtempSync(join(tmpdir(), 'vipkit-bfd-'));
  try {
    const file = join(directory, 'encoded.pcap');
    const writer = new PcapWriter(file);
    packets.forEach((packet, index) => writer.write(singleHopFrame(packet), BigInt(index) * 50_000_000n));
    writer.close();
    return tsharkFields(file, FIELDS).map((row) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== '')));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

describe('bfd encoder, read back by tshark', () => {
  it('agrees on every field and finds nothing malformed', () => {
    const up: BfdControlPacket = { ...BASE, state: 'Up', poll: true, controlPlaneIndependent: true, yourDiscriminator: B, desiredMinTxInterval: 50_000, requiredMinEchoRxInterval: 10_000 };
    const adminDown: BfdControlPacket = { ...BASE, state: 'AdminDown', diagnostic: BfdDiagnostic.AdministrativelyDown, final: true, demand: true, detectMultiplier: 5, yourDiscriminator: B };
    const common = { 'ip.ttl': '255', 'udp.srcport': '49152', 'udp.dstport': '3784', 'bfd.version': '1', 'bfd.flags.m': '0', 'bfd.my_discriminator': '0x0b4e8e9b' };
    assert.deepEqual(tsharkReading([bfdControl.encode(up), bfdControl.encode(adminDown), bfdControl.encode(AUTHENTICATED)]), [
      {
        ...common,
        'bfd.diag': '0x00',
        'bfd.sta': '0x03',
        'bfd.flags.p': '1',
        'bfd.flags.f': '0',
        'bfd.flags.c': '1',
        'bfd.flags.a': '0',
        'bfd.flags.d': '0',
        'bfd.detect_time_multiplier': '3',
        'bfd.message_length': '24',
        'bfd.your_discriminator': '0x5b09e601',
        'bfd.desired_min_tx_interval': '50000',
        'bfd.required_min_rx_interval': '50000',
        'bfd.required_min_echo_interval': '10000',
      },
      {
        ...common,
        'bfd.diag': '0x07',
        'bfd.sta': '0x00',
        'bfd.flags.p': '0',
        'bfd.flags.f': '1',
        'bfd.flags.c': '0',
        'bfd.flags.a': '0',
        'bfd.flags.d': '1',
        'bfd.detect_time_multiplier': '5',
        'bfd.message_length': '24',
        'bfd.your_discriminator': '0x5b09e601',
        'bfd.desired_min_tx_interval': '1000000',
        'bfd.required_min_rx_interval': '50000',
        'bfd.required_min_echo_interval': '0',
      },
      {
        ...common,
        'bfd.diag': '0x00',
        'bfd.sta': '0x01',
        'bfd.flags.p': '0',
        'bfd.flags.f': '0',
        'bfd.flags.c': '0',
        'bfd.flags.a': '1',
        'bfd.flags.d': '0',
        'bfd.detect_time_multiplier': '3',
        'bfd.message_length': '33',
        'bfd.your_discriminator': '0x00000000',
        'bfd.desired_min_tx_interval': '1000000',
        'bfd.required_min_rx_interval': '50000',
        'bfd.required_min_echo_interval': '0',
        'bfd.auth.type': '1',
        'bfd.auth.len': '9',
        'bfd.auth.key': '5',
        'bfd.auth.password': 'secret',
      },
    ]);
  });
});
