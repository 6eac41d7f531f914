/**
 * Tells when input files a user edits while vipkit runs have changed. inotify on each
 * file's directory sees a change at once (a watch on the file itself would miss an editor
 * renaming a new file over it); a burst of events is settled for a moment, so that a file
 * still being written is read whole; polling stays as the fallback for file systems that
 * report no inotify events (NFS), and a change inotify already reported is not reported
 * again when the poll comes to it.
 */
import { statSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** How long after a file's last event it is read: a writer's open, truncate and write arrive as several events, microseconds apart. */
const SETTLE_MS = 5;
/** The fallback's poll. */
const POLL_MS = 500;

/** Calls `changed` after any of `paths` changes; returns the function that stops watching. */
export function watchFiles(paths: readonly string[], changed: () => void): () => void {
  /** path -> the modification time of the version last reported. */
  const reported = new Map(paths.map((path) => [path, modified(path)]));
  let settling: NodeJS.Timeout | undefined;
  const settle = () => {
    clearTimeout(settling);
    settling = setTimeout(() => {
      for (const path of paths) reported.set(path, modified(path));
      changed();
    }, SETTLE_MS);
  };
  const watchers: FSWatcher[] = [];
  for (const path of paths) {
    try {
      const watcher = watch(dirname(path), { persistent: false }, (_event, name) => name === basename(path) && settle());
      // A directory that goes away (or a watch the kernel drops) leaves the poll to notice changes.
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    } catch {
      // No inotify here (or no permission on the directory): the poll alone.
    }
    watchFile(path, { interval: POLL_MS }, (now) => now.mtimeMs !== reported.get(path) && settle());
  }
  return () => {
    clearTimeout(settling);
    for (const watcher of watchers) watcher.close();
    for (const path of paths) unwatchFile(path);
  };
}

/** A file's modification time, or 0 while it is missing (an editor between delete and rename). */
function modified(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
