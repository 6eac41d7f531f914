/**
 * `vipkit announce` as a process inside a lab namespace, its --json events collected as
 * they come, and a bounded wait for whatever a test expects of the world around it.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../src/lab/lab.js';
import { VIPKIT } from './run-vipkit.js';

export interface AnnounceEvent {
  event: string;
  [field: string]: unknown;
}

export interface RunningAnnounce {
  child: ChildProcess;
  events: AnnounceEvent[];
  stderr(): string;
  exited: Promise<number>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

export function spawnAnnounce(lab: Lab, host: string, args: string[]): RunningAnnounce {
  const child = lab.spawn(host, [process.execPath, VIPKIT, 'announce', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: AnnounceEvent[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) events.push(JSON.parse(line) as AnnounceEvent);
  });
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  return {
    child,
    events,
    stderr: () => stderr,
    exited,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
