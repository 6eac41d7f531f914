/**
 * Where the API server is and how to prove who we are: from the service account a pod
 * is given (in-cluster), or from a kubeconfig file (a bearer token or a client
 * certificate, the cluster's CA). Only what vipkit's client can honour is accepted; the
 * rest (exec plugins, auth providers, skipping TLS verification) is refused in one
 * sentence rather than half-used.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { UserError } from '../user-error.js';

export class ClusterAccessError extends UserError {}

export interface ClusterAccess {
  /** https://host:port (http:// for `kubectl proxy`), no trailing slash. */
  server: string;
  /** PEM of the CAs that sign the server's certificate; absent: the system's CAs. */
  ca?: string;
  /** The name the server's certificate must carry, when not the server URL's host. */
  tlsServerName?: string;
  token?: string;
  /** Read again before each use, at most once a minute: kubelets rotate projected tokens. */
  tokenFile?: string;
  clientCertificate?: string;
  clientKey?: string;
  /** The namespace of the pod, or of the kubeconfig context. */
  namespace?: string;
}

export const SERVICE_ACCOUNT_FOLDER = '/var/run/secrets/kubernetes.io/serviceaccount';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ClusterAccessError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function hostPort(host: string, port: string): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * The pod's service account, as client-go's rest.InClusterConfig reads it: the
 * KUBERNETES_SERVICE_HOST/PORT variables and the token, CA and namespace files.
 */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, folder = SERVICE_ACCOUNT_FOLDER): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new ClusterAccessError('not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; pass --kubeconfig instead.');
  }
  const tokenFile = `${folder}/token`;
  readText(tokenFile, 'the service account token');
  let namespace: string | undefined;
  try {
    namespace = readFileSync(`${folder}/namespace`, 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return {
    server: `https://${hostPort(host, port)}`,
    ca: readText(`${folder}/ca.crt`, "the service account's CA"),
    tokenFile,
    ...(namespace === undefined ? {} : { namespace }),
  };
}

type Entry = Record<string, unknown>;

function named(list: unknown, name: string, kind: string, path: string): Entry {
  const found = Array.isArray(list) ? list.find((item) => (item as Entry | null)?.name === name) : undefined;
  const body = (found as Entry | undefined)?.[kind];
  if (typeof body !== 'object' || body === null) throw new ClusterAccessError(`kubeconfig ${path} has no ${kind} named "${name}".`);
  return body as Entry;
}

function optionalString(entry: Entry, key: string, path: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ClusterAccessError(`kubeconfig ${path}: ${key} must be a string.`);
  return value;
}

/** Inline base64 data, or the file a path names (relative to the kubeconfig's folder). */
function dataOrFile(entry: Entry, key: string, path: string): string | undefined {
  const data = optionalString(entry, `${key}-data`, path);
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  const file = optionalString(entry, key, path);
  return file === undefined ? undefined : readText(relativeTo(path, file), `the ${key} of kubeconfig ${path}`);
}

function relativeTo(kubeconfig: string, file: string): string {
  return isAbsolute(file) ? file : resolve(dirname(kubeconfig), file);
}

/** The cluster, user and namespace of `context` (default: current-context) in the kubeconfig at `path`. */
export function kubeconfigAccess(path: string, context?: string): ClusterAccess {
  let config: Entry;
  try {
    const parsed: unknown = parse(readText(path, 'kubeconfig'));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('it is not a YAML mapping');
    config = parsed as Entry;
  } catch (error) {
    if (error instanceof ClusterAccessError) throw error;
    throw new ClusterAccessError(`kubeconfig ${path} does not read: ${(error as Error).message}`);
  }
  const contextName = context ?? optionalString(config, 'current-context', path);
  if (contextName === undefined) throw new ClusterAccessError(`kubeconfig ${path} has no current-context; name a context.`);
  const chosen = named(config.contexts, contextName, 'context', path);
  const cluster = named(config.clusters, String(chosen.cluster), 'cluster', path);
  const user = chosen.user === undefined ? {} : named(config.users, String(chosen.user), 'user', path);
  const server = optionalString(cluster, 'server', path);
  if (server === undefined || !/^https?:\/\//.test(server)) {
    throw new ClusterAccessError(`kubeconfig ${path}: cluster "${String(chosen.cluster)}" needs a server URL (https://host:port).`);
  }
  if (cluster['insecure-skip-tls-verify'] === true) {
    throw new ClusterAccessError(`kubeconfig ${path}: cluster "${String(chosen.cluster)}" skips TLS verification, which vipkit refuses; give it certificate-authority(-data).`);
  }
  for (const unsupported of ['exec', 'auth-provider', 'username']) {
    if (user[unsupported] !== undefined) {
      throw new ClusterAccessError(`kubeconfig ${path}: user "${String(chosen.user)}" authenticates with ${unsupported}, which vipkit cannot; use a token or a client certificate.`);
    }
  }
  const tokenFile = optionalString(user, 'tokenFile', path);
  const access: ClusterAccess = { server: server.replace(/\/+$/, '') };
  const ca = dataOrFile(cluster, 'certificate-authority', path);
  const tlsServerName = optionalString(cluster, 'tls-server-name', path);
  const token = optionalString(user, 'token', path);
  const clientCertificate = dataOrFile(user, 'client-certificate', path);
  const clientKey = dataOrFile(user, 'client-key', path);
  const namespace = optionalString(chosen, 'namespace', path);
  if ((clientCertificate === undefined) !== (clientKey === undefined)) {
    throw new ClusterAccessError(`kubeconfig ${path}: user "${String(chosen.user)}" needs both client-certificate and client-key, or neither.`);
  }
  return {
    ...access,
    ...(ca === undefined ? {} : { ca }),
    ...(tlsServerName === undefined ? {} : { tlsServerName }),
    ...(token === undefined ? {} : { token }),
    ...(tokenFile === undefined || token !== undefined ? {} : { tokenFile: relativeTo(path, tokenFile) }),
    ...(clientCertificate === undefined ? {} : { clientCertificate, clientKey }),
    ...(namespace === undefined ? {} : { namespace }),
  };
}
