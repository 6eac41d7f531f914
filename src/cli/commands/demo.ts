import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, UsageError } from '../errors.js';
import type { Ui } from '../ui.js';
import { Bird, birdAcceptingSpeakers } from '../../lab/bgp-daemons.js';
import { Lab, type LabSpec } from '../../lab/lab.js';
import { sleep } from '../../time.js';

const STEP_TIMEOUT_MS = 60_000;
const VIPKIT = fileURLToPath(new URL('../../../../bin/vipkit.js', import.meta.url));

/**
 * The demo lab: a client, three nodes and a BGP router on one bridge, documentation
 * addresses only. 192.0.2.100 is held by node2 and node3 at once — the duplicate a user
 * should find.
 */
export const DEMO_LAB: LabSpec = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24', '2001:db8:2::10/64'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'node2', addresses: ['192.0.2.12/24', '2001:db8:2::12/64', '192.0.2.100/24'] },
    { name: 'node3', addresses: ['192.0.2.13/24', '2001:db8:2::13/64', '192.0.2.100/24'] },
    { name: 'router', addresses: ['192.0.2.1/24', '2001:db8:2::1/64'] },
  ],
};

/** What a step shows, and the vipkit command that shows it. */
interface Step {
  title: string;
  argv: string[];
  /** Where the command runs (default: the client). */
  host?: string;
  /** Runs while the command does; what it returns is shown after the command's output. */
  during?(lab: Lab): Promise<string | void>;
}

const ARPING_STEPS: Step[] = [
  { title: 'Who answers for node1? (ARP, like iputils arping)', argv: ['arping', '-c', '2', '192.0.2.11'] },
  { title: 'The same over IPv6 (NDP neighbor solicitation)', argv: ['arping', '-c', '2', '2001:db8:2::11'] },
  { title: 'Who answers for the VIP 192.0.2.100?', argv: ['arping', '-c', '2', '192.0.2.100'] },
  { title: 'Sweep the /24: every host, and the duplicate', argv: ['arping', '192.0.2.0/24'] },
];

/** A MetalLB config with the kind of typo nobody is told about, and the same config fixed. */
const POOLS_CONFIG = `configInline:
  peers:
    - peer-address: 192.0.2.1
      peer-asn: 65002
      my-asn: 64800
  address-pools:
    - name: public
      protocol: bpg
      addresses:
        - 203.0.113.0/29
`;

const POOLS_SERVICES = ['web', 'web-tls', 'api', 'legacy']
  .map((name, index) => {
    const sharing = name.startsWith('web') ? '\n  annotations:\n    metallb.io/allow-shared-ip: web' : '';
    const requested = name === 'legacy' ? '\n  loadBalancerIP: 198.51.100.7' : '';
    return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: shop${sharing}\nspec:\n  type: LoadBalancer${requested}\n  ports:\n    - port: ${8080 + index}\n`;
  })
  .join('---\n');

/** pools sends nothing: it reads the files written into the step's working directory. */
const POOL_STEPS: Step[] = [
  { title: 'Check a MetalLB config: the typo MetalLB would ignore, and addresses some clients mishandle', argv: ['pools', 'check', 'metallb-values.yaml'] },
  { title: 'What would each service get? (two share an address, one asks for one outside every pool)', argv: ['pools', 'allocate', '--services', 'services.yaml', 'metallb-values-fixed.yaml'] },
];

/** A step whose command runs while something changes in the lab. */
const WATCH_STEP: Step = {
  title: 'Watch the VIP while it leaves node2 and node3 for node1, which announces it (--probe asks every 0.2 s)',
  argv: ['watch', '-I', 'eth0', '--probe', '0.2', '--for', '3', '192.0.2.100'],
  async during(lab: Lab): Promise<void> {
    await sleep(1000);
    await lab.removeAddress('node2', '192.0.2.100/24');
    await lab.removeAddress('node3', '192.0.2.100/24');
    await lab.addAddress('node1', '192.0.2.100/24');
    await lab.exec('node1', ['arping', '-q', '-U', '-c', '1', '-I', 'eth0', '192.0.2.100']);
  },
};

/** node1 answers ARP for a VIP it does not hold; iputils arping and the client's own kernel are the witnesses. */
const L2_ANNOUNCE_STEP: Step = {
  title: 'Announce 192.0.2.150 from node1 at Layer 2 for 3 seconds: vipkit answers ARP for it, the address is on no interface',
  host: 'node1',
  argv: ['announce', '--l2', '-I', 'eth0', '--for', '3', '192.0.2.150'],
  async during(lab: Lab): Promise<string> {
    // After the conflict probe (about 0.5 s) and the gratuitous burst.
    await sleep(1500);
    const arping = await lab.exec('client', ['arping', '-c', '2', '-I', 'eth0', '192.0.2.150']);
    // A datagram makes the client's kernel resolve the address into its neighbour table.
    await lab.exec('client', ['bash', '-c', 'echo > /dev/udp/192.0.2.150/9']);
    await sleep(200);
    const neighbour = await lab.exec('client', ['ip', 'neigh', 'show', '192.0.2.150']);
    return [
      `client$ arping -c 2 -I eth0 192.0.2.150   (iputils, while node1 announces)`,
      arping.stdout.trimEnd(),
      '',
      `client$ ip neigh show 192.0.2.150   (node1's MAC is ${lab.mac('node1')})`,
      neighbour.stdout.trimEnd(),
    ].join('\n');
  },
};

/** The same members and services for every speaker of the run step. */
const RUN_ARGS = ['--member', 'node1=192.0.2.11', '--member', 'node2=192.0.2.12', '--member', 'node3=192.0.2.13', '--pool', 'demo=192.0.2.160-192.0.2.169', '--service', 'demo/web=192.0.2.160', '--service', 'demo/api=192.0.2.161', '--service', 'demo/db=192.0.2.162'];
const RUN_VIPS = ['192.0.2.160', '192.0.2.161', '192.0.2.162'];

/**
 * vipkit run on all three nodes (node2's log is shown): each VIP answered by one node in
 * MetalLB's order; node3 is killed, and its VIPs move to the next node in their order.
 */
function runStep(scratch: string): Step {
  // The namespaces share one file system: each speaker its own status socket.
  const socket = (node: string) => join(scratch, `${node}.sock`);
  return {
    title: 'Run the cluster speaker on node1, node2 and node3 (node2 shown) for 7 seconds; node3 is killed after 3',
    host: 'node2',
    argv: ['run', '--node-name', 'node2', '--socket', socket('node2'), ...RUN_ARGS, '--for', '7'],
    async during(lab: Lab): Promise<string> {
      const others = ['node1', 'node3'].map((node) => lab.spawn(node, [process.execPath, VIPKIT, 'run', '--node-name', node, '--socket', socket(node), ...RUN_ARGS, '--for', '7'], { stdio: 'ignore' }));
      try {
        const owners = async () => {
          const lines = await Promise.all(RUN_VIPS.map(async (ip) => (await lab.exec('client', ['arping', '-c', '1', '-w', '1', '-I', 'eth0', ip])).stdout.match(/^Unicast reply.*$/m)?.[0] ?? `no reply for ${ip}`));
          return lines.join('\n');
        };
        await sleep(3000);
        const before = await owners();
        const status = await lab.exec('node2', [process.execPath, VIPKIT, 'status', '--socket', socket('node2')]);
        others[1]!.kill('SIGKILL');
        await sleep(1000);
        const after = await owners();
        const names = ['node1', 'node2', 'node3'].map((node) => `${node} ${lab.mac(node).toUpperCase()}`).join(', ');
        return [
          `client$ arping -c 1 -I eth0 <each VIP>   (${names})`,
          before,
          '',
          `node2$ vipkit status --socket ${socket('node2')}   (while all three run)`,
          status.stdout.trimEnd(),
          '',
          'client$ arping -c 1 -I eth0 <each VIP>   (a second after node3 was killed)',
          after,
        ].join('\n');
      } finally {
        for (const other of others) other.kill('SIGKILL');
      }
    },
  };
}

/** The router runs BIRD (AS 65002) accepting any BGP speaker on the segment, and exports one route with communities. */
const ROUTER_BGP = birdAcceptingSpeakers({
  routerId: '192.0.2.1',
  localAs: 65002,
  accept: '192.0.2.0/24',
  exports: { ipv4: ['198.51.100.0/24'] },
  exportFilter: 'bgp_community.add((65002,100)); bgp_large_community.add((65002,7,8)); bgp_med = 42;',
});

/** bgp-peer: a session that comes up and shows what the router announces, and one that cannot. */
const BGP_PEER_STEPS: Step[] = [
  { title: 'Does a BGP session with the router come up, and what does it announce? (bgp-peer --once)', host: 'node1', argv: ['bgp-peer', '--my-asn', '64800', '--once', '192.0.2.1'] },
  { title: 'The same, expecting the wrong AS of the router: why the session fails', host: 'node2', argv: ['bgp-peer', '--my-asn', '64800', '--peer-asn', '65001', '192.0.2.1'] },
];

/** node1 announces a VIP to the router over BGP for a few seconds; BIRD's own view of it is shown. */
function bgpStep(bird: Bird): Step {
  return {
    title: 'Announce VIPs from node1 to the BIRD router (AS 65002) over BGP for 3 seconds, then withdraw them',
    host: 'node1',
    argv: ['announce', '--peer', '192.0.2.1,asn=65002', '--my-asn', '64800', '--community', '64800:100', '--for', '3', '203.0.113.10', '2001:db8:100::10'],
    async during(): Promise<string> {
      await sleep(1500);
      const routes = await bird.birdc('show', 'route', 'all');
      await sleep(2500);
      const protocols = await bird.birdc('show', 'protocols');
      return `router$ birdc show route all   (while node1 announces)\n${routes.trimEnd()}\n\nrouter$ birdc show protocols   (after it stopped)\n${protocols.trimEnd()}`;
    },
  };
}

/** Every node of the BGP run step peers with the router and announces the same services. */
const BGP_RUN_ARGS = ['--peer', '192.0.2.1,asn=65002', '--my-asn', '64800', '--pool', 'shop=203.0.113.20-203.0.113.29,protocol=bgp,community=64800:100', '--service', 'shop/web=203.0.113.20', '--service', 'shop/api=203.0.113.21'];

/**
 * vipkit run in BGP mode on node1 and node3 (node3's log is shown): both announce every
 * service, so BIRD holds two paths per VIP (ECMP); node1 is killed, and BIRD keeps its
 * paths under graceful restart. (Not node2: BIRD waits a while before it takes a speaker
 * whose session failed, as node2's did in the bgp-peer step.)
 */
function bgpRunStep(scratch: string, bird: Bird): Step {
  const socket = (node: string) => join(scratch, `bgp-${node}.sock`);
  return {
    title: 'Run the cluster speaker in BGP mode on node1 and node3 (node3 shown) for 5 seconds: the router holds a path from each; node1 is killed after 3',
    host: 'node3',
    argv: ['run', '--node-name', 'node3', '--socket', socket('node3'), ...BGP_RUN_ARGS, '--for', '5'],
    async during(lab: Lab): Promise<string> {
      const node1 = lab.spawn('node1', [process.execPath, VIPKIT, 'run', '--node-name', 'node1', '--socket', socket('node1'), ...BGP_RUN_ARGS, '--for', '5'], { stdio: 'ignore' });
      try {
        await sleep(2500);
        const routes = await bird.birdc('show', 'route', 'all', 'for', '203.0.113.20');
        const status = await lab.exec('node3', [process.execPath, VIPKIT, 'status', '--socket', socket('node3')]);
        node1.kill('SIGKILL');
        await sleep(1000);
        const kept = await bird.birdc('show', 'route', 'for', '203.0.113.20');
        return [
          'router$ birdc show route all for 203.0.113.20   (both nodes announce it)',
          routes.trimEnd(),
          '',
          `node3$ vipkit status --socket ${socket('node3')}`,
          status.stdout.trimEnd(),
          '',
          'router$ birdc show route for 203.0.113.20   (a second after node1 was killed: kept under graceful restart)',
          kept.trimEnd(),
        ].join('\n');
      } finally {
        node1.kill('SIGKILL');
      }
    },
  };
}

export async function run(_targets: string[], _options: Record<string, unknown>, ui: Ui): Promise<number> {
  if (process.getuid?.() !== 0) throw new UsageError('demo builds network namespaces and needs root: run it with sudo.');
  const scratch = mkdtempSync(join(tmpdir(), 'vipkit-demo-'));
  ui.note(ui.style.bold('Building the lab: a bridge with client, node1, node2, node3 and a BGP router in their own network namespaces.'));
  const lab = await Lab.create(DEMO_LAB);
  let bird: Bird | undefined;
  try {
    const ethers = join(scratch, 'ethers');
    writeFileSync(ethers, DEMO_LAB.hosts.map((host) => `${lab.mac(host.name)} ${host.name}`).join('\n') + '\n');
    ui.note(`Node names come from an ethers file of the lab's MACs, passed with --ethers ${ethers}.`);
    writeFileSync(join(scratch, 'metallb-values.yaml'), POOLS_CONFIG);
    writeFileSync(join(scratch, 'metallb-values-fixed.yaml'), POOLS_CONFIG.replace('bpg', 'bgp'));
    writeFileSync(join(scratch, 'services.yaml'), POOLS_SERVICES);
    bird = await Bird.start(lab, 'router', ROUTER_BGP);
    const steps: Step[] = [...ARPING_STEPS, WATCH_STEP, L2_ANNOUNCE_STEP, runStep(scratch), ...BGP_PEER_STEPS, bgpStep(bird), bgpRunStep(scratch, bird), ...POOL_STEPS];
    for (const step of steps) {
      const argv = step.argv[0] === 'arping' || step.argv[0] === 'watch' ? [...step.argv, '--ethers', ethers] : step.argv;
      ui.line('');
      ui.line(ui.style.bold.cyan(`# ${step.title}`));
      ui.line(ui.style.dim(`${step.host ?? 'client'}$ vipkit ${step.argv.join(' ')}`));
      const running = runInterleaved(lab, step.host ?? 'client', [process.execPath, VIPKIT, ...argv], scratch);
      const seen = await step.during?.(lab);
      const { output, code } = await running;
      ui.line(output.trimEnd());
      ui.line(ui.style.dim(`(exit ${code})`));
      if (seen) ui.line(`\n${seen}`);
    }
    return ExitCode.Ok;
  } finally {
    await lab.destroy();
    rmSync(scratch, { recursive: true, force: true });
    ui.note(ui.style.bold('\nLab removed.'));
  }
}

/** Runs a command in the lab and keeps its stdout and stderr in the order they were written, as a terminal would show them. */
function runInterleaved(lab: Lab, host: string, argv: string[], cwd: string): Promise<{ output: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = lab.spawn(host, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), STEP_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ output, code: code ?? -1 });
    });
  });
}
