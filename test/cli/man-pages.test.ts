import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { commands } from '../../src/cli/command-table.js';

const manPage = (name: string) => readFileSync(new URL(`../../../man/${name}.1`, import.meta.url), 'utf8');

/** roff escapes hyphens; compare against the page with the escapes undone. */
const plain = (roff: string) => roff.replaceAll('\\-', '-');

test('every command has a man page that documents each of its options', () => {
  const overview = plain(manPage('vipkit'));
  for (const command of commands) {
    const page = plain(manPage(`vipkit-${command.name}`));
    assert.match(overview, new RegExp(`\\.B ${command.name}\\b`), `vipkit.1 lists ${command.name}`);
    for (const option of command.options) {
      const long = option.flags.match(/--[a-z-]+/)![0];
      assert.ok(page.includes(long), `vipkit-${command.name}.1 documents ${long}`);
    }
    assert.match(page, /\.SH EXIT STATUS/, `vipkit-${command.name}.1 lists its exit codes`);
  }
});
