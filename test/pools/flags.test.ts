import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddressRange } from '../../src/pools/address-range.js';
import { planAllocations } from '../../src/pools/allocator.js';
import { readFlags, readLabelsFlag, readMemberFlag, readPeerFlag, readPoolFlag, readServiceFlag, toFlags, type PeerDefaults } from '../../src/pools/flags.js';
import type { Location, Peer, PoolsConfig, Problem } from '../../src/pools/model.js';
import { described, modelView } from './helpers.js';

/** A value without where it was written, and without undefined fields, for comparing models. */
const located = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (key, field) => (key === 'at' || key === 'poolAt' ? undefined : typeof field === 'bigint' ? field.toString() : field)));

/** Reads one flag value as flag #1; its problems as "severity source:-:column message". */
function read<T>(reader: (value: string, source: string, problems: Problem[]) => T, value: string): { result: T; problems: string[] } {
  const problems: Problem[] = [];
  const result = reader(value, 'f', problems);
  return { result, problems: described(problems) };
}

const peer = (value: string, defaults: PeerDefaults = {}) => read((text, source, problems) => readPeerFlag(text, source, defaults, problems), value);

/** The column, from 1, where `fragment` starts in `value` plus `offset`: where a problem about it is expected. */
function column(value: string, fragment: string, offset = 0): number {
  const index = value.indexOf(fragment);
  assert.ok(index >= 0, `${fragment} in ${value}`);
  return index + 1 + offset;
}

/** Every problem of reading `value`, expected at `fragment` (+ offset: the value after `key=`). */
function expectProblems(problems: string[], value: string, expected: [fragment: string, offset: number, message: string][]): void {
  assert.deepEqual(problems, expected.map(([fragment, offset, message]) => `error f:-:${column(value, fragment, offset)} ${message}`));
}

test('--peer: every option, asdot AS numbers, labels of the node selector', () => {
  const value = '192.0.2.1:1179,asn=1.10,my-asn=64800,hold-time=9,keepalive-time=3,router-id=192.0.2.11,source-address=192.0.2.5,password=s3=cret,ebgp-multihop=true,node-selector=zone=a,node-selector=example.com/rack=r1';
  const { result, problems } = peer(value);
  assert.deepEqual(problems, []);
  assert.deepEqual(located(result), {
    address: '192.0.2.1',
    port: 1179,
    asn: 65546,
    myAsn: 64800,
    holdTime: 9,
    keepaliveTime: 3,
    routerId: '192.0.2.11',
    sourceAddress: '192.0.2.5',
    password: 's3=cret',
    ebgpMultiHop: true,
    nodeSelectors: [{ matchLabels: { zone: 'a', 'example.com/rack': 'r1' }, matchExpressions: [] }],
  });
  assert.deepEqual(result!.at, { source: 'f', column: 1 });
});

test('--peer: the global --peer-asn and --my-asn are defaults an option overrides', () => {
  const { result } = peer('192.0.2.1,asn=65003', { asn: 65002, myAsn: 64800 });
  assert.equal(result!.asn, 65003);
  assert.equal(result!.myAsn, 64800);
  // A wrong value keeps the default rather than leaving the peer without one.
  assert.equal(peer('192.0.2.1,my-asn=AS1', { myAsn: 64800 }).result!.myAsn, 64800);
});

test('--peer: the head is a canonical address, with a port after it (IPv6 in brackets)', () => {
  for (const [head, address, port] of [
    ['192.0.2.1', '192.0.2.1', undefined],
    ['192.0.2.1:1179', '192.0.2.1', 1179],
    ['[2001:DB8::1]', '2001:db8::1', undefined],
    ['[2001:db8:0::1]:1179', '2001:db8::1', 1179],
    ['2001:DB8::1', '2001:db8::1', undefined],
    // Without brackets the last group is part of the address: 2001:db8::1:1179 is one.
    ['2001:db8::1:1179', '2001:db8::1:1179', undefined],
    ['fe80::1%eth0', 'fe80::1%eth0', undefined],
    ['[FE80::1%eth0]:179', 'fe80::1%eth0', 179],
    ['127.0.0.1:1179', '127.0.0.1', 1179],
  ] as const) {
    const { result, problems } = peer(`${head},asn=65002`);
    assert.deepEqual(problems, [], head);
    assert.equal(result!.address, address, head);
    assert.equal(result!.port, port, head);
  }
});

test('--peer: a wrong address is refused at its column and gives no peer', () => {
  for (const [head, at, message] of [
    ['fe80::1', 1, 'fe80::1 is link-local: name its interface, as in fe80::1%eth0.'],
    ['[fe80::1]:1179', 2, 'fe80::1 is link-local: name its interface, as in fe80::1%eth0.'],
    ['224.0.0.5', 1, '224.0.0.5 is a multicast address: a BGP peer has a unicast address.'],
    ['[ff02::2]', 2, 'ff02::2 is a multicast address: a BGP peer has a unicast address.'],
    ['0.0.0.0:179', 1, '0.0.0.0 is in 0.0.0.0/8, "this network": a BGP peer has a unicast address.'],
    ['router1', 1, '"router1" is not an IP address.'],
    ['[2001:db8::1', 1, '"[2001:db8::1" is not an IP address.'],
    ['', 1, '"" is not an IP address.'],
  ] as const) {
    const { result, problems } = peer(`${head},asn=65002`);
    assert.equal(result, undefined, head);
    assert.deepEqual(problems, [`error f:-:${at} ${message}`], head);
  }
  // A wrong port is the port's problem: the peer is still read, so its other mistakes are reported too.
  const wrongPort = '[2001:db8::1]:0,asn=0';
  const { result, problems } = peer(wrongPort);
  assert.equal(result!.address, '2001:db8::1');
  expectProblems(problems, wrongPort, [
    [':0', 1, '"0" is not a TCP port: expected 1 to 65535.'],
    ['asn=0', 4, '"0" is not an AS number: expected 1 to 4294967295 (asplain) or 0.1 to 65535.65535 (asdot).'],
  ]);
});

test('--peer: every refusal of an option, at the column of its value', () => {
  const value = [
    '192.0.2.1',
    'my-asn=1.65536',
    'port=65536',
    'hold-time=2',
    'keepalive-time=21846',
    'router-id=2001:db8::11',
    'source-address=2001:db8::5',
    'ebgp-multihop=yes',
    'node-selector=zone',
    'node-selector=-zone=a',
    'node-selector=rack=r 1',
    'asn',
    'hold-tme=9',
    'bfd-profile=fast',
  ].join(',');
  expectProblems(peer(value).problems, value, [
    ['my-asn=', 7, '"1.65536" is not an AS number: expected 1 to 4294967295 (asplain) or 0.1 to 65535.65535 (asdot).'],
    ['port=', 5, '"65536" is not a TCP port: expected 1 to 65535.'],
    ['hold-time=2', 10, '"2" is not a hold time: expected 0 or 3 to 65535 seconds.'],
    ['keepalive-time=', 15, '"21846" is not a keepalive time: expected 0 to 21845 seconds (at most a third of the longest hold time, RFC 4271 10).'],
    ['router-id=', 10, '"2001:db8::11" is not a router id: expected a non-zero IPv4 address such as 192.0.2.11.'],
    ['source-address=', 15, "source address 2001:db8::5 is IPv6 but the peer 192.0.2.1 is IPv4; give an address of the peer's family."],
    ['ebgp-multihop=', 14, '"yes" is not true or false.'],
    ['node-selector=zone,', 14, '"zone" is not a label; write it as key=value, like zone=a.'],
    ['-zone=a', 0, '"-zone" is not a label key: up to 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit, optionally after a prefix and \'/\' (example.com/zone).'],
    ['r 1', 0, '"r 1" is not a label value: empty, or up to 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit.'],
    [',asn,', 1, '"asn" in --peer is not an option; write options as key=value, like asn=65002.'],
    ['hold-tme', 0, 'unknown --peer option "hold-tme"; did you mean "hold-time"?'],
    ['bfd-profile', 0, 'unknown --peer option "bfd-profile"; expected one of: "asn", "my-asn", "port", "hold-time", "keepalive-time", "router-id", "source-address", "password", "ebgp-multihop", "node-selector", "bfd".'],
  ]);
});

test('--peer: an option given twice, the port in both places, a keepalive time that does not fit the hold time', () => {
  const twice = '192.0.2.1,asn=65002,asn=65003,node-selector=zone=a,node-selector=zone=b';
  expectProblems(peer(twice).problems, twice, [
    ['asn=65003', 0, 'asn is given twice in this --peer; give it once.'],
    ['node-selector=zone=b', 14, 'label zone is given twice; give it once.'],
  ]);
  const port = '192.0.2.1:1179,port=179';
  expectProblems(peer(port).problems, port, [['port=', 5, 'the port is given twice in this --peer (192.0.2.1:1179 and port=); give it once.']]);
  // RFC 4271 10, whichever comes first; with hold time 0 no KEEPALIVE is sent, so any keepalive time goes.
  for (const value of ['192.0.2.1,keepalive-time=4,hold-time=9', '192.0.2.1,hold-time=9,keepalive-time=4']) {
    expectProblems(peer(value).problems, value, [['keepalive-time=', 15, 'a keepalive time of 4 s does not fit a hold time of 9 s: give 1 to 3 seconds, at most a third of it (RFC 4271 10).']]);
  }
  assert.deepEqual(peer('192.0.2.1,hold-time=0,keepalive-time=30').problems, []);
  assert.deepEqual(peer('192.0.2.1,hold-time=9,keepalive-time=3').problems, []);
});

test('--pool: every option', () => {
  const value = 'prod=203.0.113.0/27,2001:db8::/120,198.51.100.10-198.51.100.20,protocol=bgp,auto-assign=false,avoid-buggy-ips=true,aggregation-length=28,aggregation-length-v6=124,localpref=200,community=65002:100,community=large:65002:7:8,priority=5,namespace=shop,namespace=infra';
  const { result, problems } = read(readPoolFlag, value);
  assert.deepEqual(problems, []);
  assert.deepEqual(located(result), {
    name: 'prod',
    protocols: ['bgp'],
    ranges: ['203.0.113.0/27', '2001:db8::/120', '198.51.100.10-198.51.100.20'].map((text) => ({ text, range: located(parseAddressRange(text)) })),
    autoAssign: false,
    avoidBuggyIPs: true,
    bgpAdvertisements: [{ format: 'flags', aggregationLength: 28, aggregationLengthV6: 124, localPref: 200, communities: ['65002:100', 'large:65002:7:8'] }],
    serviceAllocation: { priority: 5, namespaces: ['shop', 'infra'], namespaceSelectors: [], serviceSelectors: [] },
  });
  assert.deepEqual(result!.ranges.map((range) => range.at.column), [column(value, '203.0'), column(value, '2001:'), column(value, '198.51')]);
});

test('--pool: every refusal, at its column', () => {
  for (const [value, at, message] of [
    ['203.0.113.0/27', 1, '--pool "203.0.113.0/27" does not start with a name; write it like --pool prod=203.0.113.0/27.'],
    ['=203.0.113.0/27', 1, '--pool "=203.0.113.0/27" does not start with a name; write it like --pool prod=203.0.113.0/27.'],
    ['p=', 1, '--pool p has no addresses; write them after the name, like p=203.0.113.0/27.'],
    ['p=203.0.113.0/27,localpref=100', 1, '--pool p is layer2, so its BGP options are never used; add protocol=bgp or remove them.'],
  ] as const) {
    assert.deepEqual(read(readPoolFlag, value).problems, [`error f:-:${at} ${message}`], value);
  }
  const value = [
    'p=203.0.113.1/27',
    '203.0.113.64/27',
    'protcol=bgp',
    'protocol=bpg',
    'auto-assign=no',
    'avoid-buggy-ips=1',
    'aggregation-length=33',
    'aggregation-length-v6=129',
    'localpref=4294967296',
    'priority=2147483648',
    'namespace=Shop',
    'auto-assign=true',
  ].join(',');
  expectProblems(read(readPoolFlag, value).problems, value, [
    ['203.0.113.1/27', 0, '"203.0.113.1/27" has host bits set; did you mean 203.0.113.0/27?'],
    ['protcol', 0, 'unknown --pool option "protcol"; did you mean "protocol"?'],
    ['bpg', 0, 'protocol "bpg" is not layer2 or bgp; did you mean bgp?'],
    ['no', 0, '"no" is not true or false.'],
    ['avoid-buggy-ips=', 16, '"1" is not true or false.'],
    ['33', 0, '"33" is not a whole number from 0 to 32.'],
    ['129', 0, '"129" is not a whole number from 0 to 128.'],
    ['4294967296', 0, '"4294967296" is not a whole number from 0 to 4294967295.'],
    ['2147483648', 0, '"2147483648" is not a whole number from 0 to 2147483647.'],
    ['Shop', 0, '"Shop" is not a namespace name: lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters.'],
    ['auto-assign=true', 0, 'auto-assign is given twice in this --pool; give it once.'],
  ]);
});

test('--service: namespace/name, the addresses it asks for (one per family) and its pool, as a claim the allocator takes', () => {
  const value = 'shop/web=203.0.113.10,2001:DB8::10,pool=prod';
  const { result, problems } = read(readServiceFlag, value);
  assert.deepEqual(problems, []);
  assert.deepEqual(located(result), {
    key: 'shop/web',
    namespace: 'shop',
    labels: {},
    families: [4, 6],
    preferDualStack: false,
    requestedIps: ['203.0.113.10', '2001:db8::10'],
    currentIps: [],
    backendKey: '',
    ports: [],
    pool: 'prod',
  });
  assert.deepEqual(result!.poolAt, { source: 'f', column: column(value, 'pool=', 5) });
  const bare = read(readServiceFlag, 'infra/dns');
  assert.deepEqual([bare.result!.key, bare.result!.families, bare.result!.requestedIps, bare.result!.pool], ['infra/dns', [4], [], undefined]);
  const pools = ['prod=203.0.113.0/27,2001:db8::/120', 'other=198.51.100.0/28'].map((flag) => read(readPoolFlag, flag).result!);
  const plan = [...planAllocations(pools, [result!, bare.result!])].map(({ service, ips, pool, error }) => ({ service, ips, pool, error }));
  assert.deepEqual(plan, [
    { service: 'infra/dns', ips: ['198.51.100.0'], pool: 'other', error: undefined },
    { service: 'shop/web', ips: ['203.0.113.10', '2001:db8::10'], pool: 'prod', error: undefined },
  ]);
});

test('--service: every refusal, at its column', () => {
  for (const [value, fragment, offset, message] of [
    ['web', 'web', 0, '"web" is not namespace/name of a Service, like shop/web.'],
    ['Shop/web=203.0.113.10', 'Shop', 0, '"Shop" is not a namespace name: lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters.'],
    ['shop/1web', 'shop', 0, '"1web" is not a Service name: lower-case letters, digits and \'-\', starting with a letter and ending with a letter or digit, at most 63 characters.'],
  ] as const) {
    const { result, problems } = read(readServiceFlag, value);
    assert.equal(result, undefined, value);
    expectProblems(problems, value, [[fragment, offset, message]]);
  }
  const value = 'shop/web=203.0.113.10,203.0.113.11,224.0.0.1,fe80::1%eth0,127.0.0.1,pool=,pol=prod,pool=b';
  const { result, problems } = read(readServiceFlag, value);
  assert.deepEqual(result!.requestedIps, ['203.0.113.10']);
  expectProblems(problems, value, [
    ['203.0.113.11', 0, '203.0.113.11 is a second IPv4 address; a service asks for at most one address per family.'],
    ['224.0.0.1', 0, '224.0.0.1 is a multicast address: a service address has a unicast address.'],
    ['fe80::1%eth0', 0, '"fe80::1%eth0" has an IPv6 zone (%eth0); zones are not allowed in pool, peer, node or service addresses, so write it without one.'],
    ['127.0.0.1', 0, '127.0.0.1 is a loopback address: a service address has a unicast address.'],
    ['pool=,', 5, 'pool= names no pool; write the name of a --pool, like pool=prod.'],
    ['pol=', 0, 'unknown --service option "pol"; did you mean "pool"?'],
    ['pool=b', 0, 'pool is given twice in this --service; give it once.'],
  ]);
});

test('--member: a node name, its address and labels', () => {
  const { result, problems } = read(readMemberFlag, 'node1.example.com=2001:DB8:2::11,label=topology.kubernetes.io/zone=a,label=rack=');
  assert.deepEqual(problems, []);
  assert.deepEqual(located(result), { name: 'node1.example.com', address: '2001:db8:2::11', labels: { 'topology.kubernetes.io/zone': 'a', rack: '' } });
  assert.deepEqual(located(read(readMemberFlag, 'node2=192.0.2.12').result), { name: 'node2', address: '192.0.2.12', labels: {} });
  for (const [value, fragment, offset, message] of [
    ['node1', 'node1', 0, '--member "node1" does not start with name=address; write it like --member node1=192.0.2.11.'],
    ['Node1=192.0.2.11', 'Node1', 0, '"Node1" is not a node name: dot-separated parts of lower-case letters, digits and \'-\', each starting and ending with a letter or digit, at most 253 characters.'],
    ['node1=127.0.0.1', '127', 0, '127.0.0.1 is a loopback address: a member has a unicast address.'],
    ['node1=', '=', 1, '"" is not an IP address.'],
  ] as const) {
    const { result: member, problems: refused } = read(readMemberFlag, value);
    assert.equal(member, undefined, value);
    expectProblems(refused, value, [[fragment, offset, message]]);
  }
  const value = 'node1=192.0.2.11,label=zone=a,label=zone=b,zone=a,label=rack,192.0.2.12';
  expectProblems(read(readMemberFlag, value).problems, value, [
    ['label=zone=b', 6, 'label zone is given twice; give it once.'],
    [',zone=a', 1, 'unknown --member option "zone"; expected one of: "label".'],
    ['rack', 0, '"rack" is not a label; write it as key=value, like zone=a.'],
    ['192.0.2.12', 0, '"192.0.2.12" in --member is not an option; write options as key=value, like label=zone=a.'],
  ]);
});

test('--node-labels: Kubernetes labels, each key once', () => {
  const { result, problems } = read(readLabelsFlag, 'topology.kubernetes.io/zone=eu-1,rack=r1,spare=');
  assert.deepEqual(problems, []);
  assert.deepEqual(result, { 'topology.kubernetes.io/zone': 'eu-1', rack: 'r1', spare: '' });
  const value = 'zone=a,zone=b,rack,-x=1,y=-1,';
  const refused = read(readLabelsFlag, value);
  assert.deepEqual(refused.result, { zone: 'a' });
  expectProblems(refused.problems, value, [
    ['zone=b', 0, 'label zone is given twice; give it once.'],
    ['rack', 0, '"rack" is not a label; write it as key=value, like zone=a.'],
    ['-x', 0, '"-x" is not a label key: up to 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit, optionally after a prefix and \'/\' (example.com/zone).'],
    ['-1', 0, '"-1" is not a label value: empty, or up to 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit.'],
    ['-1,', 3, '"" is not a label; write it as key=value, like zone=a.'],
  ]);
});

const at: Location = { source: 'model', column: 1 };
const range = (text: string) => ({ text, range: parseAddressRange(text), at });
const basePeer = (fields: Partial<Peer>): Peer => ({ address: '192.0.2.1', asn: 65002, myAsn: 64800, nodeSelectors: [], at, ...fields });

/** Every field toFlags writes, for pools and for peers (IPv4, IPv6, link-local with a zone, ports). */
function everything(): PoolsConfig {
  return {
    pools: [
      {
        name: 'l2',
        protocols: ['layer2'],
        ranges: [range('192.0.2.0/28'), range('2001:db8::/120'), range('198.51.100.10-198.51.100.20')],
        autoAssign: false,
        avoidBuggyIPs: true,
        bgpAdvertisements: [],
        serviceAllocation: { priority: 5, namespaces: ['shop', 'infra'], namespaceSelectors: [], serviceSelectors: [] },
        at,
      },
      {
        name: 'bgp',
        protocols: ['bgp'],
        ranges: [range('203.0.113.0/27')],
        autoAssign: true,
        avoidBuggyIPs: false,
        bgpAdvertisements: [{ format: 'flags', aggregationLength: 28, aggregationLengthV6: 124, localPref: 200, communities: ['65002:100', 'large:65002:7:8'], at }],
        at,
      },
      { name: 'bgp-defaults', protocols: ['bgp'], ranges: [range('2001:db8:1::/64')], autoAssign: true, avoidBuggyIPs: false, bgpAdvertisements: [{ format: 'flags', communities: [], at }], at },
    ],
    peers: [
      basePeer({
        port: 1179,
        holdTime: 9,
        keepaliveTime: 3,
        routerId: '192.0.2.11',
        sourceAddress: '192.0.2.5',
        password: 's3=cret',
        ebgpMultiHop: true,
        nodeSelectors: [{ matchLabels: { zone: 'a', 'example.com/rack': 'r1' }, matchExpressions: [] }],
      }),
      basePeer({ address: '2001:db8::1', asn: 4_200_000_000, myAsn: 65546, port: 179, holdTime: 0, keepaliveTime: 0, sourceAddress: '2001:db8::5', ebgpMultiHop: false }),
      basePeer({ address: 'fe80::1%eth0', asn: 65002, myAsn: 65002 }),
    ],
    communityAliases: new Map(),
    bfdProfiles: [],
  };
}

/** The flags toFlags wrote, read back as `vipkit run` reads them. */
function readBack(args: string[]): { config: PoolsConfig; problems: string[] } {
  const values = (flag: string) => args.filter((_, index) => index % 2 === 1 && args[index - 1] === flag);
  const problems: Problem[] = [];
  const config = readFlags(values('--pool'), values('--peer'), {}, problems);
  return { config, problems: described(problems) };
}

test('toFlags writes every field as an option the readers read back into the same model', () => {
  const config = everything();
  const written = toFlags(config);
  assert.ok('args' in written, 'reason' in written ? written.reason : '');
  assert.deepEqual(written.args, [
    '--pool', 'l2=192.0.2.0/28,2001:db8::/120,198.51.100.10-198.51.100.20,protocol=layer2,auto-assign=false,avoid-buggy-ips=true,priority=5,namespace=shop,namespace=infra',
    '--pool', 'bgp=203.0.113.0/27,protocol=bgp,aggregation-length=28,aggregation-length-v6=124,localpref=200,community=65002:100,community=large:65002:7:8',
    '--pool', 'bgp-defaults=2001:db8:1::/64,protocol=bgp',
    '--peer', '192.0.2.1,asn=65002,my-asn=64800,port=1179,hold-time=9,keepalive-time=3,router-id=192.0.2.11,source-address=192.0.2.5,password=s3=cret,ebgp-multihop=true,node-selector=zone=a,node-selector=example.com/rack=r1',
    '--peer', '[2001:db8::1],asn=4200000000,my-asn=65546,port=179,hold-time=0,keepalive-time=0,source-address=2001:db8::5,ebgp-multihop=false',
    '--peer', '[fe80::1%eth0],asn=65002,my-asn=65002',
  ]);
  const reread = readBack(written.args);
  assert.deepEqual(reread.problems, []);
  assert.deepEqual(modelView(reread.config), modelView(config));
});

test('toFlags writes a community alias as its value', () => {
  const config = everything();
  config.pools[1]!.bgpAdvertisements[0]!.communities = ['no-advertise'];
  config.communityAliases.set('no-advertise', { value: '65535:65282', at });
  const written = toFlags(config);
  assert.ok('args' in written);
  assert.match(written.args[3]!, /,community=65535:65282$/);
  assert.deepEqual(readBack(written.args).config.pools[1]!.bgpAdvertisements[0]!.communities, ['65535:65282']);
});

test('toFlags refuses, with the reason, what --pool and --peer would read differently or not at all', () => {
  const refusal = (change: (config: PoolsConfig) => void) => {
    const config = everything();
    change(config);
    const written = toFlags(config);
    return 'reason' in written ? written.reason : `written: ${written.args.join(' ')}`;
  };
  assert.equal(refusal((config) => (config.peers[0]!.bfdProfile = 'fast')), 'peer 192.0.2.1 uses the BFD profile "fast", which --peer cannot express.');
  // The password is not repeated in the reason.
  assert.equal(refusal((config) => (config.peers[0]!.password = 'a,asn=1')), 'peer 192.0.2.1 has a value with a comma in it, which --peer would read as two items.');
  assert.equal(refusal((config) => (config.pools[0]!.name = 'a,b')), 'pool a,b has a value with a comma in it, which --pool would read as two items.');
  // A MetalLB file may hold what vipkit's flags refuse: say which value, rather than write a flag run would refuse.
  assert.equal(
    refusal((config) => (config.peers[1]!.routerId = '2001:db8::11')),
    'peer 2001:db8::1 cannot be written as --peer: "2001:db8::11" is not a router id: expected a non-zero IPv4 address such as 192.0.2.11.',
  );
  assert.equal(refusal((config) => (config.peers[0]!.holdTime = 1)), 'peer 192.0.2.1 cannot be written as --peer: "1" is not a hold time: expected 0 or 3 to 65535 seconds.');
  assert.equal(
    refusal((config) => (config.peers[0]!.keepaliveTime = 6)),
    'peer 192.0.2.1 cannot be written as --peer: a keepalive time of 6 s does not fit a hold time of 9 s: give 1 to 3 seconds, at most a third of it (RFC 4271 10).',
  );
  assert.equal(
    refusal((config) => (config.pools[0]!.serviceAllocation!.namespaces = ['Shop'])),
    'pool l2 cannot be written as --pool: "Shop" is not a namespace name: lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters.',
  );
  assert.equal(refusal((config) => (config.pools[2]!.name = 'x=y')), 'pool x=y cannot be written as --pool: unknown --pool option "y"; expected one of: "protocol", "auto-assign", "avoid-buggy-ips", "aggregation-length", "aggregation-length-v6", "localpref", "community", "priority", "namespace".');
});
