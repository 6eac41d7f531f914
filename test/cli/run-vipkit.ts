import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const VIPKIT = fileURLToPath(new URL('../../../bin/vipkit.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real command, as a user would, with no colour and a bounded time. */
export function runVipkit(args: string[], nodeOptions: string[] = []): CliResult {
  const result = spawnSync(process.execPath, [...nodeOptions, VIPKIT, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
