import { readFileSync } from 'node:fs';
import { isMac, macFromBytes, macToBytes } from '../wire/mac.js';

/**
 * Names for MACs from an ethers(5) file: "mac name" per line, '#' comments. ethers
 * allows leading zeros to be left out ("8:0:20:1:2:3"), so each octet is normalised.
 * A missing default file is no error: the names are a convenience.
 */
export function loadEthers(path: string, required: boolean): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new Error(`cannot read the ethers file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
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
