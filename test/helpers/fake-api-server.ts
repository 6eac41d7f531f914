/**
 * A scripted HTTP server on 127.0.0.1 for unit tests of the Kubernetes client's own
 * handling (pages, watch streams cut anywhere, errors, broken connections). It says only
 * what each test tells it to; what a real API server accepts is tested in the lab.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { KubernetesClient, type ClientOptions } from '../../src/kubernetes/api-client.js';
import type { ClusterAccess } from '../../src/kubernetes/cluster-access.js';

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (request: SeenRequest, response: ServerResponse) => void;

export class FakeApiServer {
  readonly requests: SeenRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(handler: Handler): Promise<FakeApiServer> {
    let fake: FakeApiServer | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://fake');
        const seen = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
        fake!.requests.push(seen);
        for (const wake of fake!.waiters.splice(0)) wake();
        handler(seen, response);
      });
    });
    server.on('connection', (socket) => {
      fake!.sockets.add(socket);
      socket.once('close', () => fake!.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    fake = new FakeApiServer(server, `http://127.0.0.1:${address.port}`);
    return fake;
  }

  /** Waits until `count` requests arrived (or `timeoutMs` passed, which throws). */
  async waitForRequests(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the fake API server saw ${this.requests.length} requests, not ${count}, within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Requests that were watches, in order. */
  watches(): SeenRequest[] {
    return this.requests.filter((request) => request.query.get('watch') === 'true');
  }

  /** Requests that were lists (not watches) of `path`. */
  lists(path?: string): SeenRequest[] {
    return this.requests.filter((request) => request.method === 'GET' && request.query.get('watch') !== 'true' && (path === undefined || request.path === path));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A scripted server and a client of it — `access` completed with the server's URL, the
 * client's options made from that access — both closed after the test `t`, also when it fails.
 */
export async function serveForTest(
  t: TestContext,
  handler: Handler,
  access: Omit<ClusterAccess, 'server'> = {},
  optionsFor: (access: ClusterAccess) => ClientOptions = () => ({}),
): Promise<{ server: FakeApiServer; client: KubernetesClient }> {
  const server = await FakeApiServer.start(handler);
  const served = { ...access, server: server.url };
  const client = new KubernetesClient(served, optionsFor(served));
  t.after(async () => {
    client.close();
    await server.close();
  });
  return { server, client };
}

/** A JSON answer. */
export function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** A meta/v1 Status failure, as the API server sends one. */
export function status(response: ServerResponse, code: number, reason: string, message: string): void {
  json(response, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });
}

/** Starts a chunked watch answer; the caller writes event lines and ends (or destroys) it. */
export function startWatch(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  response.flushHeaders();
}

export function eventLine(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}
