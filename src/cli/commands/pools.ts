import type { ChalkInstance } from 'chalk';
import { ExitCode, UsageError } from '../errors.js';
import { readInputFile } from '../input-file.js';
import { printTable } from '../table.js';
import type { Ui } from '../ui.js';
import { Allocator, planAllocations } from '../../pools/allocator.js';
import { BGP_TYPES, DEFAULT_BGP_TYPES, type BgpType, type BgpTypes } from '../../pools/bgp-type.js';
import { checkConfig, sortProblems } from '../../pools/check.js';
import { convert, TARGETS, type Target } from '../../pools/convert.js';
import { formatLocation, poolSize, type PoolsConfig, type Problem } from '../../pools/model.js';
import { readServices, type ServiceClaim } from '../../pools/services.js';
import { loadPoolsSource, type SourceFile } from '../../pools/source.js';
import { suggestion } from '../../pools/suggest.js';
import { readAddress } from '../../pools/value-parsers.js';

interface PoolsOptions {
  pool?: string[];
  peer?: string[];
  peerAsn?: number;
  myAsn?: number;
  services?: string[];
  node?: string[];
  to?: string;
  bgpType?: string;
  strict?: boolean;
  lbClass?: string;
  json?: boolean;
}

/** Commander has already refused any other name (command-table.ts). */
type Subcommand = 'check' | 'list' | 'allocate' | 'convert';

/** What every subcommand starts from: the merged model, the services, and every problem found. */
interface Loaded {
  config: PoolsConfig;
  services: ServiceClaim[];
  problems: Problem[];
}

export async function run(targets: string[], rawOptions: Record<string, unknown>, ui: Ui): Promise<number> {
  const options = rawOptions as PoolsOptions;
  const [subcommand, ...files] = targets as [Subcommand, ...string[]];
  if (files.length === 0 && (options.pool ?? []).length === 0) {
    throw new UsageError(`pools ${subcommand} needs a pools source: MetalLB files, --pool flags, or both; for example: vipkit pools ${subcommand} metallb-values.yaml.`);
  }
  if (subcommand === 'allocate' && (options.services ?? []).length === 0) throw new UsageError('pools allocate needs --services <file> with the Services to allocate for.');
  if (subcommand === 'convert' && !(TARGETS as readonly string[]).includes(options.to ?? '')) {
    throw new UsageError(`pools convert needs --to ${TARGETS.join('|')}${options.to === undefined ? '.' : suggestion(options.to, TARGETS, false)}`);
  }
  if (options.bgpType !== undefined && !(BGP_TYPES as readonly string[]).includes(options.bgpType)) {
    throw new UsageError(`--bgp-type is native, frr or frr-k8s${suggestion(options.bgpType, BGP_TYPES, false)}`);
  }
  // Only check judges the config by MetalLB's mode; the other subcommands read what any mode would.
  const bgpType = options.bgpType as BgpType | undefined;
  const loaded = load(files, options, subcommand === 'check' ? (bgpType ? { legacy: bgpType, resources: bgpType } : DEFAULT_BGP_TYPES) : undefined);
  switch (subcommand) {
    case 'check':
      return check(loaded, options, ui);
    case 'list':
      return reportProblems(loaded.problems, ui) ? ExitCode.NotSo : list(loaded, options, ui);
    case 'allocate':
      return reportProblems(loaded.problems, ui) ? ExitCode.NotSo : allocate(loaded, options, ui);
    case 'convert':
      return reportProblems(loaded.problems, ui) ? ExitCode.NotSo : convertTo(loaded.config, options.to as Target, ui);
  }
}

function load(paths: string[], options: PoolsOptions, bgpTypes: BgpTypes | undefined): Loaded {
  const files: SourceFile[] = paths.map((path) => ({ path, text: readInputFile(path) }));
  const source = loadPoolsSource(files, { pools: options.pool ?? [], peers: options.peer ?? [], defaults: { asn: options.peerAsn, myAsn: options.myAsn } }, bgpTypes);
  const problems = [...source.problems];
  const services = (options.services ?? []).flatMap((path) => readServices(readInputFile(path), path, problems));
  const nodeAddresses = (options.node ?? []).flatMap((text, index) => readAddress(text, 'node address', { source: `--node #${index + 1}`, column: 1 }, problems) ?? []);
  problems.push(...checkConfig(source.config, { nodeAddresses, services }));
  return { config: source.config, services, problems: sortProblems(problems) };
}

function check(loaded: Loaded, options: PoolsOptions, ui: Ui): number {
  const errors = loaded.problems.filter((problem) => problem.severity === 'error').length;
  const warnings = loaded.problems.length - errors;
  if (ui.json) {
    for (const problem of loaded.problems) {
      ui.emit('problem', { severity: problem.severity, file: problem.at.source, line: problem.at.line, column: problem.at.column, message: problem.message });
    }
    ui.emit('summary', { errors, warnings, pools: loaded.config.pools.length, peers: loaded.config.peers.length });
  } else {
    for (const problem of loaded.problems) ui.line(formatProblem(problem, ui.style));
    const counted = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
    ui.line(`${counted} in ${plural(loaded.config.pools.length, 'pool')} and ${plural(loaded.config.peers.length, 'peer')}`);
  }
  return errors > 0 || (options.strict && warnings > 0) ? ExitCode.NotSo : ExitCode.Ok;
}

/** Problems on stderr before another subcommand runs; true when there are errors, which stop it. */
function reportProblems(problems: Problem[], ui: Ui): boolean {
  for (const problem of problems) ui.problem(formatProblem(problem, ui.errorStyle));
  return problems.some((problem) => problem.severity === 'error');
}

/** style: that of the stream the line goes to. */
function formatProblem(problem: Problem, style: ChalkInstance): string {
  const label = problem.severity === 'error' ? style.red.bold('error') : style.yellow.bold('warning');
  return `${formatLocation(problem.at)}: ${label}: ${problem.message}`;
}

function list(loaded: Loaded, options: PoolsOptions, ui: Ui): number {
  const withServices = (options.services ?? []).length > 0;
  const allocator = new Allocator(loaded.config.pools);
  // The plan's results are read back as each pool's usage.
  if (withServices) allocator.plan(loaded.services, options.lbClass);
  const rows = loaded.config.pools.map((pool) => {
    const size = { 4: poolSize(pool, 4), 6: poolSize(pool, 6) };
    const addresses = allocator.usage(pool.name);
    const used = BigInt(addresses.length);
    return { pool, size, used, free: size[4] + size[6] - used, addresses };
  });
  if (ui.json) {
    for (const row of rows) {
      ui.emit('pool', {
        pool: row.pool.name,
        protocols: row.pool.protocols,
        ranges: row.pool.ranges.map((range) => range.text),
        auto_assign: row.pool.autoAssign,
        avoid_buggy_ips: row.pool.avoidBuggyIPs,
        size_ipv4: jsonCount(row.size[4]),
        size_ipv6: jsonCount(row.size[6]),
        used: withServices ? jsonCount(row.used) : undefined,
        free: withServices ? jsonCount(row.free) : undefined,
        addresses: withServices ? row.addresses.map(({ ip, services }) => ({ ip, services })) : undefined,
      });
    }
    return ExitCode.Ok;
  }
  const header = ['POOL', 'PROTOCOL', 'AUTO-ASSIGN', 'IPV4', 'IPV6', ...(withServices ? ['USED', 'FREE'] : []), 'RANGES'];
  printTable(
    ui,
    header,
    rows.map((row) => [
      row.pool.name,
      row.pool.protocols.join('+') || '-',
      row.pool.autoAssign ? 'yes' : 'no',
      String(row.size[4]),
      String(row.size[6]),
      ...(withServices ? [String(row.used), String(row.free)] : []),
      row.pool.ranges.map((range) => range.text).join(', '),
    ]),
  );
  if (withServices) {
    ui.line('');
    const held = rows.flatMap((row) => row.addresses.map((address) => [address.ip, row.pool.name, address.services.join(', ')]));
    if (held.length === 0) ui.line('no address is in use');
    else printTable(ui, ['ADDRESS', 'POOL', 'SERVICES'], held);
  }
  return ExitCode.Ok;
}

function allocate(loaded: Loaded, options: PoolsOptions, ui: Ui): number {
  const plan = planAllocations(loaded.config.pools, loaded.services, options.lbClass);
  const allocations = [...plan];
  const failed = plan.failed;
  const undetermined = plan.undetermined;
  if (ui.json) {
    for (const allocation of allocations) {
      const [ip, ...more] = allocation.ips;
      ui.emit('allocation', {
        service: allocation.service,
        ip: more.length === 0 ? ip : undefined,
        ips: more.length > 0 ? allocation.ips : undefined,
        pool: allocation.pool,
        error: allocation.error,
        note: allocation.note,
      });
    }
    ui.emit('summary', { services: allocations.length, allocated: allocations.length - failed, failed, not_deterministic: undetermined });
  } else {
    printTable(
      ui,
      ['SERVICE', 'IP', 'POOL', ''],
      allocations.map((allocation) => [allocation.service, allocation.ips.join(', ') || '-', allocation.pool ?? '-', allocation.error ?? allocation.note ?? '']),
    );
    const elsewhere = undetermined > 0 ? `, ${undetermined} that MetalLB may give an address of another pool` : '';
    ui.line(`${plural(allocations.length, 'service')}: ${allocations.length - failed} allocated, ${failed} without an address${elsewhere}`);
  }
  return failed > 0 ? ExitCode.NotSo : ExitCode.Ok;
}

function convertTo(config: PoolsConfig, target: Target, ui: Ui): number {
  const converted = convert(config, target);
  if ('reason' in converted) {
    ui.problem(`vipkit: cannot convert to ${target}: ${converted.reason}`);
    return ExitCode.NotSo;
  }
  for (const warning of converted.warnings) ui.warn(warning);
  if (ui.json) {
    const event = target === 'crds' ? 'resource' : target === 'flags' ? 'flags' : 'config';
    for (const object of converted.objects) ui.emit(event, object as Record<string, unknown>);
  } else {
    process.stdout.write(converted.text);
  }
  return ExitCode.Ok;
}

/** DESIGN.md: integers beyond 2^53 are strings in JSON. */
function jsonCount(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
