import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { commands } from '../../src/cli/command-table.js';
import { withLab } from '../../src/lab/lab.js';
import { labTest } from '../helpers/root.js';
import { runVipkit, VIPKIT } from './run-vipkit.js';

const REPORTER = fileURLToPath(new URL('../../../test/fixtures/report-loaded-modules.mjs', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * Runs vipkit as runVipkit does, and says which command modules it imported (from Node's
 * ESM debug log) and whether it loaded cap (a CommonJS module, seen by REPORTER).
 */
function runLogged(args: string[]): { code: number; stdout: string; commandModules: string[]; capLoaded: boolean } {
  const result = spawnSync(process.execPath, ['--import', REPORTER, VIPKIT, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1', NODE_DEBUG: 'esm' },
  });
  const loaded = /loaded-modules: (.*)/.exec(result.stderr);
  assert.ok(loaded, 'the module reporter ran');
  const commandModules = [...new Set([...result.stderr.matchAll(/\/dist\/src\/cli\/commands\/([\w-]+)\.js/g)].map((match) => match[1]!))];
  const capLoaded = (JSON.parse(loaded[1]!) as string[]).some((path) => path.includes('/node_modules/cap/'));
  return { code: result.status ?? -1, stdout: result.stdout, commandModules, capLoaded };
}

function assertOneSentence(stderr: string) {
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(stderr, /internal error/);
}

test('--version prints the package version', () => {
  const result = runVipkit(['--version']);
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), version);
});

test('--help lists every command and loads no command module nor cap', () => {
  const result = runLogged(['--help']);
  assert.equal(result.code, 0);
  for (const command of commands) assert.match(result.stdout, new RegExp(`\\b${command.name}\\b`));
  assert.deepEqual(result.commandModules, []);
  assert.equal(result.capLoaded, false);
  // The log does show a command module when one runs (pools sends nothing, so it may run here).
  assert.deepEqual(runLogged(['pools', 'list', '--pool', 'p=192.0.2.0/30']).commandModules, ['pools']);
});

test('<command> --help shows options and examples without loading the command or cap', () => {
  for (const command of commands) {
    const result = runLogged([command.name, '--help']);
    assert.equal(result.code, 0, command.name);
    assert.match(result.stdout, /Examples:/);
    for (const option of command.options) assert.ok(result.stdout.includes(option.flags.split(' ')[0]!), `${command.name} ${option.flags}`);
    for (const subcommand of command.subcommands ?? []) {
      assert.match(result.stdout, new RegExp(`^  ${subcommand.name} \\[options\\] ${escape(subcommand.arguments)} +${escape(subcommand.summary.slice(0, 20))}`, 'm'), `${command.name} lists ${subcommand.name}`);
    }
    assert.deepEqual(result.commandModules, [], command.name);
    assert.equal(result.capLoaded, false, command.name);
  }
});

test('<command> <subcommand> --help shows that subcommand\'s own options and examples, instantly', () => {
  for (const command of commands) {
    for (const subcommand of command.subcommands ?? []) {
      const words = `${command.name} ${subcommand.name}`;
      const result = runLogged([command.name, subcommand.name, '--help']);
      assert.equal(result.code, 0, words);
      assert.match(result.stdout, new RegExp(`^Usage: vipkit ${words} \\[options\\] ${escape(subcommand.arguments)}$`, 'm'));
      for (const option of subcommand.options) assert.ok(result.stdout.includes(option.flags.split(' ')[0]!), `${words} ${option.flags}`);
      for (const example of subcommand.examples) assert.ok(result.stdout.includes(`  ${example}\n`), `${words}: ${example}`);
      assert.match(result.stdout, new RegExp(`See man vipkit-${command.name}\\(1\\)`));
      assert.deepEqual(result.commandModules, [], words);
      assert.equal(result.capLoaded, false, words);
    }
  }
});

// pools only reads files and flags, so its usage errors may run on the host.
test('pools usage errors exit 2: no subcommand, an unknown one, another subcommand\'s option', () => {
  const bare = runVipkit(['pools']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /Usage: vipkit pools \[options\] \[command\]/);
  const unknown = runVipkit(['pools', 'chek', '--pool', 'p=192.0.2.0/30']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'chek'\n\(Did you mean check\?\)/);
  const misplaced = runVipkit(['pools', 'convert', '--strict', '--to', 'flags', '--pool', 'p=192.0.2.0/30']);
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /unknown option '--strict'/);
  for (const result of [bare, unknown, misplaced]) {
    assertOneSentence(result.stderr);
    assert.equal(result.stdout, '');
  }
});

/** Text as a regular expression that matches it literally. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Every case runs inside a lab namespace: this machine's own interface may sit in a
// documentation subnet, and a case that wrongly passed validation must send nothing here.
labTest('usage errors exit 2 with one sentence and no stack trace', async () => {
  const cases: { args: string[]; says: RegExp }[] = [
    { args: ['nonsense'], says: /unknown command/ },
    { args: ['arping', '--no-such-flag', '192.0.2.1'], says: /unknown option/ },
    { args: ['arping'], says: /needs a target/ },
    { args: ['arping', '192.0.2.300'], says: /not an IP address/ },
    { args: ['arping', '192.0.2.5/24'], says: /host bits set; did you mean 192\.0\.2\.0\/24/ },
    { args: ['arping', '192.0.2.80-192.0.2.70'], says: /reversed/ },
    { args: ['arping', '192.0.2.1', '2001:db8::1'], says: /cannot be mixed/ },
    { args: ['arping', '2001:db8::/64'], says: /limited to 65536/ },
    { args: ['arping', '224.0.0.1'], says: /224\.0\.0\.1 is a multicast address: ARP and NDP are for the unicast addresses hosts hold/ },
    { args: ['arping', '-i', 'soon', '192.0.2.1'], says: /duration in seconds/ },
    { args: ['arping', '-c', '0', '192.0.2.1'], says: /whole number/ },
    { args: ['arping', '--vlan', '4095', '192.0.2.1'], says: /VLAN id/ },
    { args: ['arping', '-I', 'no-such-if0', '192.0.2.1'], says: /no interface named no-such-if0; interfaces here: lo, eth0/ },
    { args: ['arping', '203.0.113.77'], says: /no interface here has a subnet holding 203\.0\.113\.77/ },
    { args: ['arping', '-I', 'eth0', '-s', 'fe80::1%eth0', '2001:db8:2::11'], says: /-s fe80::1%eth0 is not an IPv6 address like the target/ },
    { args: ['arping', '-I', 'eth0', '203.0.113.77'], says: /eth0 has no IPv4 address in a subnet holding 203\.0\.113\.77; give the source address with -s/ },
    { args: ['arping', '-D', '192.0.2.0/30'], says: /one address/ },
    { args: ['arping', '--ethers', '/nonexistent/ethers', '192.0.2.1'], says: /cannot read the ethers file/ },
    { args: ['arping', '-I', 'lo', '192.0.2.1'], says: /lo has no Ethernet address/ },
  ];
  await withLab({ hosts: [{ name: 'alone', addresses: ['192.0.2.10/24'] }] }, async (lab) => {
    for (const { args, says } of cases) {
      const result = await lab.exec('alone', [process.execPath, VIPKIT, ...args], { timeoutMs: 30_000 });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, says, args.join(' '));
      assertOneSentence(result.stderr);
      assert.equal(result.stdout, '', `${args.join(' ')} prints nothing on stdout`);
    }
  });
});

labTest('the spinner shows on a terminal, and stays off on one that reports no width (ora would clear lines without end)', async () => {
  await withLab({ hosts: [{ name: 'alone', addresses: ['192.0.2.10/24'] }] }, async (lab) => {
    const onTerminal = async (columns: number) => {
      const command = `stty cols ${columns} rows 24; ${process.execPath} ${VIPKIT} bgp-peer 192.0.2.99 --my-asn 64800 --peer-asn 65000 --timeout 1`;
      const result = await lab.exec('alone', ['script', '-qfec', command, '/dev/null'], { timeoutMs: 30_000 });
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /no session with 192\.0\.2\.99 within 1 s/);
      return result.stdout;
    };
    assert.match(await onTerminal(80), /connecting to 192\.0\.2\.99 port 179/);
    const unsized = await onTerminal(0);
    assert.doesNotMatch(unsized, /connecting to/);
    assert.ok(unsized.length < 1000, `${unsized.length} bytes on the terminal`);
  });
});
