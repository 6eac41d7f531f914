/**
 * A long-running `vipkit ... --json` inside a lab namespace, its JSON lines collected as
 * they arrive, and bounded polling for what a test waits on.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/lab/lab.js';

const VIPKIT = fileURLToPath(new URL('../../../bin/vipkit.js', import.meta.url));

export interface JsonEvent {
  event: string;
  [field: string]: unknown;
}

export interface VipkitProcess {
  child: ChildProcess;
  /** Every JSON line so far, parsed. */
  events: JsonEvent[];
  stderr(): string;
  exited: Promise<number>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number>;
}

/** `nodeOptions` go to node before the script, e.g. `--expose-gc`. */
export function startVipkitJson(lab: Lab, host: string, argv: string[], nodeOptions: string[] = []): VipkitProcess {
  const child = lab.spawn(host, [process.execPath, ...nodeOptions, VIPKIT, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const events: JsonEvent[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as JsonEvent);
  });
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  return {
    child,
    events,
    stderr: () => stderr,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `check` until it holds; fails after `timeoutMs` with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
