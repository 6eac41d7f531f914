import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ArpOperation } from '../../src/wire/arp.js';
import { encodeArpFrame, encodeNdpFrame } from '../../src/wire/frame.js';
import { ipv6MulticastMac, solicitedNodeMulticast } from '../../src/wire/ip-address.js';

// Independent eyes: tshark (installed by scripts/setup.sh) decodes what the encoders write.
const MAC_A = '02:00:5e:10:00:0a';
const MAC_B = '02:00:5e:10:00:0b';
const VLAN_100 = { id: 100, priority: 5, dropEligible: false };

/** Classic libpcap file (not pcapng): 24-byte header, then a 16-byte header per frame. */
function pcapFile(frames: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const records = frames.map((frame) => {
    const record = Buffer.alloc(16);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    return Buffer.concat([record, frame]);
  });
  return Buffer.concat([header, ...records]);
}

const FIELDS = [
  'frame.protocols',
  'vlan.id',
  'vlan.priority',
  'arp.opcode',
  'arp.src.proto_ipv4',
  'arp.dst.proto_ipv4',
  'ipv6.hlim',
  'icmpv6.checksum.status',
  'icmpv6.nd.ns.target_address',
  'icmpv6.nd.na.target_address',
  'icmpv6.nd.na.flag.r',
  'icmpv6.nd.na.flag.s',
  'icmpv6.nd.na.flag.o',
  'icmpv6.opt.linkaddr',
  '_ws.malformed',
];

function tsharkFields(frames: Buffer[]): Array<Record<string, string>> {
  const directory = mkdtempSync(join(tmpdir(), 'vipkit-wire-'));
  try {
    const file = join(directory, 'encoded.pcap');
    writeFileSync(file, pcapFile(frames));
    const output = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=/t', ...FIELDS.flatMap((field) => ['-e', field])], {
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

describe('encoders, read back by tshark', () => {
  it('agrees on every field and finds nothing malformed', () => {
    const target = '2001:db8:2::11';
    const frames = [
      encodeNdpFrame({
        source: MAC_A,
        destination: ipv6MulticastMac(solicitedNodeMulticast(target)),
        ipSource: '2001:db8:2::10',
        ipDestination: solicitedNodeMulticast(target),
        ndp: { type: 'neighbor-solicitation', target, sourceLinkLayer: MAC_A },
      }),
      encodeNdpFrame({
        source: MAC_B,
        destination: ipv6MulticastMac('ff02::1'),
        vlan: VLAN_100,
        ipSource: 'fe80::5eff:fe10:b',
        ipDestination: 'ff02::1',
        ndp: { type: 'neighbor-advertisement', router: true, solicited: false, override: true, target, targetLinkLayer: MAC_B },
      }),
      encodeArpFrame({
        source: MAC_B,
        destination: MAC_A,
        vlan: VLAN_100,
        arp: { operation: ArpOperation.Reply, senderMac: MAC_B, senderIp: '192.0.2.11', targetMac: MAC_A, targetIp: '192.0.2.10' },
      }),
    ];
    assert.deepEqual(tsharkFields(frames), [
      {
        'frame.protocols': 'eth:ethertype:ipv6:icmpv6',
        'ipv6.hlim': '255',
        'icmpv6.checksum.status': '1',
        'icmpv6.nd.ns.target_address': target,
        'icmpv6.opt.linkaddr': MAC_A,
      },
      {
        'frame.protocols': 'eth:ethertype:vlan:ethertype:ipv6:icmpv6',
        'vlan.id': '100',
        'vlan.priority': '5',
        'ipv6.hlim': '255',
        'icmpv6.checksum.status': '1',
        'icmpv6.nd.na.target_address': target,
        'icmpv6.nd.na.flag.r': '1',
        'icmpv6.nd.na.flag.s': '0',
        'icmpv6.nd.na.flag.o': '1',
        'icmpv6.opt.linkaddr': MAC_B,
      },
      {
        'frame.protocols': 'eth:ethertype:vlan:ethertype:arp',
        'vlan.id': '100',
        'vlan.priority': '5',
        'arp.opcode': '2',
        'arp.src.proto_ipv4': '192.0.2.11',
        'arp.dst.proto_ipv4': '192.0.2.10',
      },
    ]);
  });
});
