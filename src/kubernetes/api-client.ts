/**
 * HTTP(S) to the Kubernetes API server: JSON requests with a bearer token or a client
 * certificate, checked against the cluster's CA, and watch streams handed over as they
 * arrive. Every request has a deadline and every body a size limit; errors carry the
 * HTTP status and the server's Status reason, so callers can tell 404, 409 and 410 apart.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import type { ClusterAccess } from './cluster-access.js';
import type { Status } from './api-objects.js';

export class KubernetesApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    /** The HTTP status; 0 when no answer came (refused, reset, timed out). */
    readonly status: number,
    /** What went wrong, without the request. */
    readonly answer: string,
    /** meta/v1 Status reason, e.g. NotFound, AlreadyExists, Conflict, Expired, Gone. */
    readonly reason?: string,
    options?: ErrorOptions,
  ) {
    super(`${method} ${path}: ${answer}`, options);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Default application/json; merge and strategic patches need theirs. */
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ClientOptions {
  /** Whole request, answer included. Default 30 s. */
  requestTimeoutMs?: number;
  /** Largest answer body read. Default 64 MiB (a list page of 500 big objects fits). */
  maxResponseBytes?: number;
  userAgent?: string;
  /** Where watches are read, when not in this thread (WatchThread: a worker thread). */
  watches?: WatchOpener;
}

/** Opens watches as KubernetesClient.openStream does, elsewhere. */
export interface WatchOpener {
  open(path: string, query: Query, idleMs: number, signal?: AbortSignal): Promise<Readable>;
  close(): Promise<void>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const TOKEN_FILE_REREAD_MS = 60_000;
const ERROR_BODY_LIMIT = 64 * 1024;

export function withQuery(path: string, query: Query = {}): string {
  const parameters = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) parameters.set(key, String(value));
  const text = parameters.toString();
  return text === '' ? path : `${path}?${text}`;
}

export class KubernetesClient {
  private readonly base: URL;
  /** Requests: a few kept-alive connections, so that a burst of writes queues rather than floods. */
  private readonly agent: HttpAgent;
  /**
   * Watches hold a connection each for minutes: their own, unlimited, so that a watch
   * reopened after the server ended it never queues behind the requests' connections.
   */
  private readonly watchAgent: HttpAgent;
  private readonly watches?: WatchOpener;
  private readonly requestTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private tokenRead: { token: string; at: number } | undefined;

  constructor(
    readonly access: ClusterAccess,
    options: ClientOptions = {},
  ) {
    this.base = new URL(access.server);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') throw new Error(`API server URL ${access.server} is not http(s)`);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.userAgent = options.userAgent ?? 'vipkit';
    const agent = (options: { keepAlive: boolean; maxSockets?: number }) =>
      this.base.protocol === 'https:'
        ? new HttpsAgent({
            ...options,
            ...(access.ca === undefined ? {} : { ca: access.ca }),
            ...(access.tlsServerName === undefined ? {} : { servername: access.tlsServerName }),
            ...(access.clientCertificate === undefined ? {} : { cert: access.clientCertificate, key: access.clientKey }),
          })
        : new HttpAgent(options);
    this.agent = agent({ keepAlive: true, maxSockets: 16 });
    this.watchAgent = agent({ keepAlive: false });
    if (options.watches !== undefined) this.watches = options.watches;
  }

  /** Ends every connection, in flight too: for when the watches have stopped and nothing else is asked. */
  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
    void this.watches?.close();
  }

  private token(): string | undefined {
    if (this.access.token !== undefined) return this.access.token;
    if (this.access.tokenFile === undefined) return undefined;
    const now = Date.now();
    if (this.tokenRead === undefined || now - this.tokenRead.at >= TOKEN_FILE_REREAD_MS) {
      this.tokenRead = { token: readFileSync(this.access.tokenFile, 'utf8').trim(), at: now };
    }
    return this.tokenRead.token;
  }

  private headers(extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const token = this.token();
    return { accept: 'application/json', 'user-agent': this.userAgent, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...extra };
  }

  /** Sends a request and resolves with the response once its headers arrived, within `timeoutMs`. */
  private send(method: string, path: string, body: Buffer | undefined, contentType: string, signal: AbortSignal | undefined, timeoutMs: number, agent = this.agent): Promise<IncomingMessage> {
    const url = new URL(path, this.base);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let request: ReturnType<typeof httpRequest>;
      try {
        request = send(url, {
          method,
          agent,
          headers: this.headers(body === undefined ? {} : { 'content-type': contentType, 'content-length': body.length }),
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (error) {
        reject(new KubernetesApiError(method, path, 0, (error as Error).message, undefined, { cause: error }));
        return;
      }
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      request.once('response', (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      request.once('error', (error) => {
        clearTimeout(timer);
        reject(new KubernetesApiError(method, path, 0, error.message, undefined, { cause: error }));
      });
      request.end(body);
    });
  }

  /** The whole body, refused past `limit` bytes or after the deadline. */
  private readBody(response: IncomingMessage, method: string, path: string, limit: number, deadline: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const timer = setTimeout(() => response.destroy(new Error('the answer did not end in time')), Math.max(0, deadline - Date.now()));
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > limit) response.destroy(new Error(`the answer is larger than ${limit} bytes`));
        else chunks.push(chunk);
      });
      response.once('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
      response.once('error', (error) => {
        clearTimeout(timer);
        reject(new KubernetesApiError(method, path, response.statusCode ?? 0, error.message, undefined, { cause: error }));
      });
      response.once('aborted', () => response.destroy(new Error('the connection was closed mid-answer')));
    });
  }

  /** A non-2xx answer as an error, with the server's own words when it sent a Status. */
  private async failure(response: IncomingMessage, method: string, path: string, deadline: number): Promise<KubernetesApiError> {
    const status = response.statusCode ?? 0;
    let body: Buffer;
    try {
      body = await this.readBody(response, method, path, ERROR_BODY_LIMIT, deadline);
    } catch {
      body = Buffer.alloc(0);
    }
    let parsed: Status | undefined;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Status;
    } catch {
      parsed = undefined;
    }
    const message = parsed?.message ?? (body.toString('utf8').trim().slice(0, 200) || (response.statusMessage ?? 'no message'));
    return new KubernetesApiError(method, path, status, `${status} ${message}`, parsed?.reason);
  }

  /** A JSON request; resolves with the parsed answer, rejects with KubernetesApiError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const fullPath = withQuery(path, options.query);
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const response = await this.send(method, fullPath, body, options.contentType ?? 'application/json', options.signal, timeoutMs);
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) throw await this.failure(response, method, fullPath, deadline);
    const text = (await this.readBody(response, method, fullPath, this.maxResponseBytes, deadline)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new KubernetesApiError(method, fullPath, status, `the answer is not JSON: ${(error as Error).message}`, undefined, { cause: error });
    }
  }

  /**
   * Opens a watch (GET with watch=true): resolves with the streaming response once the
   * server accepted it (200), or rejects with the server's error (e.g. 410 Gone). The
   * caller reads the body and destroys it to stop; `idleMs` of silence destroys it too.
   */
  async openStream(path: string, query: Query, idleMs: number, signal?: AbortSignal): Promise<Readable> {
    if (this.watches !== undefined) return this.watches.open(path, query, idleMs, signal);
    const fullPath = withQuery(path, query);
    const response = await this.send('GET', fullPath, undefined, 'application/json', signal, this.requestTimeoutMs, this.watchAgent);
    const status = response.statusCode ?? 0;
    if (status !== 200) throw await this.failure(response, 'GET', fullPath, Date.now() + this.requestTimeoutMs);
    response.socket.setTimeout(idleMs, () => response.destroy(new Error(`the watch was silent for ${idleMs / 1000} s`)));
    response.once('close', () => response.socket?.setTimeout(0));
    return response;
  }
}
