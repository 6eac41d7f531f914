import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arp } from '../../src/wire/arp.js';
import { DecodeError } from '../../src/wire/decode-error.js';
import { ethernet } from '../../src/wire/ethernet.js';
import { decodeFrame } from '../../src/wire/frame.js';
import { icmpv6 } from '../../src/wire/icmpv6.js';
import { ipv4FromBytes, ipv6FromBytes } from '../../src/wire/ip-address.js';
import { ipv4 } from '../../src/wire/ipv4.js';
import { ipv6 } from '../../src/wire/ipv6.js';
import { macFromBytes } from '../../src/wire/mac.js';
import { ndp } from '../../src/wire/ndp.js';
import { udp } from '../../src/wire/udp.js';
import { prng } from '../helpers/prng.js';
import { loadFrameFixtures } from './frame-fixtures.js';

// Property: every decoder returns or throws DecodeError on any input, nothing else.
// Set VIPKIT_FUZZ_SEED to replay a failure; the seed is in every failure message.
const CASES = 20_000;
const seed = Number(process.env['VIPKIT_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 32));

const decoders: Array<[string, (bytes: Buffer) => unknown]> = [
  ['decodeFrame', decodeFrame],
  ['ethernet', ethernet.decode],
  ['arp', arp.decode],
  ['ipv4', ipv4.decode],
  ['ipv6', ipv6.decode],
  ['udp', udp.decode],
  ['icmpv6', icmpv6.decode],
  ['ndp', ndp.decode],
  ['macFromBytes', macFromBytes],
  ['ipv4FromBytes', ipv4FromBytes],
  ['ipv6FromBytes', ipv6FromBytes],
];

// Where ARP/IPv4/IPv6 (14, 18 behind a VLAN tag), UDP (34) and ICMPv6 (54) start, so the inner decoders
// see mutated real messages too, not only whole frames.
const LAYER_OFFSETS = [0, 14, 18, 34, 54];

describe('decoders on random and mutated input', () => {
  it(`${CASES} cases return or throw DecodeError (seed ${seed})`, () => {
    const random = prng(seed);
    const below = (limit: number): number => Math.floor(random() * limit);
    const fixtures = [...loadFrameFixtures().values()];
    const decodedLayers = { arp: 0, ndp: 0 };

    for (let index = 0; index < CASES; index++) {
      let input: Buffer;
      if (index % 2 === 0) {
        input = Buffer.from(Array.from({ length: below(201) }, () => below(256)));
      } else {
        input = Buffer.from(fixtures[below(fixtures.length)]!);
        if (random() < 0.5) input = input.subarray(0, below(input.length + 1));
        for (let flips = below(4); flips > 0 && input.length > 0; flips--) {
          input[below(input.length)] = below(256);
        }
      }
      for (const offset of LAYER_OFFSETS) {
        const slice = input.subarray(Math.min(offset, input.length));
        for (const [name, decode] of decoders) {
          try {
            const result = decode(slice);
            if (name === 'decodeFrame' && offset === 0) {
              const layers = result as ReturnType<typeof decodeFrame>;
              if (layers.arp) decodedLayers.arp++;
              if (layers.ndp) decodedLayers.ndp++;
            }
          } catch (error) {
            if (!(error instanceof DecodeError)) {
              assert.fail(`seed ${seed}, case ${index}: ${name} at offset ${offset} threw ${String(error)} on ${slice.toString('hex')}`);
            }
          }
        }
      }
    }
    // The mutations must reach the inner layers, or this checked only the Ethernet header.
    assert.ok(decodedLayers.arp > 100 && decodedLayers.ndp > 100, `seed ${seed}: too few deep decodes ${JSON.stringify(decodedLayers)}`);
  });
});
