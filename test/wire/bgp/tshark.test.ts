import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  encodeMessage,
  endOfRibUpdate,
  IPV6_UNICAST,
  keepalive,
  notification,
  open,
  packUpdates,
  packWithdrawals,
  parseAsPath,
  parseCommunity,
  parseLargeCommunity,
  routeRefresh,
  type SessionCodecContext,
} from '../../../src/wire/bgp/index.js';

// Independent eyes: tshark decodes what the encoders write, each message in its own TCP
// segment to port 179 of an Ethernet/IPv4 frame in a classic pcap file.
const CONTEXT: SessionCodecContext = { fourOctetAs: true, extendedMessage: false };

function tcpFrame(payload: Buffer, sequence: number): Buffer {
  const ethernet = Buffer.from('02005e10000b02005e10000a0800', 'hex');
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + 20 + payload.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(6, 9); // TCP
  Buffer.from([192, 0, 2, 10]).copy(ip, 12);
  Buffer.from([192, 0, 2, 11]).copy(ip, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(179, 2);
  tcp.writeUInt32BE(sequence, 4);
  tcp.writeUInt8(0x50, 12); // data offset 5 words
  tcp.writeUInt8(0x18, 13); // PSH, ACK
  tcp.writeUInt16BE(65535, 14);
  return Buffer.concat([ethernet, ip, tcp, payload]);
}

function pcapFile(payloads: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  let sequence = 1;
  const records = payloads.map((payload) => {
    const frame = tcpFrame(payload, sequence);
    sequence += payload.length;
    const record = Buffer.alloc(16);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    return Buffer.concat([record, frame]);
  });
  return Buffer.concat([header, ...records]);
}

const FIELDS = [
  'bgp.type',
  'bgp.open.myas',
  'bgp.cap.4as',
  'bgp.nlri_prefix',
  'bgp.mp_reach_nlri_ipv6_prefix',
  'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local',
  'bgp.withdrawn_prefix',
  'bgp.mp_unreach_nlri_ipv6_prefix',
  'bgp.update.path_attribute.as_path_segment.as4',
  'bgp.update.path_attribute.community_as',
  'bgp.large_communities.ga',
  'bgp.notify.communication',
  'bgp.route_refresh.afi',
  '_ws.malformed',
  '_ws.expert.severity',
];

function tsharkFields(payloads: Buffer[]): Array<Record<string, string>> {
  const directory = mkdtempSync(join(tmpdir(), 'vipkit-bgp-'));
  try {
    const file = join(directory, 'encoded.pcap');
    writeFileSync(file, pcapFile(payloads));
    const output = execFileSync('tshark', ['-r', file, '-d', 'tcp.port==179,bgp', '-T', 'fields', '-E', 'separator=/t', ...FIELDS.flatMap((field) => ['-e', field])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return output
      .trimEnd()
      .split('\n')
      .map((line) => Object.fromEntries(line.split('\t').map((value, index) => [FIELDS[index]!, value]).filter(([, value]) => value !== '')));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

describe('BGP encoders, read back by tshark', () => {
  it('agrees on every field and finds nothing malformed', () => {
    const route = {
      origin: 'igp' as const,
      asPath: parseAsPath('65550 64512 {64513 64514}'),
      nextHop: '192.0.2.10',
      ipv6NextHop: '2001:db8:2::10',
      ipv6LinkLocalNextHop: 'fe80::1',
      med: 42,
      communities: [parseCommunity('65002:100'), parseCommunity('NO_EXPORT')],
      largeCommunities: [parseLargeCommunity('65002:7:8')],
    };
    const payloads = [
      open.encode({
        type: 'open',
        version: 4,
        myAs: 23456,
        holdTime: 90,
        bgpIdentifier: '192.0.2.10',
        capabilities: [{ type: 'multiprotocol', afi: 2, safi: 1 }, { type: 'four-octet-as', asn: 65550 }, { type: 'route-refresh' }],
      }),
      keepalive.encode({ type: 'keepalive' }),
      ...packUpdates(route, ['203.0.113.0/25', '2001:db8:100::/48'], CONTEXT),
      ...packWithdrawals(['203.0.113.0/25', '2001:db8:100::/48'], CONTEXT),
      encodeMessage(endOfRibUpdate(IPV6_UNICAST), CONTEXT),
      routeRefresh.encode({ type: 'route-refresh', afi: 2, safi: 1, subtype: 0 }),
      notification.encode({ type: 'notification', code: 6, subcode: 2, communication: 'maintenance window' }),
    ];
    const fields = tsharkFields(payloads);
    assert.deepEqual(fields, [
      { 'bgp.type': '1', 'bgp.open.myas': '23456', 'bgp.cap.4as': '65550' },
      { 'bgp.type': '4' },
      {
        'bgp.type': '2',
        'bgp.nlri_prefix': '203.0.113.0',
        'bgp.update.path_attribute.as_path_segment.as4': '65550,64512,64513,64514',
        'bgp.update.path_attribute.community_as': '65002',
        'bgp.large_communities.ga': '65002',
      },
      {
        'bgp.type': '2',
        'bgp.mp_reach_nlri_ipv6_prefix': '2001:db8:100::',
        'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local': 'fe80::1',
        'bgp.update.path_attribute.as_path_segment.as4': '65550,64512,64513,64514',
        'bgp.update.path_attribute.community_as': '65002',
        'bgp.large_communities.ga': '65002',
      },
      { 'bgp.type': '2', 'bgp.withdrawn_prefix': '203.0.113.0' },
      { 'bgp.type': '2', 'bgp.mp_unreach_nlri_ipv6_prefix': '2001:db8:100::' },
      { 'bgp.type': '2' },
      { 'bgp.type': '5', 'bgp.route_refresh.afi': '2' },
      { 'bgp.type': '3', 'bgp.notify.communication': 'maintenance window' },
    ]);
  });
});
