import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BgpError,
  BgpFramer,
  decodeCapabilities,
  decodeHeader,
  decodeMessage,
  decodeUpdate,
  describeOrf,
  encodeMessage,
  IPV4_UNICAST,
  IPV6_UNICAST,
  keepalive,
  notification,
  open,
  routeAttributes,
  routeJson,
  routeRefresh,
  type SessionCodecContext,
} from '../../../src/wire/bgp/index.js';
import { prng } from '../../helpers/prng.js';
import { loadBgpFixtures } from './bgp-fixtures.js';

// Property: every BGP decoder returns or throws BgpError on any input, nothing else,
// naming the offset once, and whatever decodes also encodes again. Set VIPKIT_FUZZ_SEED to replay a failure; the seed
// is in every failure message.
const CASES = 20_000;
const seed = Number(process.env['VIPKIT_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
const CONTEXTS: SessionCodecContext[] = [
  { fourOctetAs: true, extendedMessage: false },
  { fourOctetAs: false, extendedMessage: true },
  { fourOctetAs: true, extendedMessage: false, addPath: [IPV4_UNICAST, IPV6_UNICAST], families: [IPV4_UNICAST] },
];

const decoders: Array<[string, (bytes: Buffer) => unknown]> = [
  ['decodeHeader', (bytes) => decodeHeader(bytes)],
  ['open', open.decode],
  ['notification', notification.decode],
  ['keepalive', keepalive.decode],
  ['routeRefresh', (bytes) => describeOrf(routeRefresh.decode(bytes))],
  ['decodeCapabilities', decodeCapabilities],
  ...CONTEXTS.flatMap((context): Array<[string, (bytes: Buffer) => unknown]> => [
    [`decodeUpdate ${JSON.stringify(context)}`, (bytes) => routeJson(routeAttributes(decodeUpdate(bytes, context).attributes, context), false)],
    [`decodeMessage ${JSON.stringify(context)}`, (bytes) => encodeMessage(decodeMessage(bytes, context), context)],
  ]),
  [
    'BgpFramer',
    (bytes) => {
      const framer = new BgpFramer();
      // Split the input at an arbitrary point, as TCP may.
      return [...framer.push(bytes.subarray(0, bytes.length >> 1)), ...framer.push(bytes.subarray(bytes.length >> 1))];
    },
  ],
];

/** A header with a Length matching the buffer, so mutations reach the body decoders. */
function withFixedLength(input: Buffer): Buffer {
  if (input.length >= 19) input.writeUInt16BE(Math.min(input.length, 0xffff), 16);
  return input;
}

describe('BGP decoders on random and mutated input', () => {
  it(`${CASES} cases return or throw BgpError (seed ${seed})`, () => {
    const random = prng(seed);
    const below = (limit: number): number => Math.floor(random() * limit);
    const fixtures = [...loadBgpFixtures().values()];
    let decodedUpdates = 0;

    for (let index = 0; index < CASES; index++) {
      let input: Buffer;
      if (index % 4 === 0) {
        input = withFixedLength(Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from(Array.from({ length: below(120) }, () => below(256)))]));
      } else {
        input = Buffer.from(fixtures[below(fixtures.length)]!);
        if (random() < 0.3) input = input.subarray(0, below(input.length + 1));
        for (let flips = 1 + below(4); flips > 0 && input.length > 0; flips--) {
          // Mostly past the marker, where the interesting fields are.
          input[16 + below(Math.max(1, input.length - 16))] = below(256);
        }
        if (random() < 0.7) input = withFixedLength(input);
      }
      for (const [name, decode] of decoders) {
        try {
          decode(input);
          if (name.startsWith('decodeUpdate')) decodedUpdates++;
        } catch (error) {
          if (!(error instanceof BgpError)) {
            assert.fail(`seed ${seed}, case ${index}: ${name} threw ${String(error)} on ${input.toString('hex')}`);
          }
          // A wrapped decode error states its offset once, not once per layer.
          assert.equal(error.message.split('(at byte').length, 2, `seed ${seed}, case ${index}: ${name}: ${error.message}`);
        }
      }
    }
    // The mutations must reach the UPDATE body, or this checked only headers.
    assert.ok(decodedUpdates > 1000, `seed ${seed}: only ${decodedUpdates} UPDATEs decoded`);
  });
});
