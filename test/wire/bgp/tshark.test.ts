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
  toPathAttributes,
} from '../../../src/wire/bgp/index.js';
import { tsharkFields } from '../../helpers/capture.js';

// Independent eyes: text2pcap wraps each encoded message in its own Ethernet/IPv4/TCP
// segment to port 179 (sequence numbers running on), and tshark decodes the file.
const CONTEXT: SessionCodecContext = { fourOctetAs: true, extendedMessage: false };

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
  'bgp.mp_reach_nlri_ipv4_prefix',
  'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6',
  'bgp.update.path_attribute.originator_id',
  'bgp.path_attribute.cluster_id',
  'bgp.ext_com.value_as2',
  'bgp.update.attribute.aigp.accu_igp_metric',
  'bgp.route_refresh.orf.entry.sequence',
  'bgp.route_refresh.orf.entry.ip',
  'bgp.route_refresh.orf.entry.prefixmask_upper',
];

function tsharkReading(messages: Buffer[]): Array<Record<string, string>> {
  const directory = mkdtempSync(join(tmpdir(), 'vipkit-bgp-'));
  try {
    const dump = messages.map((message) => `000000 ${message.toString('hex').replace(/../g, '$& ')}\n`).join('\n');
    writeFileSync(join(directory, 'messages.txt'), dump);
    execFileSync('text2pcap', ['-q', '-4', '192.0.2.10,192.0.2.11', '-T', '40000,179', join(directory, 'messages.txt'), join(directory, 'encoded.pcap')]);
    return tsharkFields(join(directory, 'encoded.pcap'), FIELDS).map((row) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== '')));
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
      // RFC 8950 extended next hop, and the attributes of route reflection, RFC 4360 and 7311.
      encodeMessage(
        {
          type: 'update',
          withdrawn: [],
          nlri: [],
          attributes: [
            { type: 'mp-reach', afi: 1, safi: 1, nextHop: '2001:db8:2::10', prefixes: ['198.51.100.0/24'] },
            ...toPathAttributes({ origin: 'igp', asPath: [], originatorId: '192.0.2.99', clusterList: ['192.0.2.1'], extendedCommunities: [Buffer.from('0002fdea00000064', 'hex')], aigp: 42n }, CONTEXT),
          ],
        },
        CONTEXT,
      ),
      // RFC 5291/5292: Address Prefix ORF, add permit seq 10 203.0.113.0/24 le 32, under
      // Cisco's code 128 (the same format): tshark 4.0 decodes no other.
      routeRefresh.encode({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0, orf: { whenToRefresh: 1, filters: [{ orfType: 128, entries: Buffer.from([0x00, 0, 0, 0, 10, 0, 32, 24, 203, 0, 113]) }] } }),
    ];
    const fields = tsharkReading(payloads);
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
        'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6': '2001:db8:2::10',
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
      {
        'bgp.type': '2',
        'bgp.mp_reach_nlri_ipv4_prefix': '198.51.100.0',
        'bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6': '2001:db8:2::10',
        'bgp.update.path_attribute.originator_id': '192.0.2.99',
        'bgp.path_attribute.cluster_id': '192.0.2.1',
        'bgp.ext_com.value_as2': '65002',
        'bgp.update.attribute.aigp.accu_igp_metric': '42',
      },
      { 'bgp.type': '5', 'bgp.route_refresh.afi': '1', 'bgp.route_refresh.orf.entry.sequence': '10', 'bgp.route_refresh.orf.entry.ip': '203.0.113.0', 'bgp.route_refresh.orf.entry.prefixmask_upper': '32' },
    ]);
  });
});
