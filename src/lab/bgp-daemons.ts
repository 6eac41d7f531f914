/**
 * Real BGP peers for labs: BIRD 2 and GoBGP, each started inside a lab host's namespace
 * with a configuration written to a private folder, driven through its own CLI (`birdc`,
 * `gobgp`), and stopped with the lab (Lab.destroy kills every process in it).
 */
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.js';

const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 100;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${what} within ${timeoutMs / 1000} s`);
}

export class Bird {
  private constructor(
    private readonly lab: Lab,
    readonly host: string,
    private readonly folder: string,
  ) {}

  /** Starts `bird` in `host` with `config` (BIRD 2 syntax) and waits until birdc answers. */
  static async start(lab: Lab, host: string, config: string): Promise<Bird> {
    const folder = lab.temporaryFolder('vipkit-bird-');
    writeFileSync(join(folder, 'bird.conf'), config);
    const bird = new Bird(lab, host, folder);
    const started = await lab.exec(host, ['bird', '-c', join(folder, 'bird.conf'), '-s', bird.socket, '-P', join(folder, 'bird.pid')]);
    if (started.code !== 0) throw new Error(`bird did not start in ${host}: ${started.stderr.trim()}`);
    await until('birdc did not answer', async () => (await lab.exec(host, ['birdc', '-s', bird.socket, 'show', 'status'])).stdout.includes('Daemon is up'));
    return bird;
  }

  private get socket(): string {
    return join(this.folder, 'bird.ctl');
  }

  /** `birdc` with these words; its output. */
  async birdc(...words: string[]): Promise<string> {
    const result = await this.lab.exec(this.host, ['birdc', '-s', this.socket, ...words]);
    if (result.code !== 0) throw new Error(`birdc ${words.join(' ')}: ${result.stderr.trim() || result.stdout.trim()}`);
    return result.stdout;
  }

  /** Waits until `birdc show protocols` has a BGP protocol in state Established. */
  async waitEstablished(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    await until('no BIRD BGP session reached Established', async () => /\bEstablished\b/.test(await this.birdc('show', 'protocols')), timeoutMs);
  }

  /** Routes BIRD holds in all its tables (`show route count`). */
  async routeCount(): Promise<number> {
    const match = /(\d+) of \d+ routes/.exec(await this.birdc('show', 'route', 'count'));
    return match ? Number(match[1]) : 0;
  }
}

/**
 * BIRD accepting any BGP speaker on a subnet (DESIGN.md's recipe), importing everything;
 * `exports` are static routes BIRD announces to the speakers, tagged by `exportFilter`.
 */
export function birdAcceptingSpeakers(options: {
  routerId: string;
  localAs: number;
  accept: string;
  families?: ('ipv4' | 'ipv6')[];
  exports?: { ipv4?: string[]; ipv6?: string[] };
  exportFilter?: string;
  ipv6NextHop?: string;
  /** A file BIRD logs the speakers' state changes, messages and routes to. */
  trace?: string;
  extra?: string;
}): string {
  const families = options.families ?? ['ipv4', 'ipv6'];
  const exports = options.exports ?? {};
  const statics = families
    .filter((family) => (exports[family] ?? []).length > 0)
    .map((family) => `protocol static static_${family} { ${family}; ${exports[family]!.map((prefix) => `route ${prefix} blackhole;`).join(' ')} }`);
  const exportClause = options.exportFilter ? `export filter { ${options.exportFilter} accept; }` : 'export all';
  const channel = (family: 'ipv4' | 'ipv6') =>
    `${family} { import all; ${exportClause}; ${family === 'ipv6' && options.ipv6NextHop ? `next hop address ${options.ipv6NextHop};` : ''} };`;
  const trace = options.trace === undefined ? '' : 'debug { states, routes, packets };';
  return [
    ...(options.trace === undefined ? [] : [`log "${options.trace}" all;`]),
    `router id ${options.routerId};`,
    'protocol device {}',
    ...statics,
    `template bgp speaker_template { local ${options.routerId} as ${options.localAs}; neighbor range ${options.accept} external; dynamic name "speaker"; graceful restart on; ${trace} ${families.map(channel).join(' ')} }`,
    'protocol bgp speakers from speaker_template {}',
    options.extra ?? '',
  ].join('\n');
}

export class Gobgp {
  private constructor(
    private readonly lab: Lab,
    readonly host: string,
    private readonly apiPort: number,
    private readonly folder: string,
  ) {}

  /** Starts `gobgpd` in `host` with a TOML `config`; its API listens on that namespace's loopback. */
  static async start(lab: Lab, host: string, config: string, apiPort = 50051): Promise<Gobgp> {
    const folder = lab.temporaryFolder('vipkit-gobgp-');
    writeFileSync(join(folder, 'gobgpd.toml'), config);
    // Its log (stderr) is the only place GoBGP tells why a session went down, e.g. a Cease's message.
    const log = openSync(join(folder, 'gobgpd.log'), 'a');
    lab.spawn(host, ['gobgpd', '-f', join(folder, 'gobgpd.toml'), '--api-hosts', `127.0.0.1:${apiPort}`], { stdio: ['ignore', log, log] });
    closeSync(log);
    const gobgp = new Gobgp(lab, host, apiPort, folder);
    await until('gobgpd did not answer', async () => (await lab.exec(host, ['gobgp', '-u', '127.0.0.1', '-p', String(apiPort), 'global'])).code === 0);
    return gobgp;
  }

  async cli(...words: string[]): Promise<string> {
    const result = await this.lab.exec(this.host, ['gobgp', '-u', '127.0.0.1', '-p', String(this.apiPort), ...words]);
    if (result.code !== 0) throw new Error(`gobgp ${words.join(' ')}: ${result.stderr.trim() || result.stdout.trim()}`);
    return result.stdout;
  }

  /** `gobgp -j ...`, parsed. */
  async json(...words: string[]): Promise<unknown> {
    return JSON.parse(await this.cli('-j', ...words)) as unknown;
  }

  /** What gobgpd has logged so far. */
  log(): string {
    return readFileSync(join(this.folder, 'gobgpd.log'), 'utf8');
  }

  async waitEstablished(neighbor: string, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    await until(`GoBGP's session with ${neighbor} did not reach Established`, async () => {
      const state = (await this.json('neighbor', neighbor)) as { state?: { session_state?: number | string } };
      return state.state?.session_state === 6 || state.state?.session_state === 'established';
    }, timeoutMs);
  }
}

/** A gobgpd configuration with one neighbour per entry, IPv4 and IPv6 unicast. */
export function gobgpConfig(options: { as: number; routerId: string; localAddresses: string[]; neighbors: { address: string; peerAs: number; passive?: boolean }[] }): string {
  const neighbors = options.neighbors.map(
    (neighbor) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${neighbor.address}"
    peer-as = ${neighbor.peerAs}
  [neighbors.transport.config]
    passive-mode = ${neighbor.passive ?? false}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"`,
  );
  // gobgpd listens on exactly these addresses.
  const listen = options.localAddresses.map((address) => `"${address}"`).join(', ');
  return [`[global.config]\n  as = ${options.as}\n  router-id = "${options.routerId}"\n  local-address-list = [${listen}]`, ...neighbors].join('\n') + '\n';
}
