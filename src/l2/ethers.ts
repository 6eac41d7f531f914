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
 * the user named must be readable.
 */
export function loadEthers(path?: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path ?? DEFAULT_ETHERS, 'utf8');
  } catch (error) {
    if (path === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new EthersError(`cannot read the ethers file ${path ?? DEFAULT_ETHERS}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const names = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const [mac, name] = rawLine.replace(/#.*/, '').trim().split(/\s+/);
    if (!mac || !name) continue;
    const padded = mac.split(/[:-]/).map((octet) => octet.padStart(2, '0')).join(':');
    if (isMac(padded)) names.set(macFromBytes(macToBytes(padded)), name);
  }
  return names;
}
