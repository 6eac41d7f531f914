import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { commands } from '../../src/cli/command-table.js';
import { withLab } from '../../src/lab/lab.js';
import { labTest } from '../helpers/root.js';
import { runVipkit, VIPKIT } from './run-vipkit.js';

const REPORTER = fileURLToPath(new URL('../../../test/fixtures/report-loaded-modules.mjs', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

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
  const result = runVipkit(['--help'], ['--import', REPORTER]);
  assert.equal(result.code, 0);
  for (const command of commands) assert.match(result.stdout, new RegExp(`\\b${command.name}\\b`));
  const loaded = /loaded-modules: (.*)/.exec(result.stderr);
  assert.ok(loaded, 'the module reporter ran');
  const modules = JSON.parse(loaded[1]!) as string[];
  assert.ok(!modules.some((path) => path.includes('/node_modules/cap/')), `cap was loaded: ${modules.join(', ')}`);
});

test('<command> --help shows options and examples without loading cap', () => {
  for (const command of commands) {
    const result = runVipkit([command.name, '--help'], ['--import', REPORTER]);
    assert.equal(result.code, 0, command.name);
    assert.match(result.stdout, /Examples:/);
    for (const option of command.options) assert.ok(result.stdout.includes(option.flags.split(' ')[0]!), `${command.name} ${option.flags}`);
    assert.doesNotMatch(result.stderr, /node_modules\/cap\//);
  }
});

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
    { args: ['arping', '-i', 'soon', '192.0.2.1'], says: /duration in seconds/ },
    { args: ['arping', '-c', '0', '192.0.2.1'], says: /whole number/ },
    { args: ['arping', '--vlan', '4095', '192.0.2.1'], says: /VLAN id/ },
    { args: ['arping', '-I', 'no-such-if0', '192.0.2.1'], says: /no interface named no-such-if0; interfaces here: lo, eth0/ },
    { args: ['arping', '203.0.113.77'], says: /no interface here has a subnet holding 203\.0\.113\.77/ },
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
