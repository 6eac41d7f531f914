/**
 * node:test wrappers for tests that need real network namespaces. Without root or
 * `ip netns` they skip with a message saying why, so a skipped lab test is never silent.
 */
import { execFileSync } from 'node:child_process';
import { after, before, test, type TestContext, type TestOptions } from 'node:test';
import { Lab, type LabSpec } from '../../src/lab/lab.js';

let labSupport: string | undefined | null = null;

/** Why lab tests cannot run here, or undefined when they can. */
export function labUnavailableReason(): string | undefined {
  if (labSupport !== null) return labSupport;
  if (process.getuid?.() !== 0) {
    labSupport = 'needs root and network namespaces (run as root)';
  } else {
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
      labSupport = undefined;
    } catch {
      labSupport = 'needs root and network namespaces (`ip netns list` failed: is iproute2 installed?)';
    }
  }
  return labSupport;
}

/** A test that builds labs; default timeout 60 s so a stuck lab fails instead of hanging. */
export function labTest(name: string, fn: (t: TestContext) => Promise<void>, options: TestOptions = {}): void {
  test(name, { timeout: 60_000, ...options }, async (t) => {
    const reason = labUnavailableReason();
    if (reason !== undefined) {
      t.skip(reason);
      return;
    }
    await fn(t);
  });
}

/**
 * One lab for every test of the enclosing describe block, built before them and removed
 * after them. Call the returned function inside a labTest, where labs can run.
 */
export function sharedLab(spec: LabSpec): () => Lab {
  let lab: Lab | undefined;
  before(async () => {
    if (labUnavailableReason() === undefined) lab = await Lab.create(spec);
  });
  after(async () => {
    await lab?.destroy();
  });
  return () => {
    if (!lab) throw new Error('the shared lab was not built');
    return lab;
  };
}
