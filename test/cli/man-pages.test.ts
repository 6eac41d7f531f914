import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { commands, type OptionSpec } from '../../src/cli/command-table.js';

const manPage = (name: string) => readFileSync(new URL(`../../../man/${name}.1`, import.meta.url), 'utf8');

/** roff escapes hyphens; compare against the page with the escapes undone. */
const plain = (roff: string) => roff.replaceAll('\\-', '-');

const longFlag = (option: OptionSpec) => option.flags.match(/--[a-z-]+/)![0];

test('every command has a man page that documents each of its options', () => {
  const overview = plain(manPage('vipkit'));
  for (const command of commands) {
    const page = plain(manPage(`vipkit-${command.name}`));
    assert.match(overview, new RegExp(`\\.B ${command.name}\\b`), `vipkit.1 lists ${command.name}`);
    for (const option of [...command.options, ...(command.subcommands ?? []).flatMap((subcommand) => subcommand.options)]) {
      const long = longFlag(option);
      assert.ok(page.includes(long), `vipkit-${command.name}.1 documents ${long}`);
    }
    assert.match(page, /\.SH EXIT STATUS/, `vipkit-${command.name}.1 lists its exit codes`);
  }
});

test('a command with subcommands documents each in its man page, which of them take each option, and their examples', () => {
  for (const command of commands.filter((candidate) => candidate.subcommands)) {
    const page = plain(manPage(`vipkit-${command.name}`));
    const subcommands = command.subcommands!;
    for (const subcommand of subcommands) {
      assert.match(page, new RegExp(`^\\.B vipkit ${command.name} ${subcommand.name}\\b`, 'm'), `the synopsis shows ${command.name} ${subcommand.name}`);
      assert.match(page, new RegExp(`^\\.TP\\n\\.B ${subcommand.name}$`, 'm'), `vipkit-${command.name}.1 describes ${subcommand.name}`);
      for (const example of subcommand.examples) assert.ok(page.includes(`\n${example}\n`), `vipkit-${command.name}.1 shows ${example}`);
    }
    // An option only some subcommands take says which, in its entry under OPTIONS.
    const longs = new Set(subcommands.flatMap((subcommand) => subcommand.options.map(longFlag)));
    for (const long of longs) {
      const takers = subcommands.filter((subcommand) => subcommand.options.some((option) => longFlag(option) === long));
      if (takers.length === subcommands.length) continue;
      const entry = new RegExp(`^\\.TP\\n\\.BI? ${long}\\b[^]*?(?=^\\.(?:TP|SH))`, 'm').exec(page);
      assert.ok(entry, `vipkit-${command.name}.1 has an entry for ${long}`);
      for (const { name } of takers) assert.match(entry[0], new RegExp(`\\b${name}\\b`), `the ${long} entry says ${name} takes it`);
    }
  }
});
