import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { commands } from '../../src/cli/command-table.js';
import { run } from '../../src/cli/commands/pools.js';
import { Ui } from '../../src/cli/ui.js';
import { runVipkit } from '../cli/run-vipkit.js';
import { fixture, REPO, SHARED_VALUES } from './helpers.js';

const SERVICES = fixture('services.yaml');
const events = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

test('check exits 0 when clean or with warnings only, 1 with errors or --strict warnings, 2 when input cannot be read', () => {
  assert.equal(runVipkit(['pools', 'check', SHARED_VALUES]).code, 0);
  const warnings = ['pools', 'check', '--pool', 'p=192.0.2.0/24'];
  const lenient = runVipkit(warnings);
  assert.equal(lenient.code, 0);
  assert.match(lenient.stdout, /--pool #1, column 3: warning: 192\.0\.2\.0\/24 in pool "p" holds addresses ending in \.0 or \.255/);
  assert.equal(runVipkit([...warnings, '--strict']).code, 1);
  const typo = runVipkit(['pools', 'check', '--pool', 'p=192.0.2.1-192.0.2.9,protocol=bpg']);
  assert.equal(typo.code, 1);
  assert.match(typo.stdout, /protocol "bpg" is not layer2 or bgp; did you mean bgp\?/);
  assert.equal(runVipkit(['pools', 'check', fixture('no-such-file.yaml')]).code, 2);
  const unknown = runVipkit(['pools', 'chek', SHARED_VALUES]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'chek'\n\(Did you mean check\?\)/);
});

test('allocate --json: one object per service with service, ip or ips, pool, or error', () => {
  const result = runVipkit(['pools', 'allocate', '--json', '--services', SERVICES, SHARED_VALUES]);
  assert.equal(result.code, 1, 'a service got no address');
  const allocations = events(result.stdout).filter((event) => event['event'] === 'allocation');
  assert.deepEqual(
    allocations.map(({ service, ip, pool, error }) => ({ service, ip, pool, error })),
    [
      { service: 'infra/dns', ip: '10.0.0.70', pool: 'default', error: undefined },
      { service: 'infra/legacy', ip: undefined, pool: undefined, error: 'requested 10.0.0.99 is not in any pool.' },
      { service: 'shop/web', ip: '10.0.0.64', pool: 'default', error: undefined },
      { service: 'shop/web-tls', ip: '10.0.0.64', pool: 'default', error: undefined },
    ],
  );
});

test('list counts a /48 exactly, as a string of digits beyond 2^53, and shows who holds what', () => {
  const result = runVipkit(['pools', 'list', '--json', '--pool', 'v6=2001:db8::/48', '--pool', 'v4=192.0.2.0/24,avoid-buggy-ips=true']);
  assert.equal(result.code, 0);
  const sizes = events(result.stdout).map(({ pool, size_ipv4, size_ipv6 }) => ({ pool, size_ipv4, size_ipv6 }));
  assert.deepEqual(sizes, [
    { pool: 'v6', size_ipv4: 0, size_ipv6: (2n ** 80n).toString() },
    { pool: 'v4', size_ipv4: 254, size_ipv6: 0 },
  ]);
  const used = runVipkit(['pools', 'list', '--services', SERVICES, SHARED_VALUES]);
  assert.match(used.stdout, /default +bgp +yes +32 +0 +2 +30 +10\.0\.0\.64\/27/);
  assert.match(used.stdout, /10\.0\.0\.64 +default +shop\/web, shop\/web-tls/);
});

test('--my-asn and --peer-asn take asdot (RFC 5396), as announce and bgp-peer do', () => {
  const listed = runVipkit(['pools', 'list', '--my-asn', '1.10', '--pool', 'a=192.0.2.0/28']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^a +layer2/m);
  const converted = runVipkit(['pools', 'convert', '--to', 'flags', '--my-asn', '1.10', '--peer-asn', '0.65002', '--peer', '192.0.2.1', '--pool', 'a=198.51.100.0/28']);
  assert.equal(converted.code, 0, converted.stderr);
  assert.match(converted.stdout, /^--peer 192\.0\.2\.1,asn=65002,my-asn=65546$/m);
  const refused = runVipkit(['pools', 'list', '--my-asn', '1.65536', '--pool', 'a=192.0.2.0/28']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /"1\.65536" is not an AS number/);
});

test('convert --to flags prints the flags run reads', () => {
  const result = runVipkit(['pools', 'convert', '--to', 'flags', SHARED_VALUES]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, readFileSync(fixture('metallb-values.flags'), 'utf8'));
  assert.equal(runVipkit(['pools', 'convert', SHARED_VALUES]).code, 2, '--to is required');
});

test('convert --to crds refuses clashing Kubernetes names with exit 1, and warns of a rename', () => {
  const clashing = runVipkit(['pools', 'convert', '--to', 'crds', '--pool', 'Prod=192.0.2.0/28', '--pool', 'prod=192.0.2.16/28']);
  assert.equal(clashing.code, 1);
  assert.equal(clashing.stdout, '');
  assert.match(clashing.stderr, /cannot convert to crds: pools "Prod" and "prod" would both be the IPAddressPool "prod"; rename one of them\./);
  const renamed = runVipkit(['pools', 'convert', '--to', 'crds', '--pool', 'Prod=192.0.2.0/28']);
  assert.equal(renamed.code, 0);
  assert.match(renamed.stderr, /warning: pool "Prod" is named "prod" in the CRDs/);
  assert.match(renamed.stdout, /name: prod\n/);
});

test('problems before list go to stderr coloured by stderr\'s terminal, not stdout\'s, and never with NO_COLOR', async () => {
  const noColor = process.env['NO_COLOR'];
  const written = { out: '', err: '' };
  const stream = (isTTY: boolean, into: 'out' | 'err') => ({ isTTY, write: (text: string) => ((written[into] += text), true) }) as unknown as NodeJS.WriteStream;
  const listWithWarning = () => run(['list'], { pool: ['p=192.0.2.0/24'] }, new Ui({}, { out: stream(false, 'out') as typeof process.stdout, err: stream(true, 'err') as typeof process.stderr }));
  try {
    delete process.env['NO_COLOR'];
    assert.equal(await listWithWarning(), 0);
    assert.match(written.err, /^--pool #1, column 3: \u001b\[33m\u001b\[1mwarning\u001b\[22m\u001b\[39m: 192\.0\.2\.0\/24 in pool "p"/);
    assert.doesNotMatch(written.out, /\u001b/);
    written.err = '';
    process.env['NO_COLOR'] = '1';
    await listWithWarning();
    assert.match(written.err, /^--pool #1, column 3: warning: 192\.0\.2\.0\/24 in pool "p"/);
  } finally {
    if (noColor === undefined) delete process.env['NO_COLOR'];
    else process.env['NO_COLOR'] = noColor;
  }
});

test('the man page documents every subcommand in the table', () => {
  const page = readFileSync(new URL('man/vipkit-pools.1', REPO), 'utf8');
  const pools = commands.find((command) => command.name === 'pools')!;
  for (const { name } of pools.subcommands!) assert.match(page, new RegExp(`\\.B ${name}\\b`), name);
});

test('an IPv6 zone in a node or service address, or a link-local peer without one, is a located problem, never an internal error', () => {
  const node = runVipkit(['pools', 'check', '--pool', 'a=192.0.2.0/28', '--node', 'fe80::1%eth0']);
  assert.equal(node.code, 1);
  assert.match(node.stdout, /--node #1, column 1: error: node address "fe80::1%eth0" has an IPv6 zone \(%eth0\); zones are not allowed in pool, peer, node or service addresses/);
  // A peer is reached over one link of this host: a link-local one needs its zone, as for announce.
  const peer = runVipkit(['pools', 'check', '--pool', 'a=192.0.2.0/28', '--peer', 'fe80::1,asn=65002,my-asn=64800']);
  assert.equal(peer.code, 1);
  assert.match(peer.stdout, /--peer #1, column 1: error: fe80::1 is link-local: name its interface, as in fe80::1%eth0\./);
  assert.equal(runVipkit(['pools', 'check', '--pool', 'a=192.0.2.0/28', '--peer', 'fe80::1%eth0,asn=65002,my-asn=64800']).code, 0);
  const scratch = mkdtempSync(join(tmpdir(), 'vipkit-pools-'));
  try {
    const services = join(scratch, 'services.yaml');
    writeFileSync(services, 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, loadBalancerIP: "fe80::1%eth0"}\n');
    const allocated = runVipkit(['pools', 'allocate', '--json', '--services', services, '--pool', 'a=2001:db8::/120']);
    assert.equal(allocated.code, 1);
    const [allocation] = events(allocated.stdout).filter((event) => event['event'] === 'allocation');
    assert.equal(allocation!['error'], 'requested address "fe80::1%eth0" has an IPv6 zone (%eth0); zones are not allowed in pool, peer, node or service addresses, so write it without one.');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('allocate notes a service MetalLB may give an address of another pool of equal rank: in the table, in JSON, and counted in the summary', () => {
  const pools = ['--pool', 'a=10.0.0.0/29', '--pool', 'b=10.0.1.0/29', '--pool', 'c=10.0.2.0/29,auto-assign=false'];
  const table = runVipkit(['pools', 'allocate', '--services', SERVICES, ...pools]);
  assert.match(table.stdout, /shop\/web-tls +10\.0\.0\.0 +a +MetalLB may take pool b instead: it tries pools of equal rank in no fixed order\./);
  assert.match(table.stdout, /4 services: 2 allocated, 2 without an address, 2 that MetalLB may give an address of another pool\n$/);
  const json = events(runVipkit(['pools', 'allocate', '--json', '--services', SERVICES, ...pools]).stdout);
  assert.equal(json.find((event) => event['service'] === 'shop/web')!['note'], 'MetalLB may take pool b instead: it tries pools of equal rank in no fixed order.');
  assert.equal(json.at(-1)!['not_deterministic'], 2);
});

test('check --bgp-type: by default native for a legacy config (v0.12 speaker/main.go) and frr-k8s for resources (v0.16 charts/metallb/values.yaml); a mode given applies to both; a wrong one is a usage error', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'vipkit-pools-'));
  try {
    const legacy = join(scratch, 'legacy.yaml');
    writeFileSync(legacy, 'peers:\n- {peer-address: 10.0.1.1, peer-asn: 64500, my-asn: 64500, keepalive-time: 10s}\naddress-pools:\n- {name: p, protocol: bgp, addresses: [10.0.0.64/27]}\n');
    const resources = join(scratch, 'resources.yaml');
    writeFileSync(resources, 'apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: fast, namespace: metallb-system}\nspec: {}\n');
    const native = runVipkit(['pools', 'check', legacy]);
    assert.equal(native.code, 1);
    assert.match(native.stdout, /legacy\.yaml:2:3: error: peer 10\.0\.1\.1 sets a keepalive time, which MetalLB refuses in native BGP mode \(FRR only\)/);
    assert.equal(runVipkit(['pools', 'check', '--bgp-type', 'frr', legacy]).code, 0);
    assert.equal(runVipkit(['pools', 'check', resources]).code, 0);
    assert.equal(runVipkit(['pools', 'check', '--bgp-type', 'native', resources]).code, 1);
    // Only check judges by mode.
    assert.equal(runVipkit(['pools', 'convert', '--to', 'crds', legacy]).code, 0);
    const wrong = runVipkit(['pools', 'check', '--bgp-type', 'frrk8s', resources]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--bgp-type is native, frr or frr-k8s; did you mean frr-k8s\?/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
