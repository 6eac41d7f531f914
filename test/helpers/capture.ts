/**
 * Independent eyes on the wire: tcpdump captures in a lab namespace, tshark decodes.
 * What vipkit sends is checked with these, never with vipkit's own codecs alone.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../../src/lab/lab.js';

const START_TIMEOUT_MS = 10_000;

/** Capture on `host`'s eth0 with `filter` while `action` runs; return the pcap's path and a cleanup. */
export async function captureDuring(lab: Lab, host: string, filter: string, action: () => Promise<void>): Promise<{ file: string; dispose(): void }> {
  const directory = mkdtempSync(join(tmpdir(), 'vipkit-capture-'));
  const file = join(directory, 'capture.pcap');
  // --immediate-mode: without it libpcap hands packets over only when a buffer block fills
  // or times out (1 s), and the frames of a short run are lost when tcpdump is stopped.
  // -B 32768: a 32 MiB buffer, so that bursts of thousands of frames/s are not dropped.
  const tcpdump = lab.spawn(host, ['tcpdump', '--immediate-mode', '-B', '32768', '-U', '-n', '-Z', 'root', '-i', lab.interfaceName, '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tcpdump did not start listening')), START_TIMEOUT_MS);
      let said = '';
      tcpdump.stderr!.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      tcpdump.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}: ${said}`)));
    });
    await action();
    // -U writes each packet as it arrives; give the last one a moment to reach the file.
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    const exited = new Promise((resolve) => tcpdump.once('exit', resolve));
    tcpdump.kill('SIGINT');
    await exited;
  }
  return { file, dispose: () => rmSync(directory, { recursive: true, force: true }) };
}

/** tshark's reading of each frame: the named fields, plus every expert message it raised. */
export function tsharkFields(file: string, fields: string[], displayFilter?: string): Record<string, string>[] {
  const all = [...fields, '_ws.expert.message', '_ws.malformed'];
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', ...all.flatMap((field) => ['-e', field])];
  if (displayFilter) args.push('-Y', displayFilter);
  const output = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  return output
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => Object.fromEntries(line.split('\t').map((value, index) => [all[index]!, value])));
}
