import { InvalidArgumentError } from 'commander';
import { parseAddress, parseAsn, parseFamilies, parseHoldTime, parsePort, parseRouterId } from './bgp-options.js';
import { optionParser, parsePositiveInteger, parsePositiveNumber, parsePositiveSeconds, parseSeconds, parseVlanId } from './parse.js';
import { parseNodeName } from '../pools/value-parsers.js';
import { DEFAULT_STATUS_SOCKET } from '../observe/status-socket.js';
import type { Ui } from './ui.js';

/**
 * One table drives the parser (program.ts), `--help`, and the man pages' option lists
 * (a test checks every option here is documented in man/vipkit-<name>.1). Implementations
 * are imported only when their command runs, so `--help` stays instant.
 */
export interface OptionSpec {
  flags: string;
  description: string;
  defaultValue?: string | number | boolean;
  parse?: (value: string, previous: unknown) => unknown;
}

export interface CommandModule {
  run(targets: string[], options: Record<string, unknown>, ui: Ui): Promise<number>;
}

/** What `--help` shows for a command or a subcommand, and what commander parses. */
export interface Usage {
  name: string;
  arguments: string;
  summary: string;
  examples: string[];
  options: OptionSpec[];
}

export interface CommandSpec extends Usage {
  /**
   * Subcommands (pools) are commander subcommands with their own options and help; the
   * command's module runs them all, given the subcommand's name as its first target.
   */
  subcommands?: Usage[];
  load(): Promise<CommandModule>;
}

/** The session options bgp-peer and announce share: one parser each, wording per command. */
function bgpSessionOptions(describe: Record<'myAsn' | 'peerAsn' | 'routerId' | 'holdTime' | 'port' | 'sourceAddress', string>): OptionSpec[] {
  return [
    { flags: '--my-asn <asn>', description: describe.myAsn, parse: parseAsn },
    { flags: '--peer-asn <asn>', description: describe.peerAsn, parse: parseAsn },
    { flags: '--router-id <id>', description: describe.routerId, parse: parseRouterId },
    { flags: '--hold-time <s>', description: describe.holdTime, defaultValue: 90, parse: parseHoldTime },
    { flags: '--port <n>', description: describe.port, defaultValue: 179, parse: parsePort },
    { flags: '--source-address <address>', description: describe.sourceAddress, parse: parseAddress },
  ];
}

const json: OptionSpec = { flags: '--json', description: 'one JSON object per line on stdout' };

/** For options that may be repeated: every value, in order. */
const collect = (value: string, previous: unknown): string[] => [...((previous as string[] | undefined) ?? []), value];

/** A whole number from `min` to `max`, for attribute values and prefix lengths. */
function integerBetween(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return number;
  };
}

/** Every pools subcommand reads a pools source: MetalLB files, these flags, or both. */
const poolsSource: OptionSpec[] = [
  { flags: '--pool <spec>', description: 'a pool: name=range[,range...][,protocol=layer2|bgp][,auto-assign=false]...; repeatable', parse: collect },
  { flags: '--peer <spec>', description: 'a BGP peer: address[,asn=N][,my-asn=N][,port=N]...; repeatable', parse: collect },
  { flags: '--peer-asn <asn>', description: 'peer ASN for every --peer that gives none', parse: parseAsn },
  { flags: '--my-asn <asn>', description: 'our ASN for every --peer that gives none', parse: parseAsn },
  { flags: '--node <address>', description: 'a node address no pool may hold; repeatable', parse: collect },
];
const services: OptionSpec = { flags: '--services <file>', description: 'Kubernetes Services (YAML or JSON) to allocate for, or to check the annotations of; repeatable', parse: collect };
const lbClass: OptionSpec = { flags: '--lb-class <name>', description: 'allocate only for services of this loadBalancerClass, as MetalLB\'s --lb-class' };

const poolsSubcommands: Usage[] = [
  {
    name: 'check',
    arguments: '[file...]',
    summary: 'report every problem in the pools source, one line each, with where it was written',
    examples: ['vipkit pools check metallb-values.yaml', 'vipkit pools check --strict pools.yaml --services services.yaml'],
    options: [
      ...poolsSource,
      services,
      { flags: '--bgp-type <type>', description: "MetalLB's BGP mode whose rules apply: native, frr or frr-k8s (default: native for a legacy ConfigMap, frr-k8s for resources)" },
      { flags: '--strict', description: 'warnings count as problems (exit 1)' },
      json,
    ],
  },
  {
    name: 'list',
    arguments: '[file...]',
    summary: 'a table of the pools and their sizes; with --services, who holds which address',
    examples: ['vipkit pools list --pool prod=203.0.113.0/27,2001:db8::/64,protocol=bgp', 'vipkit pools list --services services.yaml metallb-values.yaml'],
    options: [...poolsSource, services, lbClass, json],
  },
  {
    name: 'allocate',
    arguments: '[file...]',
    summary: 'what address each service gets, from which pool, and why a service gets none',
    examples: ['vipkit pools allocate --services services.yaml metallb-crds.yaml', 'vipkit pools allocate --json --lb-class example.com/lb --services services.yaml metallb-crds.yaml'],
    options: [...poolsSource, services, lbClass, json],
  },
  {
    name: 'convert',
    arguments: '[file...]',
    summary: 'write the pools source as MetalLB CRDs, as --pool/--peer flags, or as the legacy ConfigMap',
    examples: ['vipkit pools convert --to crds config.yaml', 'vipkit pools convert --to flags metallb-values.yaml'],
    options: [...poolsSource, { flags: '--to <format>', description: 'crds, flags or legacy' }, json],
  },
];

export const commands: CommandSpec[] = [
  {
    name: 'arping',
    arguments: '[target...]',
    summary: 'who answers for an IP or a range: MACs, node names, RTT, duplicates (ARP and NDP)',
    examples: [
      'vipkit arping -c 3 192.0.2.11',
      'vipkit arping -I eth0 192.0.2.64/27',
      'vipkit arping --fail-on-duplicate 192.0.2.70-192.0.2.80',
      'vipkit arping -c 2 2001:db8:2::11',
      'vipkit arping -D -I eth0 192.0.2.50',
      'vipkit arping -U -c 3 -I eth0 192.0.2.50',
    ],
    options: [
      { flags: '-I, --interface <name>', description: 'interface to probe on (default: the one whose subnet holds the target)' },
      { flags: '-c, --count <n>', description: 'stop after n probes (single target; default: until -w or Ctrl-C)', parse: parsePositiveInteger },
      { flags: '-w, --deadline <s>', description: 'stop after this many seconds', parse: parseSeconds },
      { flags: '-i, --interval <s>', description: 'seconds between probes to a single target', defaultValue: 1, parse: parseSeconds },
      { flags: '-s, --source <address>', description: 'source address of the probes (default: our address in the target subnet)' },
      { flags: '-f, --first', description: 'stop at the first reply' },
      { flags: '-q, --quiet', description: 'print nothing; the exit code says what happened' },
      { flags: '-D, --dad', description: 'duplicate address detection: probe from 0.0.0.0 (IPv6: from ::); exit 0 if free, 1 if in use' },
      { flags: '-U, --unsolicited', description: 'send gratuitous ARP requests (IPv6: unsolicited neighbor advertisements)' },
      { flags: '-A, --reply', description: 'send gratuitous ARP replies (IPv6: unsolicited neighbor advertisements)' },
      { flags: '-u, --unicast', description: 'after the first reply, probe its MAC by unicast as iputils does (hides a second responder)' },
      json,
      { flags: '--vlan <id>', description: 'tag probes with this 802.1Q VLAN id and listen on it', parse: parseVlanId },
      { flags: '--ethers <file>', description: 'MAC-to-name file, "mac name" per line (default: /etc/ethers, if it exists)' },
      { flags: '--fail-on-duplicate', description: 'exit 3 if any address is answered by more than one MAC' },
      { flags: '--rate <pps>', description: 'sweep: probes per second', defaultValue: 2000, parse: parsePositiveNumber },
      { flags: '--retry <n>', description: 'sweep: probes per silent address', defaultValue: 2, parse: parsePositiveInteger },
      { flags: '--timeout <s>', description: 'sweep: seconds to wait for replies after the last probe', defaultValue: 0.3, parse: parseSeconds },
    ],
    load: () => import('./commands/arping.js'),
  },
  {
    name: 'bgp-peer',
    arguments: '[peer...]',
    summary: 'open a BGP session to a router (or --listen as one): why it fails, capabilities, the routes it announces',
    examples: [
      'vipkit bgp-peer --my-asn 64800 192.0.2.1',
      'vipkit bgp-peer --my-asn 64800 --peer-asn 65002 --once --json 192.0.2.1',
      'vipkit bgp-peer --my-asn 4200000001 --family ipv4 --hold-time 9 [2001:db8:2::1]',
      'vipkit bgp-peer --listen --accept 192.0.2.0/24 --my-asn 65002',
    ],
    options: [
      ...bgpSessionOptions({
        myAsn: 'our AS number, asplain or asdot (required)',
        peerAsn: "the peer's AS number (default: accept the one its OPEN gives, and report it)",
        routerId: "our BGP identifier (default: the source address, or this host's first IPv4 address)",
        holdTime: 'hold time we offer: 0 or 3 to 65535 seconds',
        port: 'TCP port to connect to (with --listen or --passive: to listen on)',
        sourceAddress: 'local address of the connection (with --passive: the address to listen on)',
      }),
      { flags: '--keepalive <s>', description: 'seconds between KEEPALIVEs (default: a third of the negotiated hold time)', parse: parsePositiveInteger },
      { flags: '--family <list>', description: 'address families to negotiate: ipv4, ipv6 or ipv4,ipv6 (default: both)', parse: parseFamilies },
      { flags: '--passive', description: 'wait for the peer to connect instead of connecting' },
      { flags: '--accept-incoming', description: "also accept the peer's own connection on --port while connecting to it, as BGP daemons do (RFC 4271 6.8 keeps one)" },
      { flags: '--once', description: "exit after the peer's initial routes (End-of-RIB for every family, or 3 s without an UPDATE from a peer without graceful restart)" },
      { flags: '--timeout <s>', description: 'give up if no session is established within this many seconds (default 30); with --listen: stop listening after this long', parse: parseSeconds },
      { flags: '--listen [address]', description: 'act as the router: accept sessions from speakers in the --accept ranges (default: every address)' },
      { flags: '--accept <cidr>', description: 'with --listen: a range speakers may connect from (CIDR or first-last); repeatable', parse: collect },
      { flags: '-q, --quiet', description: 'print only the summary (routes are still decoded and stored)' },
      { flags: '--password <secret>', description: "the TCP-MD5 key shared with the peer (RFC 2385); with --listen, every accepted speaker's" },
      { flags: '--add-path', description: 'ask the peer for every path it has, not only its best (ADD-PATH receive, RFC 7911); each route shows its path id' },
      { flags: '--ebgp-multihop [ttl]', description: 'send with this TTL (default 255) to reach a peer more than one hop away (default: the kernel\'s TTL)' },
      json,
    ],
    load: () => import('./commands/bgp-peer.js'),
  },
  {
    name: 'announce',
    arguments: '[target...]',
    summary: 'announce prefixes, ranges and addresses to BGP peers (--peer), or answer ARP/NDP for a VIP (--l2), until stopped; health-check driven',
    examples: [
      'vipkit announce --peer 192.0.2.1,asn=65002 --my-asn 64800 203.0.113.10',
      'vipkit announce --peer 192.0.2.1 --peer 192.0.2.2 --peer-asn 65002 --my-asn 64800 --community 64800:100 203.0.113.0/27 2001:db8:100::10',
      'vipkit announce --peer 192.0.2.1,asn=65002 --my-asn 64800 --aggregation-length 24 198.51.100.10-198.51.100.20',
      'vipkit announce --peer 192.0.2.1,asn=65002 --my-asn 64800 --check "curl -sf http://127.0.0.1/health" --down-med 1000 203.0.113.10',
      'vipkit announce --l2 -I eth0 192.0.2.100',
      'vipkit announce --l2 -I eth0 --for 60 --garp-refresh 10 192.0.2.100 2001:db8:2::100',
    ],
    options: [
      { flags: '--peer <spec>', description: 'a BGP peer: address[:port][,asn=N][,my-asn=N][,port=N][,hold-time=S][,keepalive-time=S][,source-address=A][,router-id=ID]; repeatable', parse: collect },
      ...bgpSessionOptions({
        myAsn: 'our AS number, for every --peer that gives none (asplain or asdot)',
        peerAsn: 'the peer AS number, for every --peer that gives none',
        routerId: 'our BGP identifier (default: the source address if IPv4, else our first IPv4 address)',
        holdTime: 'hold time proposed to every peer',
        port: "the peers' BGP port",
        sourceAddress: 'connect to every peer from this address',
      }),
      { flags: '--next-hop <address>', description: 'IPv4 next hop (default: our address of the session)', parse: parseAddress },
      { flags: '--next-hop-v6 <address>', description: 'IPv6 next hop (default: our global IPv6 address on the interface facing the peer)', parse: parseAddress },
      { flags: '--origin <origin>', description: 'ORIGIN: igp, egp or incomplete', defaultValue: 'igp' },
      { flags: '--med <n>', description: 'MULTI_EXIT_DISC of every route', parse: integerBetween(0, 4_294_967_295) },
      { flags: '--local-pref <n>', description: 'LOCAL_PREF of every route (iBGP peers only; default 100 towards them)', parse: integerBetween(0, 4_294_967_295) },
      { flags: '--community <c>', description: 'a community, 65002:100 or a well-known name (no-export); repeatable', parse: collect },
      { flags: '--large-community <c>', description: 'a large community, 65002:7:8; repeatable', parse: collect },
      { flags: '--as-path-prepend <n>', description: 'put our AS this many more times in the AS path (eBGP peers)', defaultValue: 0, parse: integerBetween(0, 64) },
      { flags: '--aggregation-length <n>', description: 'announce the covering IPv4 prefixes of this length instead of /32 host routes', parse: integerBetween(0, 32) },
      { flags: '--aggregation-length-v6 <n>', description: 'announce the covering IPv6 prefixes of this length instead of /128 host routes', parse: integerBetween(0, 128) },
      { flags: '--max-routes <n>', description: 'refuse targets that come to more routes than this', defaultValue: 1_000_000, parse: parsePositiveInteger },
      { flags: '--check <command>', description: 'announce only while this /bin/sh command exits 0' },
      { flags: '--check-interval <s>', description: 'seconds from the start of one check to the next', defaultValue: 5, parse: parsePositiveSeconds },
      { flags: '--check-timeout <s>', description: 'kill a check running longer than this (default: the interval); it counts as failed', parse: parsePositiveSeconds },
      { flags: '--rise <n>', description: 'checks passed in a row that bring the service up', defaultValue: 3, parse: parsePositiveInteger },
      { flags: '--fall <n>', description: 'checks failed in a row that take the service down', defaultValue: 3, parse: parsePositiveInteger },
      { flags: '--down-med <n>', description: 'while the check fails, keep announcing with this MED instead of withdrawing', parse: integerBetween(0, 4_294_967_295) },
      { flags: '--timeout <s>', description: 'give up (exit 1) if no session is Established after this many seconds', parse: parseSeconds },
      { flags: '--accept-incoming', description: "also accept the connections the peers open to us (on their port), as BGP daemons do (RFC 4271 6.8 keeps one per peer)" },
      { flags: '--shutdown-message <text>', description: 'the message of the Cease NOTIFICATION sent when stopping (RFC 8203)', defaultValue: 'vipkit announce stopped' },
      { flags: '--l2', description: 'announce at Layer 2: answer ARP requests and neighbor solicitations with our MAC' },
      { flags: '-I, --interface <name>', description: 'interface to answer on (required with --l2)' },
      { flags: '--garp-count <n>', description: 'gratuitous ARPs / unsolicited NAs sent when the announcement starts', defaultValue: 3, parse: parsePositiveInteger },
      { flags: '--garp-interval <s>', description: 'seconds between the gratuitous frames of that burst', defaultValue: 0.2, parse: parseSeconds },
      { flags: '--garp-rate <fps>', description: 'at most this many frames per second in all: conflict probes, then gratuitous frames', defaultValue: 1000, parse: parsePositiveNumber },
      { flags: '--garp-refresh <s>', description: 'send one more gratuitous frame per address this often, to keep switch tables warm', parse: parsePositiveSeconds },
      { flags: '--for <s>', description: 'stop after this many seconds (default: until SIGINT/SIGTERM)', parse: parseSeconds },
      { flags: '--force', description: 'skip the conflict probe: announce even an address another host already answers for' },
      { flags: '--vlan <id>', description: 'answer and announce on this 802.1Q VLAN', parse: parseVlanId },
      { flags: '--busy-poll', description: 'answer with the lowest latency by keeping one CPU core busy polling' },
      json,
    ],
    load: () => import('./commands/announce.js'),
  },
  {
    name: 'watch',
    arguments: '[target...]',
    summary: 'passive monitor of ARP/NDP: who owns which IP, every move with its failover gap, duplicates, dark addresses',
    examples: [
      'vipkit watch -I eth0',
      'vipkit watch -I eth0 --probe 0.2 192.0.2.100 2001:db8:2::100',
      'vipkit watch -I eth0 --json --for 60 -w vip.pcap 192.0.2.64/27',
      'vipkit watch -r capture.pcapng',
    ],
    options: [
      { flags: '-I, --interface <name>', description: 'interface to listen on; repeat for several (required unless -r)', parse: (value, previous) => [...((previous as string[] | undefined) ?? []), value] },
      { flags: '-r, --read <file>', description: 'analyse a capture file (pcap or pcapng) instead of the live wire' },
      { flags: '-w, --write <file>', description: 'save every frame watched to this pcap file' },
      { flags: '--for <s>', description: 'stop after this many seconds (default: until SIGINT/SIGTERM)', parse: parseSeconds },
      { flags: '--probe <s>', description: 'also send an ARP request / neighbor solicitation to each target this often', parse: parsePositiveSeconds },
      { flags: '--dup-window <s>', description: 'two MACs claiming one IP within this many seconds are a duplicate', defaultValue: 1, parse: parseSeconds },
      { flags: '--silence <s>', description: 'requests unanswered for longer than this make an address dark', defaultValue: 1, parse: parseSeconds },
      { flags: '--vlan <id>', description: 'watch only this 802.1Q VLAN (default: every VLAN and untagged)', parse: parseVlanId },
      { flags: '--ethers <file>', description: 'MAC-to-name file, "mac name" per line (default: /etc/ethers, if it exists)' },
      { flags: '--bgp', description: 'also decode BGP on TCP port 179: OPENs, UPDATEs (prefixes, attributes), NOTIFICATIONs' },
      json,
    ],
    load: () => import('./commands/watch.js'),
  },
  {
    name: 'pools',
    subcommands: poolsSubcommands,
    arguments: '',
    summary: 'check, list, allocate and convert address pools: MetalLB configs (legacy, Helm, CRDs) and --pool flags',
    examples: poolsSubcommands.map((subcommand) => subcommand.examples[0]!),
    options: [],
    load: () => import('./commands/pools.js'),
  },
  {
    name: 'run',
    arguments: '',
    summary: 'the cluster speaker: each Layer 2 VIP answered by one live node (MetalLB placement, BFD between the members), each BGP service announced from every eligible node',
    examples: [
      'vipkit run --node-name node1 --member node1=192.0.2.11 --member node2=192.0.2.12 --pool lab=192.0.2.100-192.0.2.120 --service default/web=192.0.2.100',
      'vipkit run --node-name node1 --peer 192.0.2.1,asn=65002 --my-asn 64800 --pool web=203.0.113.0/28,protocol=bgp --service default/web',
      'vipkit run --node-name node1 --member node2=192.0.2.12 --config metallb.yaml --services services.yaml --dry-run',
    ],
    options: [
      { flags: '--node-name <name>', description: "this node's name, as the other members know it (default: the hostname)", parse: optionParser(parseNodeName) },
      { flags: '--member <spec>', description: 'a member: name=address[,label=key=value]...; repeatable (the one named --node-name is this node)', parse: collect },
      { flags: '--node-labels <labels>', description: "this node's labels, key=value,... (for node selectors)" },
      { flags: '--pool <spec>', description: 'an address pool: name=range[,range...][,protocol=layer2]...; repeatable', parse: collect },
      { flags: '--config <file>', description: "a MetalLB configuration (legacy, Helm values or CRDs) for the pools; repeatable", parse: collect },
      { flags: '--service <spec>', description: 'a service: namespace/name[=ip][,pool=name]; repeatable', parse: collect },
      { flags: '--services <file>', description: 'Kubernetes Services (YAML or JSON) to announce; repeatable', parse: collect },
      { flags: '-I, --interface <name>', description: 'answer only on this interface (default: the one whose subnet holds each VIP); repeatable', parse: collect },
      { flags: '--peer <spec>', description: 'a BGP peer: address[:port][,asn=N][,my-asn=N][,hold-time=S][,node-selector=key=value]...; repeatable', parse: collect },
      ...bgpSessionOptions({
        myAsn: 'our AS number, for every --peer that gives none',
        peerAsn: 'the peer AS number, for every --peer that gives none',
        routerId: "our BGP identifier (default: the source address if IPv4, else this node's first IPv4 address)",
        holdTime: 'hold time proposed to every peer',
        port: "the peers' BGP port",
        sourceAddress: 'connect to every peer from this address',
      }),
      { flags: '--next-hop <address>', description: 'IPv4 next hop of every route (default: our address of the session)', parse: parseAddress },
      { flags: '--next-hop-v6 <address>', description: 'IPv6 next hop (default: our global IPv6 address on the interface facing the peer)', parse: parseAddress },
      { flags: '--kubernetes', description: "read Services, EndpointSlices, Nodes and MetalLB's resources from the cluster (the pod's service account); members are the Nodes" },
      { flags: '--kubeconfig <file>', description: 'the same, through this kubeconfig (implies --kubernetes)' },
      { flags: '--speaker-selector <labels>', description: 'with --kubernetes: only Nodes with these labels (key=value,...) run a speaker and are members' },
      { flags: '--shutdown-mode <mode>', description: 'on SIGTERM: withdraw (withdraw every route, then close with a Cease) or restart (close without withdrawing: routers keep forwarding under graceful restart)', defaultValue: 'withdraw' },
      { flags: '--gr-restart-time <s>', description: 'graceful restart time advertised to the peers (RFC 4724): how long they keep our routes while we restart', defaultValue: 120, parse: integerBetween(0, 4095) },
      { flags: '--garp-count <n>', description: 'gratuitous ARPs / unsolicited NAs sent when this node takes a VIP over', defaultValue: 3, parse: parsePositiveInteger },
      { flags: '--garp-interval <s>', description: "seconds between them (Linux ignores a change within its locktime of about 1 s)", defaultValue: 1.1, parse: parseSeconds },
      { flags: '--garp-refresh <s>', description: 'one more gratuitous frame per VIP this often, to keep switch tables warm', defaultValue: 30, parse: parsePositiveSeconds },
      { flags: '--garp-rate <fps>', description: 'at most this many gratuitous frames per second in all', defaultValue: 1000, parse: parsePositiveNumber },
      { flags: '--socket <path>', description: 'answer vipkit status on this Unix socket (its directory is created)', defaultValue: DEFAULT_STATUS_SOCKET },
      { flags: '--metrics-addr <address:port>', description: 'serve Prometheus metrics on /metrics here (loopback unless you ask otherwise)', defaultValue: '127.0.0.1:7472' },
      { flags: '--bfd-interval <s>', description: 'BFD interval between the members once Up (at least 0.02)', defaultValue: 0.05, parse: parsePositiveSeconds },
      { flags: '--bfd-multiplier <n>', description: 'BFD packets missed before a member counts as down', defaultValue: 3, parse: integerBetween(1, 255) },
      { flags: '--bfd-full-mesh-max <n>', description: 'BFD with every member up to this many nodes; beyond, with ring neighbours only, and membership messages (UDP 7947) tell everyone', defaultValue: 20, parse: integerBetween(1, 65535) },
      { flags: '--bfd-ring-neighbours <k>', description: 'on the ring, the neighbours on each side each node runs BFD with', defaultValue: 3, parse: integerBetween(1, 32) },
      { flags: '--log-level <level>', description: 'log this level and above: debug, info, warn, error or none', defaultValue: 'info' },
      { flags: '--dry-run', description: 'print what this node would announce and why (the candidate order per VIP), then exit' },
      { flags: '--for <s>', description: 'stop after this many seconds (default: until SIGINT/SIGTERM)', parse: parseSeconds },
      json,
    ],
    load: () => import('./commands/run.js'),
  },
  {
    name: 'status',
    arguments: '',
    summary: 'ask a running vipkit run: each VIP with its owner and candidate order, what this node does with it and why, each member',
    examples: ['vipkit status', 'vipkit status --socket /run/vipkit/node2.sock --json'],
    options: [{ flags: '--socket <path>', description: 'the socket the speaker answers on', defaultValue: DEFAULT_STATUS_SOCKET }, json],
    load: () => import('./commands/status.js'),
  },
  {
    name: 'demo',
    arguments: '',
    summary: 'build a throwaway namespace lab and show the other commands at work in it',
    examples: ['vipkit demo'],
    options: [],
    load: () => import('./commands/demo.js'),
  },
];
