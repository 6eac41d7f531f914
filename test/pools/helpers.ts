import { readFileSync } from 'node:fs';
import type { BgpTypes } from '../../src/pools/bgp-type.js';
import type { PoolsConfig, Problem } from '../../src/pools/model.js';
import { loadPoolsSource, type SourceFlags } from '../../src/pools/source.js';

/** Fixture paths are relative to the repository root; dist/test/pools is three levels down. */
export const REPO = new URL('../../../', import.meta.url);
export const fixture = (name: string) => new URL(`test/fixtures/pools/${name}`, REPO).pathname;
/** The deployment this project started from: a copy of shared/examples/metallb-values.yaml (CI's clone may not sit beside shared/). */
export const SHARED_VALUES = fixture('metallb-values.yaml');

const noFlags: SourceFlags = { pools: [], peers: [], defaults: {} };

export function loadFiles(paths: string[], flags: Partial<SourceFlags> = {}) {
  return loadPoolsSource(
    paths.map((path) => ({ path, text: readFileSync(path, 'utf8') })),
    { ...noFlags, ...flags },
  );
}

/** `text` as the file in.yaml; '' for flags alone (no file: an empty one is warned about). */
export function loadText(text: string, flags: Partial<SourceFlags> = {}, bgpTypes?: BgpTypes) {
  return loadPoolsSource(text === '' ? [] : [{ path: 'in.yaml', text }], { ...noFlags, ...flags }, bgpTypes);
}

/** Flags as a fixture file holds them: one `--pool value` or `--peer value` per line. */
export function flagsFile(path: string): SourceFlags {
  const flags: SourceFlags = { ...noFlags, pools: [], peers: [] };
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    const [flag, value] = line.split(' ');
    (flag === '--pool' ? flags.pools : flags.peers).push(value!);
  }
  return flags;
}

/** The model without where and in which format things were written, for comparing sources. */
export function modelView(config: PoolsConfig): unknown {
  return JSON.parse(
    JSON.stringify(
      {
        ...config,
        // A BGPPeer's name is the resource's, which the other sources do not have.
        peers: config.peers.map(({ name: _name, ...peer }) => peer),
        communityAliases: Object.fromEntries([...config.communityAliases].map(([name, alias]) => [name, alias.value])),
      },
      (key, value) =>
      key === 'at' || key === 'format' ? undefined : typeof value === 'bigint' ? value.toString() : value,
    ),
  );
}

/** "file:line:column message" per problem, the way tests assert them. */
export function described(problems: Problem[]): string[] {
  return problems.map((problem) => `${problem.severity} ${problem.at.source}:${problem.at.line ?? '-'}:${problem.at.column} ${problem.message}`);
}
