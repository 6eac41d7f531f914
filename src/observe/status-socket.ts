/**
 * `vipkit status` talks to a running `vipkit run` over a Unix socket: the speaker answers
 * each connection with one JSON document (its status now) and closes it. A socket file
 * left by a speaker that died is taken over; one that a live speaker answers on is refused.
 */
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { UserError } from '../user-error.js';

/** Where `run` listens and `status` asks, unless told otherwise. */
export const DEFAULT_STATUS_SOCKET = '/run/vipkit/vipkit.sock';
/** A speaker answers at once; one that does not within this is not there. */
const QUERY_TIMEOUT_MS = 3000;

export class StatusSocketError extends UserError {
  override readonly name = 'StatusSocketError';
}

/** Serves `snapshot()` as JSON on `path` until closed. */
export class StatusServer {
  private constructor(
    private readonly server: net.Server,
    private readonly path: string,
  ) {}

  static async listen(path: string, snapshot: () => unknown): Promise<StatusServer> {
    const answered = await queryStatus(path).then(
      () => true,
      () => false,
    );
    if (answered) throw new StatusSocketError(`another vipkit run already answers on ${path}; give this one its own --socket.`);
    try {
      mkdirSync(dirname(path), { recursive: true });
      // A socket file nobody answers on is a dead speaker's.
      rmSync(path, { force: true });
    } catch (error) {
      throw new StatusSocketError(`cannot create the status socket ${path}: ${(error as Error).message}.`);
    }
    const server = net.createServer((socket) => socket.end(`${JSON.stringify(snapshot())}\n`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new StatusSocketError(`cannot listen on the status socket ${path}: ${error.code ?? error.message}.`)));
      server.listen(path, () => resolve());
    });
    return new StatusServer(server, path);
  }

  close(): void {
    this.server.close();
    rmSync(this.path, { force: true });
  }
}

/** The status document of the speaker at `path`; rejects when none answers there. */
export function queryStatus(path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let text = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${QUERY_TIMEOUT_MS / 1000} s`)), QUERY_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(error.code === 'ENOENT' ? `no vipkit run is listening on ${path}` : error.code === 'ECONNREFUSED' ? `nothing answers on ${path} (a speaker that died left it)` : `${path}: ${error.message}`));
    });
    socket.once('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error(`what answered on ${path} is not a vipkit status`));
      }
    });
  });
}
