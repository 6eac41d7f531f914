import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/fixtures/frames, seen from dist/test/wire where the compiled tests run. */
const FIXTURE_DIRECTORY = fileURLToPath(new URL('../../../test/fixtures/frames/', import.meta.url));

/** Every `<name>.hex` fixture (one frame or message as lower-case hex) in `directory`, by
 *  name. Finding none fails: a loader that silently matches nothing tests nothing. */
export function loadHexFixtures(directory: string): Map<string, Buffer> {
  const fixtures = new Map<string, Buffer>();
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.hex'))) {
    const hex = readFileSync(directory + file, 'utf8').replace(/\s+/g, '');
    assert.match(hex, /^(?:[0-9a-f]{2})+$/, `${file} holds one frame as lower-case hex`);
    fixtures.set(file.slice(0, -'.hex'.length), Buffer.from(hex, 'hex'));
  }
  assert.ok(fixtures.size > 0, `no .hex fixtures found in ${directory}`);
  return fixtures;
}

/** The fixtures of one folder, loaded on first use: `all()` by name, `get(name)` one (missing fails). */
export function hexFixtureFolder(directory: string): { all(): Map<string, Buffer>; get(name: string): Buffer } {
  let loaded: Map<string, Buffer> | undefined;
  const all = () => (loaded ??= loadHexFixtures(directory));
  return {
    all,
    get(name) {
      const fixture = all().get(name);
      assert.ok(fixture, `fixture ${name}.hex is missing`);
      return fixture;
    },
  };
}

const frames = hexFixtureFolder(FIXTURE_DIRECTORY);
export const loadFrameFixtures = frames.all;
export const frameFixture = frames.get;
