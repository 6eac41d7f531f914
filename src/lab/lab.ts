/**
 * Throwaway network-namespace labs for tests, benchmarks and `vipkit demo`.
 *
 * Topology: one namespace holding a Linux bridge (named after the lab), and per host a
 * namespace `<lab>-<host>` joined to the bridge by a veth pair whose host end is `eth0`.
 * The veth pair is created inside the bridge namespace with its peer moved straight into
 * the host's, so nothing ever appears in the caller's namespace. Every lab has a random
 * id, so concurrent runs never collide, and is torn down even when the process is
 * interrupted or dies.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCUMENTATION_PREFIXES, isDocumentationPrefix } from './documentation-prefixes.js';

export interface HostSpec {
  /** Letters, digits and dashes, e.g. `router`, `node1`. */
  name: string;
  /** CIDR, IPv4 or IPv6, from the documentation ranges only, e.g. `192.0.2.11/24`. */
  addresses: string[];
  mac?: string;
}

export interface LabSpec {
  hosts: HostSpec[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

const BRIDGE = 'br0';
const HOST_INTERFACE = 'eth0';
const IP_TIMEOUT_MS = 10_000;
const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
const CHILD_EXIT_TIMEOUT_MS = 2_000;

/**
 * Set before eth0 arrives, so it inherits them: no duplicate-address detection (addresses
 * are usable at once, and tests of duplicates see real conflicts, not `dadfailed`), no
 * router solicitations or RA processing (nothing but the test's own frames on the wire).
 */
const HOST_SYSCTLS = [
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.default.router_solicitations=0',
  'net.ipv6.conf.default.accept_ra=0',
];
/** The bridge forwards IPv6 without having any; its own link-local traffic would be noise. */
const BRIDGE_SYSCTLS = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];

function ip(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', argv, { timeout: IP_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`ip ${argv.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

function validate(spec: LabSpec): void {
  const names = new Set<string>();
  for (const host of spec.hosts) {
    if (!/^[a-z0-9][a-z0-9-]{0,31}$/i.test(host.name)) {
      throw new Error(`lab host name "${host.name}" must be 1-32 letters, digits or dashes`);
    }
    if (names.has(host.name)) throw new Error(`lab host name "${host.name}" is used twice`);
    names.add(host.name);
    for (const cidr of host.addresses) assertDocumentationPrefix(cidr);
    if (host.mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(host.mac)) {
      throw new Error(`lab host ${host.name}: "${host.mac}" is not a MAC address like 02:00:00:00:00:11`);
    }
  }
}

function assertDocumentationPrefix(cidr: string): void {
  if (!isDocumentationPrefix(cidr)) {
    throw new Error(`lab address ${cidr} refused: labs use only CIDRs inside ${DOCUMENTATION_PREFIXES}`);
  }
}

function addressArgs(namespace: string, action: 'add' | 'del', cidr: string): string[] {
  const argv = ['-n', namespace, 'address', action, cidr, 'dev', HOST_INTERFACE];
  return cidr.includes(':') && action === 'add' ? [...argv, 'nodad'] : argv;
}

/** Labs not yet destroyed, removed synchronously if the process exits first. */
const alive = new Set<Lab>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const lab of alive) lab.destroySync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      // Another listener owns shutdown (e.g. a command stopping gracefully, which will
      // destroy its lab itself); the 'exit' hook still removes whatever is left.
      if (process.listenerCount(signal) > 1) return;
      for (const lab of alive) lab.destroySync();
      // Listening replaced the default action; restore it and die of the same signal.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function pidsIn(output: string): number[] {
  return output
    .split('\n')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export class Lab {
  readonly interfaceName = HOST_INTERFACE;
  /** Namespaces this lab may have created, in creation order. */
  private readonly namespaces: string[] = [];
  private readonly macs = new Map<string, string>();
  private readonly children = new Set<ChildProcess>();
  /** What the lab's daemons keep on disk (keys, configs, sockets): removed with the lab. */
  private readonly folders: string[] = [];
  private destroying: Promise<void> | undefined;

  private constructor(
    /** Random, e.g. `vk3f9a1c`; also the bridge namespace's name. */
    readonly id: string,
    private readonly spec: LabSpec,
  ) {}

  /** Builds the lab; refuses non-documentation addresses; a failed build removes what it made. */
  static async create(spec: LabSpec): Promise<Lab> {
    validate(spec);
    const lab = new Lab(`vk${randomBytes(3).toString('hex')}`, spec);
    alive.add(lab);
    installExitHooks();
    try {
      await lab.build();
    } catch (error) {
      await lab.destroy();
      throw new Error(`building lab ${lab.id} failed: ${(error as Error).message}`, { cause: error });
    }
    return lab;
  }

  private async build(): Promise<void> {
    await this.addNamespace(this.id, BRIDGE_SYSCTLS);
    // Snooping off: without an MLD querier it would starve IPv6 multicast (NDP) at random.
    await ip(['-n', this.id, 'link', 'add', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(['-n', this.id, 'link', 'set', BRIDGE, 'up']);
    // allSettled: no host may still be building while a failure tears the lab down.
    const results = await Promise.allSettled(this.spec.hosts.map((host, index) => this.addHost(host, index)));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  }

  private async addNamespace(namespace: string, sysctls: string[]): Promise<void> {
    this.namespaces.push(namespace);
    await ip(['netns', 'add', namespace]);
    await ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
    await ip(['netns', 'exec', namespace, 'sysctl', '-q', '-w', ...sysctls]);
  }

  private async addHost(host: HostSpec, index: number): Promise<void> {
    const namespace = this.namespaceName(host.name);
    await this.addNamespace(namespace, HOST_SYSCTLS);
    const bridgePort = `v${index}`;
    const peer = ['peer', 'name', HOST_INTERFACE, ...(host.mac ? ['address', host.mac] : []), 'netns', namespace];
    await ip(['-n', this.id, 'link', 'add', bridgePort, 'type', 'veth', ...peer]);
    await ip(['-n', this.id, 'link', 'set', bridgePort, 'master', BRIDGE, 'up']);
    for (const cidr of host.addresses) await ip(addressArgs(namespace, 'add', cidr));
    await ip(['-n', namespace, 'link', 'set', HOST_INTERFACE, 'up']);
    const [link] = JSON.parse(await ip(['-n', namespace, '-j', 'link', 'show', HOST_INTERFACE])) as { address: string }[];
    this.macs.set(host.name, link!.address);
  }

  private namespaceName(host: string): string {
    return `${this.id}-${host}`;
  }

  private host(host: string): string {
    if (!this.spec.hosts.some((candidate) => candidate.name === host)) {
      throw new Error(`lab ${this.id} has no host named ${host}`);
    }
    return this.namespaceName(host);
  }

  /** The network namespace of `host`, for `ip netns exec` or `ip -n`. */
  namespace(host: string): string {
    return this.host(host);
  }

  /** MAC of `host`'s eth0, lower-case colon form. */
  mac(host: string): string {
    this.host(host);
    return this.macs.get(host)!;
  }

  /**
   * Runs `argv` inside `host`'s namespace and resolves with its output and exit code
   * (non-zero codes resolve too). Rejects if it runs longer than `timeoutMs` (default 30 s).
   */
  exec(host: string, argv: string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const timeout = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const namespace = this.host(host);
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', namespace, ...argv], { timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error === null) return resolve({ stdout, stderr, code: 0 });
        if (error.killed) return reject(new Error(`${argv.join(' ')} in ${host} timed out after ${timeout} ms`));
        if (typeof error.code !== 'number') return reject(error);
        resolve({ stdout, stderr, code: error.code });
      });
    });
  }

  /** Starts `argv` inside `host`'s namespace; destroy() kills it if it is still running. */
  spawn(host: string, argv: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.host(host), ...argv], options);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async addAddress(host: string, cidr: string): Promise<void> {
    assertDocumentationPrefix(cidr);
    await ip(addressArgs(this.host(host), 'add', cidr));
  }

  async removeAddress(host: string, cidr: string): Promise<void> {
    await ip(addressArgs(this.host(host), 'del', cidr));
  }

  /** Idempotent: kills every process in the lab's namespaces, then deletes them. */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    alive.delete(this);
    await Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(resolve, CHILD_EXIT_TIMEOUT_MS);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGKILL');
          }),
      ),
    );
    const failures: string[] = [];
    for (const namespace of this.existingNamespaces()) {
      try {
        // Daemons (bird, gobgpd) may have left their parent; they would keep the namespace alive.
        for (const pid of pidsIn(await ip(['netns', 'pids', namespace]))) killPid(pid);
        await ip(['netns', 'del', namespace]);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    this.removeFolders();
    if (failures.length > 0) throw new Error(`removing lab ${this.id} failed: ${failures.join('; ')}`);
  }

  /** For the process 'exit' hook, where nothing asynchronous runs any more. */
  destroySync(): void {
    alive.delete(this);
    this.destroying ??= Promise.resolve();
    for (const child of this.children) child.kill('SIGKILL');
    for (const namespace of this.existingNamespaces()) {
      try {
        for (const pid of pidsIn(execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }))) killPid(pid);
        execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
      } catch {
        // Best effort while the process is going away.
      }
    }
    this.removeFolders();
  }

  /** A new private folder in the temporary directory, removed with the lab, also when the process dies of SIGINT or SIGTERM. */
  temporaryFolder(prefix: string): string {
    const folder = mkdtempSync(join(tmpdir(), prefix));
    this.folders.push(folder);
    return folder;
  }

  private removeFolders(): void {
    for (const folder of this.folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  }

  private existingNamespaces(): string[] {
    return this.namespaces.filter((namespace) => existsSync(`/run/netns/${namespace}`));
  }
}

/** Runs `body` with a fresh lab and always destroys it, whether `body` resolves or throws. */
export async function withLab<T>(spec: LabSpec, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.create(spec);
  try {
    return await body(lab);
  } finally {
    await lab.destroy();
  }
}
