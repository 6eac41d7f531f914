import assert from 'node:assert/strict';
import type { Codec } from '../../src/wire/codec.js';

/** encode -> decode -> encode gives the same bytes, and encodingLength told the truth. */
export function assertRoundTrip<T>(codec: Codec<T>, message: T): T {
  const bytes = codec.encode(message);
  assert.equal(bytes.length, codec.encodingLength(message), 'encodingLength equals the bytes written');
  const decoded = codec.decode(bytes);
  assert.deepEqual(codec.encode(decoded), bytes, 'encode(decode(bytes)) equals bytes');
  return decoded;
}
