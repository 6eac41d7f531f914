import { readFileSync } from 'node:fs';
import { UserError } from '../user-error.js';
import { isMac, macFromBytes, macToBytes } from '../wire/mac.js';

/** Where names come from when no --ethers is given. */
const DEFAULT_ETHERS = '/etc/ethers';

export class EthersError extends UserError {}

/**
 * Names for MACs from an ethers(5) file: "mac name" per line, '#' comments. ethers
 * allows leading zeros to be left out ("8:0:20:1:2:3"), so each octet is normalised.
 * Without a path, /etc/ethers is read if it exists: the names are a convenience. A file
 * the user named must be readable. Lines that are not "mac name" are skipped and
 * reported in one sentence to `warn`.
 */
export function loadEthers(path: string | undefined, warn: (sentence: string) => void): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path ?? DEFAULT_ETHERS, 'utf8');
  } catch (error) {
    if (path === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new EthersError(`cannot read the ethers file ${path ?? DEFAULT_ETHERS}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const names = new Map<string, string>();
  const skipped: number[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.replace(/#.*/, '').trim();
    if (line === '') return;
    const [mac = '', name] = line.split(/\s+/);
    const padded = mac.split(/[:-]/).map((octet) => octet.padStart(2, '0')).join(':');
    if (name !== undefined && isMac(padded)) names.set(macFromBytes(macToBytes(padded)), name);
    else skipped.push(index + 1);
  });
  if (skipped.length > 0) {
    const lines = skipped.length <= 5 ? skipped.join(', ') : `${skipped.slice(0, 5).join(', ')} and ${skipped.length - 5} more`;
    warn(`${path ?? DEFAULT_ETHERS}: line${skipped.length > 1 ? 's' : ''} ${lines} not "MAC name"; skipped.`);
  }
  return names;
}
