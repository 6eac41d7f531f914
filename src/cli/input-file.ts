import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/** A file the user named, as text; one that cannot be read at all is a usage error (exit 2), unlike one with problems in it. */
export function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`cannot read ${path}: ${why}.`);
  }
}
