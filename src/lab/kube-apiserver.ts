/**
 * A real Kubernetes API server (1.20, built by scripts/setup.sh from Debian's source) and
 * its etcd, inside a lab host's namespace: the API server binds one of that host's lab
 * addresses, so speakers reach it over the lab segment and nothing listens outside. Its
 * keys, certificates, token file and data live in a private folder that stop() removes;
 * a failed start stops what it started.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDocumentationPrefix } from './documentation-prefixes.js';
import type { ExecResult, Lab } from './lab.js';

export const KUBERNETES_VERSION = '1.20.2';
/** Where scripts/setup.sh caches kube-apiserver and kubectl; VIPKIT_KUBERNETES_BIN overrides it. */
export const KUBERNETES_BIN = process.env.VIPKIT_KUBERNETES_BIN ?? `/var/cache/vipkit/kubernetes-${KUBERNETES_VERSION}`;
export const SERVICE_CLUSTER_IP_RANGE = '198.18.0.0/16';
export const SERVICE_NODE_PORT_RANGE = '30000-39999';
const SECURE_PORT = 6443;
const ETCD_CLIENT_URL = 'http://127.0.0.1:2379';
const ETCD_PEER_URL = 'http://127.0.0.1:2380';
const READY_TIMEOUT_MS = 90_000;
const POLL_MS = 250;
const STOP_TIMEOUT_MS = 5_000;

/** What a client needs: the server URL, a bearer token, the CA, and a client certificate (group system:masters). */
export interface KubeApiServerAccess {
  server: string;
  token: string;
  ca: string;
  clientCertificate: string;
  clientKey: string;
}

export interface KubeApiServerOptions {
  /** The lab host whose namespace runs etcd and the API server. */
  host: string;
  /** One of the host's lab addresses, without prefix length, e.g. 192.0.2.2. */
  address: string;
  /** More kube-apiserver flags, e.g. --watch-cache=false. */
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

/** Why the lab cannot run an API server here (the binaries or etcd are missing), or undefined. */
export function kubeApiServerUnavailableReason(): string | undefined {
  for (const binary of ['kube-apiserver', 'kubectl']) {
    if (!existsSync(join(KUBERNETES_BIN, binary))) return `needs ${join(KUBERNETES_BIN, binary)} (built by scripts/setup.sh)`;
  }
  if (!['/usr/bin/etcd', '/usr/local/bin/etcd'].some((path) => existsSync(path))) return 'needs etcd (Debian package etcd-server, installed by scripts/setup.sh)';
  return undefined;
}

function run(lab: Lab, host: string, argv: string[], what: string): Promise<ExecResult> {
  return lab.exec(host, argv).then((result) => {
    if (result.code !== 0) throw new Error(`${what}: ${result.stderr.trim() || result.stdout.trim()}`);
    return result;
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM (the API server shuts down gracefully), SIGKILL when that takes too long. */
async function terminate(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || exited(child)) return;
  child.kill('SIGTERM');
  if (await exit(child, STOP_TIMEOUT_MS)) return;
  child.kill('SIGKILL');
  if (!(await exit(child, STOP_TIMEOUT_MS))) throw new Error(`process ${child.pid} did not die`);
}

export class KubeApiServer {
  private etcd: ChildProcess | undefined;
  private apiServer: ChildProcess | undefined;
  private ca: string | undefined;

  private constructor(
    private readonly lab: Lab,
    private readonly options: KubeApiServerOptions,
    /** The private folder: keys, certificates, tokens, etcd's data, logs, kubeconfigs. */
    readonly folder: string,
    readonly token: string,
  ) {}

  /** Starts etcd and the API server in `options.host` and waits until /readyz answers ok. */
  static async start(lab: Lab, options: KubeApiServerOptions): Promise<KubeApiServer> {
    const unavailable = kubeApiServerUnavailableReason();
    if (unavailable !== undefined) throw new Error(`no Kubernetes API server for the lab: it ${unavailable}`);
    if (!isDocumentationPrefix(`${options.address}/${options.address.includes(':') ? 128 : 32}`)) {
      throw new Error(`the lab API server's address ${options.address} must be a documentation address`);
    }
    const server = new KubeApiServer(lab, options, lab.temporaryFolder('vipkit-kube-apiserver-'), randomBytes(24).toString('hex'));
    try {
      await server.prepare();
      server.startEtcd();
      await server.startApiServer();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  private file(name: string): string {
    return join(this.folder, name);
  }

  get server(): string {
    const host = this.options.address.includes(':') ? `[${this.options.address}]` : this.options.address;
    return `https://${host}:${SECURE_PORT}`;
  }

  get access(): KubeApiServerAccess {
    if (this.ca === undefined) throw new Error('the lab API server has not started');
    return {
      server: this.server,
      token: this.token,
      ca: this.ca,
      clientCertificate: readFileSync(this.file('client.crt'), 'utf8'),
      clientKey: readFileSync(this.file('client.key'), 'utf8'),
    };
  }

  /** A kubeconfig file for this server: with the bearer token, or with the client certificate. */
  get kubeconfig(): string {
    return this.file('kubeconfig');
  }

  get certificateKubeconfig(): string {
    return this.file('kubeconfig-certificate');
  }

  /** Service account keys (node:crypto), the token file, and a client CA and certificate (openssl). */
  private async prepare(): Promise<void> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    writeFileSync(this.file('sa.pub'), publicKey);
    writeFileSync(this.file('sa.key'), privateKey, { mode: 0o600 });
    writeFileSync(this.file('tokens.csv'), `${this.token},vipkit-lab,vipkit-lab,"system:masters"\n`, { mode: 0o600 });
    const host = this.options.host;
    await run(this.lab, host, ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=vipkit-lab-client-ca', '-keyout', this.file('client-ca.key'), '-out', this.file('client-ca.crt')], 'making the client CA');
    await run(this.lab, host, ['openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/O=system:masters/CN=vipkit-lab-certificate', '-keyout', this.file('client.key'), '-out', this.file('client.csr')], 'making the client key');
    await run(this.lab, host, ['openssl', 'x509', '-req', '-in', this.file('client.csr'), '-CA', this.file('client-ca.crt'), '-CAkey', this.file('client-ca.key'), '-CAcreateserial', '-days', '2', '-out', this.file('client.crt')], 'signing the client certificate');
  }

  private startEtcd(): void {
    const log = openSync(this.file('etcd.log'), 'a');
    this.etcd = this.lab.spawn(
      this.options.host,
      [
        'etcd',
        '--name=lab',
        `--data-dir=${this.file('etcd')}`,
        `--listen-client-urls=${ETCD_CLIENT_URL}`,
        `--advertise-client-urls=${ETCD_CLIENT_URL}`,
        `--listen-peer-urls=${ETCD_PEER_URL}`,
        `--initial-advertise-peer-urls=${ETCD_PEER_URL}`,
        `--initial-cluster=lab=${ETCD_PEER_URL}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
  }

  /** Starts (or starts again, after stopApiServer) the API server and waits for /readyz. */
  async startApiServer(): Promise<void> {
    if (this.apiServer !== undefined && !exited(this.apiServer)) throw new Error('the lab API server is already running');
    const log = openSync(this.file('kube-apiserver.log'), 'a');
    const child = this.lab.spawn(
      this.options.host,
      [
        join(KUBERNETES_BIN, 'kube-apiserver'),
        `--etcd-servers=${ETCD_CLIENT_URL}`,
        `--bind-address=${this.options.address}`,
        `--secure-port=${SECURE_PORT}`,
        '--insecure-port=0',
        `--cert-dir=${this.file('certificates')}`,
        `--token-auth-file=${this.file('tokens.csv')}`,
        `--client-ca-file=${this.file('client-ca.crt')}`,
        // Without anonymous requests, every client proves the token or certificate it was given.
        '--anonymous-auth=false',
        '--authorization-mode=AlwaysAllow',
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        `--service-node-port-range=${SERVICE_NODE_PORT_RANGE}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${this.file('sa.pub')}`,
        `--service-account-signing-key-file=${this.file('sa.key')}`,
        ...(this.options.extraArgs ?? []),
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.apiServer = child;
    await this.waitReady(child);
  }

  /** The self-signed certificate it writes to --cert-dir (leaf and CA), then /readyz = ok. */
  private async waitReady(child: ChildProcess): Promise<void> {
    const timeoutMs = this.options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const certificate = join(this.file('certificates'), 'apiserver.crt');
    while (Date.now() < deadline) {
      if (exited(child)) throw new Error(`kube-apiserver exited (${child.exitCode ?? child.signalCode}): ${this.logTail('kube-apiserver.log')}`);
      if (existsSync(certificate)) {
        this.ca = readFileSync(certificate, 'utf8');
        writeFileSync(this.file('ca.crt'), this.ca);
        this.writeKubeconfigs();
        const ready = await this.lab.exec(this.options.host, ['curl', '-s', '--max-time', '2', '--cacert', this.file('ca.crt'), '-H', `Authorization: Bearer ${this.token}`, `${this.server}/readyz`]);
        if (ready.stdout.trim() === 'ok') return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`kube-apiserver not ready within ${timeoutMs / 1000} s: ${this.logTail('kube-apiserver.log')}`);
  }

  private logTail(name: string): string {
    try {
      return readFileSync(this.file(name), 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      return 'no log';
    }
  }

  private writeKubeconfigs(): void {
    const base = (user: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'lab',
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'lab', namespace: 'default' } }],
      clusters: [{ name: 'lab', cluster: { server: this.server, 'certificate-authority': this.file('ca.crt') } }],
      users: [{ name: 'lab', user }],
    });
    writeFileSync(this.kubeconfig, JSON.stringify(base({ token: this.token }), null, 2), { mode: 0o600 });
    writeFileSync(this.certificateKubeconfig, JSON.stringify(base({ 'client-certificate': this.file('client.crt'), 'client-key': this.file('client.key') }), null, 2), { mode: 0o600 });
  }

  /** kubectl (the one built with the API server) in `host`'s namespace, with the token kubeconfig. */
  kubectl(host: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.lab.exec(host, [join(KUBERNETES_BIN, 'kubectl'), `--kubeconfig=${this.kubeconfig}`, ...args], options);
  }

  /** `kubectl apply` of `manifest` (YAML or JSON); rejects with kubectl's words if it fails. */
  async apply(host: string, manifest: string, extraArgs: string[] = []): Promise<string> {
    const path = this.file(`manifest-${randomBytes(4).toString('hex')}.yaml`);
    writeFileSync(path, manifest);
    try {
      const result = await this.kubectl(host, ['apply', '-f', path, ...extraArgs]);
      if (result.code !== 0) throw new Error(`kubectl apply: ${result.stderr.trim()}`);
      return result.stdout;
    } finally {
      rmSync(path, { force: true });
    }
  }

  /** Stops the API server and leaves etcd (and so every object) as it is. */
  async stopApiServer(): Promise<void> {
    await terminate(this.apiServer);
  }

  /** etcd's current revision: the newest resourceVersion anything can have. */
  async etcdRevision(): Promise<number> {
    const result = await run(this.lab, this.options.host, ['curl', '-s', '--max-time', '5', '-X', 'POST', `${ETCD_CLIENT_URL}/v3/kv/range`, '-d', JSON.stringify({ key: Buffer.from('/').toString('base64') })], 'asking etcd its revision');
    return Number((JSON.parse(result.stdout) as { header: { revision: string } }).header.revision);
  }

  /** Compacts etcd up to `revision`: watches from older resourceVersions then get 410 Gone. */
  async compact(revision: number): Promise<void> {
    const result = await run(this.lab, this.options.host, ['curl', '-s', '--max-time', '5', '-X', 'POST', `${ETCD_CLIENT_URL}/v3/kv/compaction`, '-d', JSON.stringify({ revision: String(revision), physical: true })], 'compacting etcd');
    if (result.stdout.includes('"error"')) throw new Error(`compacting etcd: ${result.stdout.trim()}`);
  }

  /** Stops the API server and etcd and removes the folder. Safe to call again. */
  async stop(): Promise<void> {
    await terminate(this.apiServer);
    await terminate(this.etcd);
    rmSync(this.folder, { recursive: true, force: true });
  }
}
