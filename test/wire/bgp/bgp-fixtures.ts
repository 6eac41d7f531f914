import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadHexFixtures } from '../frame-fixtures.js';

/** test/fixtures/bgp, seen from dist/test/wire/bgp where the compiled tests run. */
const FIXTURE_DIRECTORY = fileURLToPath(new URL('../../../../test/fixtures/bgp/', import.meta.url));

/** Every `<name>.hex` BGP message fixture by name; none found fails. */
export function loadBgpFixtures(): Map<string, Buffer> {
  return loadHexFixtures(FIXTURE_DIRECTORY);
}

let loaded: Map<string, Buffer> | undefined;

export function bgpFixture(name: string): Buffer {
  loaded ??= loadBgpFixtures();
  const message = loaded.get(name);
  assert.ok(message, `fixture ${name}.hex is missing`);
  return message;
}
