import { fileURLToPath } from 'node:url';
import { hexFixtureFolder } from '../frame-fixtures.js';

/** test/fixtures/bgp, seen from dist/test/wire/bgp where the compiled tests run. */
const messages = hexFixtureFolder(fileURLToPath(new URL('../../../../test/fixtures/bgp/', import.meta.url)));

/** Every `<name>.hex` BGP message fixture by name; none found fails. */
export const loadBgpFixtures = messages.all;
export const bgpFixture = messages.get;
