import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/lab/lab.js';
import { ArpOperation } from '../../src/wire/arp.js';
import { encodeArpFrame, encodeNdpFrame } from '../../src/wire/frame.js';
import { solicitedNodeMulticast } from '../../src/wire/ip-address.js';
import { captureDuring, tsharkFields } from '../helpers/capture.js';
import { labTest, sharedLab } from '../helpers/root.js';
import { startVipkitJson, until, type VipkitProcess } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

const LINK_SCRIPT = fileURLToPath(new URL('../link/link-script.js', import.meta.url));

/** node1 announces VIPs that no interface holds; the client's kernel and iputils are the judges. */
const SPEC = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24', '2001:db8:2::10/64'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'node2', addresses: ['192.0.2.12/24', '192.0.2.120/24'] },
  ],
};

/** Starts `vipkit announce` in `host` and resolves once it has announced every address. */
async function startAnnounce(lab: Lab, host: string, args: string[]): Promise<VipkitProcess> {
  const announce = startVipkitJson(lab, host, ['announce', '--json', ...args]);
  let exited = false;
  void announce.exited.then(() => (exited = true));
  await until('announce announced its addresses', () => {
    if (exited) throw new Error(`announce exited: ${announce.stderr()}`);
    return announce.events.some((event) => event.event === 'announced');
  }, 15_000);
  return announce;
}

describe('vipkit announce --l2 in a namespace lab', () => {
  const lab = sharedLab(SPEC);

  labTest('the client kernel resolves the VIP to our MAC, over ARP and NDP, and iputils arping gets answers', async () => {
    const announce = await startAnnounce(lab(), 'node1', ['--l2', '-I', 'eth0', '--for', '30', '192.0.2.100', '2001:db8:2::100']);
    try {
      // Any datagram makes the client's kernel resolve the next hop; port 9 is discard.
      await lab().exec('client', ['bash', '-c', 'echo > /dev/udp/192.0.2.100/9; echo > /dev/udp/2001:db8:2::100/9']);
      const neighbours = async () => JSON.parse((await lab().exec('client', ['ip', '-j', 'neigh', 'show', 'dev', 'eth0'])).stdout) as { dst: string; lladdr?: string }[];
      let table = await neighbours();
      for (let attempt = 0; attempt < 50 && !['192.0.2.100', '2001:db8:2::100'].every((ip) => table.some((entry) => entry.dst === ip && entry.lladdr)); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        table = await neighbours();
      }
      for (const ip of ['192.0.2.100', '2001:db8:2::100']) {
        assert.equal(table.find((entry) => entry.dst === ip)?.lladdr, lab().mac('node1'), `${ip} resolves to node1`);
      }
      const arping = await lab().exec('client', ['arping', '-c', '2', '-I', 'eth0', '192.0.2.100']);
      assert.equal(arping.code, 0, arping.stdout + arping.stderr);
      assert.match(arping.stdout, new RegExp(`\\[${lab().mac('node1').toUpperCase()}\\]`));
      assert.match(arping.stdout, /Received 2 response/);
    } finally {
      assert.equal(await announce.stop(), 0);
    }
    const summary = announce.events.at(-1)!;
    assert.equal(summary.event, 'summary');
    assert.ok((summary['answered'] as number) >= 2);
  });

  labTest('the gratuitous burst, captured on another host, reads cleanly in tshark', async () => {
    let code = -1;
    const capture = await captureDuring(lab(), 'client', 'arp or icmp6', async () => {
      const announce = await startAnnounce(lab(), 'node1', ['--l2', '-I', 'eth0', '--garp-count', '3', '--garp-interval', '0.1', '192.0.2.101', '2001:db8:2::101']);
      await new Promise((resolve) => setTimeout(resolve, 600));
      code = await announce.stop();
    });
    try {
      assert.equal(code, 0);
      const arp = tsharkFields(capture.file, ['arp.isgratuitous', 'arp.src.hw_mac', 'arp.src.proto_ipv4'], 'arp.isgratuitous == 1');
      assert.equal(arp.length, 3);
      for (const frame of arp) {
        assert.equal(frame['arp.src.hw_mac'], lab().mac('node1'));
        assert.equal(frame['arp.src.proto_ipv4'], '192.0.2.101');
        assert.equal(frame['_ws.malformed'], '');
      }
      const na = tsharkFields(capture.file, ['icmpv6.nd.na.target_address', 'icmpv6.nd.na.flag.o', 'icmpv6.checksum.status'], 'icmpv6.type == 136');
      assert.equal(na.length, 3);
      for (const frame of na) {
        assert.deepEqual(frame, { 'icmpv6.nd.na.target_address': '2001:db8:2::101', 'icmpv6.nd.na.flag.o': '1', 'icmpv6.checksum.status': '1', '_ws.expert.message': '', '_ws.malformed': '' });
      }
    } finally {
      capture.dispose();
    }
  });

  labTest('the conflict probe is paced by --garp-rate: three probes per silent address, never faster', async () => {
    const rate = 100;
    let code = -1;
    const capture = await captureDuring(lab(), 'client', 'arp', async () => {
      const announce = await startAnnounce(lab(), 'node1', ['--l2', '-I', 'eth0', '--garp-rate', String(rate), '--garp-count', '1', '192.0.2.160-192.0.2.219']);
      code = await announce.stop();
    });
    try {
      assert.equal(code, 0);
      const probes = tsharkFields(capture.file, ['frame.time_epoch'], 'arp.opcode == 1 && arp.src.proto_ipv4 == 0.0.0.0').map((frame) => Number(frame['frame.time_epoch']));
      assert.equal(probes.length, 180, 'RFC 5227: three probes for each of 60 addresses nobody answers');
      // However slow the machine, never more than the rate in any second (and one frame of slack).
      const busiestSecond = Math.max(...probes.map((start) => probes.filter((at) => at >= start && at < start + 1).length));
      assert.ok(busiestSecond <= rate + 1, `${busiestSecond} probes within one second at --garp-rate ${rate}`);
    } finally {
      capture.dispose();
    }
  });

  labTest('malformed questions from the wire are counted and logged with the reason; answering goes on', async () => {
    const announce = await startAnnounce(lab(), 'node1', ['--l2', '-I', 'eth0', '--for', '30', '192.0.2.102', '2001:db8:2::102']);
    try {
      const client = lab().mac('client');
      const arp = encodeArpFrame({ source: client, destination: 'ff:ff:ff:ff:ff:ff', arp: { operation: ArpOperation.Request, senderMac: client, senderIp: '192.0.2.10', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.102' } });
      arp[18] = 7; // hardware address length
      const solicitation = encodeNdpFrame({ source: client, destination: '33:33:ff:00:01:02', ipSource: '2001:db8:2::10', ipDestination: solicitedNodeMulticast('2001:db8:2::102'), ndp: { type: 'neighbor-solicitation', target: '2001:db8:2::102', sourceLinkLayer: client } });
      solicitation[56] = (solicitation[56]! + 1) & 0xff; // ICMPv6 checksum
      for (const frame of [arp, solicitation]) {
        const sent = await lab().exec('client', [process.execPath, LINK_SCRIPT, 'eth0', 'less 1', frame.toString('hex'), '0']);
        assert.match(sent.stdout, /"event":"sent"/, sent.stderr);
      }
      await until('announce logged both malformed frames', () => announce.events.filter((event) => event.event === 'malformed').length === 2);
      const arping = await lab().exec('client', ['arping', '-c', '1', '-I', 'eth0', '192.0.2.102']);
      assert.match(arping.stdout, /Received 1 response/);
    } finally {
      assert.equal(await announce.stop(), 0);
    }
    const reasons = announce.events.filter((event) => event.event === 'malformed').map((event) => event['reason']);
    assert.match(String(reasons[0]), /hardware address length 7, expected 6/);
    assert.match(String(reasons[1]), /checksum 0x[0-9a-f]+ is wrong/);
    assert.equal(announce.events.at(-1)!['malformed'], 2);
  });

  labTest('an address another host answers for, one this host holds, or one no host can hold is refused with exit 2', async () => {
    const taken = await lab().exec('node1', [process.execPath, VIPKIT, 'announce', '--l2', '-I', 'eth0', '192.0.2.120']);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, new RegExp(`192\\.0\\.2\\.120 is already answered by ${lab().mac('node2')}; refusing`));
    const own = await lab().exec('node1', [process.execPath, VIPKIT, 'announce', '--l2', '-I', 'eth0', '192.0.2.11']);
    assert.equal(own.code, 2);
    assert.match(own.stderr, /192\.0\.2\.11 is configured on eth0 of this host/);
    const broadcast = await lab().exec('node1', [process.execPath, VIPKIT, 'announce', '--l2', '-I', 'eth0', '255.255.255.255']);
    assert.equal(broadcast.code, 2);
    assert.match(broadcast.stderr, /255\.255\.255\.255 is the limited broadcast address/);
    const noInterface = await lab().exec('node1', [process.execPath, VIPKIT, 'announce', '--l2', '192.0.2.130']);
    assert.equal(noInterface.code, 2);
    assert.match(noInterface.stderr, /needs the interface to use: -I <name>/);
  });
});
