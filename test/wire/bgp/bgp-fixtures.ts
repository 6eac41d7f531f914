import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/fixtures/bgp, seen from dist/test/wire/bgp where the compiled tests run. */
const FIXTURE_DIRECTORY = fileURLToPath(new URL('../../../../test/fixtures/bgp/', import.meta.url));

/** Every `<name>.hex` BGP message fixture by name. Finding none fails: a loader that
 *  silently matches nothing tests nothing. */
export function loadBgpFixtures(): Map<string, Buffer> {
  const fixtures = new Map<string, Buffer>();
  for (const file of readdirSync(FIXTURE_DIRECTORY).filter((name) => name.endsWith('.hex'))) {
    const hex = readFileSync(FIXTURE_DIRECTORY + file, 'utf8').replace(/\s+/g, '');
    assert.match(hex, /^(?:[0-9a-f]{2})+$/, `${file} holds one message as lower-case hex`);
    fixtures.set(file.slice(0, -'.hex'.length), Buffer.from(hex, 'hex'));
  }
  assert.ok(fixtures.size > 0, `no .hex fixtures found in ${FIXTURE_DIRECTORY}`);
  return fixtures;
}

let loaded: Map<string, Buffer> | undefined;

export function bgpFixture(name: string): Buffer {
  loaded ??= loadBgpFixtures();
  const message = loaded.get(name);
  assert.ok(message, `fixture ${name}.hex is missing`);
  return message;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
