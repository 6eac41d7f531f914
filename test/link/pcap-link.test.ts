import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLab, type Lab } from '../../src/lab/lab.js';
import { LinkError } from '../../src/link/link-error.js';
import { openPcapLink } from '../../src/link/pcap-link.js';
import { labTest } from '../helpers/root.js';

const SCRIPT = fileURLToPath(new URL('./link-script.js', import.meta.url));
const SPEC = {
  hosts: [
    { name: 'a', addresses: ['192.0.2.11/24'] },
    { name: 'b', addresses: ['192.0.2.12/24'] },
    { name: 'v6only', addresses: ['2001:db8:2::13/64'] },
  ],
};

interface ScriptEvent {
  event: string;
  mac?: string;
  hex?: string;
  sentAt?: string;
  receivedAt?: string;
  reason?: string;
  message?: string;
}

async function runScript(lab: Lab, host: string, filter: string, frame: Buffer, waitMs: number, runAs: string[] = [], snapshotLength = '') {
  const argv = [...runAs, process.execPath, SCRIPT, 'eth0', filter, frame.toString('hex'), String(waitMs), snapshotLength];
  const result = await lab.exec(host, argv);
  const events = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ScriptEvent);
  return { events, stderr: result.stderr, code: result.code };
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.replaceAll(':', ''), 'hex');
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** ARP who-has `targetIp` tell `senderIp` (RFC 826), broadcast: 14 + 28 = 42 bytes. */
function arpRequest(senderMac: string, senderIp: string, targetIp: string): Buffer {
  const frame = Buffer.concat([
    Buffer.from('ffffffffffff', 'hex'), // destination: broadcast
    macBytes(senderMac), // source
    Buffer.from('0806', 'hex'), // EtherType ARP
    Buffer.from('0001', 'hex'), // hardware type Ethernet
    Buffer.from('0800', 'hex'), // protocol type IPv4
    Buffer.from('0604', 'hex'), // hardware length 6, protocol length 4
    Buffer.from('0001', 'hex'), // operation: request
    macBytes(senderMac), // sender hardware address
    ipv4Bytes(senderIp), // sender protocol address
    Buffer.alloc(6), // target hardware address: unknown
    ipv4Bytes(targetIp), // target protocol address
  ]);
  assert.equal(frame.length, 42);
  return frame;
}

labTest('a pcap link sends an ARP request and receives the other kernel\'s reply', async () => {
  await withLab(SPEC, async (lab) => {
    const { events, stderr } = await runScript(lab, 'a', 'arp', arpRequest(lab.mac('a'), '192.0.2.11', '192.0.2.12'), 3000);
    assert.equal(stderr, '', 'cap prints nothing for an interface with an IPv4 address');
    const [open, sent, own, received] = events;
    assert.deepEqual(open, { event: 'open', mac: lab.mac('a') });
    assert.equal(sent?.event, 'sent');
    assert.equal(own?.event, 'own-frame', 'the link hears its own request leave');
    assert.ok(BigInt(own!.receivedAt!) >= BigInt(sent!.sentAt!), 'it leaves after send() was called');
    assert.equal(received?.event, 'frame', JSON.stringify(events));
    const reply = Buffer.from(received!.hex!, 'hex');
    assert.ok(reply.subarray(0, 6).equals(macBytes(lab.mac('a'))), 'addressed to a');
    assert.ok(reply.subarray(6, 12).equals(macBytes(lab.mac('b'))), 'sent by b');
    assert.equal(reply.readUInt16BE(12), 0x0806);
    assert.equal(reply.readUInt16BE(20), 2, 'an ARP reply');
    assert.ok(reply.subarray(22, 28).equals(macBytes(lab.mac('b'))), 'b is at its own MAC');
    assert.ok(reply.subarray(28, 32).equals(ipv4Bytes('192.0.2.12')));
    // Without libpcap's immediate mode the reply would wait for the 1 s read timeout.
    const rttMs = Number(BigInt(received!.receivedAt!) - BigInt(sent!.sentAt!)) / 1e6;
    assert.ok(rttMs > 0 && rttMs < 100, `reply after ${rttMs} ms`);
  });
});

labTest('cap prints nothing for an interface without IPv4 (patched), and cuts frames at the snapshot length', async () => {
  await withLab(SPEC, async (lab) => {
    const { events, stderr } = await runScript(lab, 'v6only', 'arp', Buffer.alloc(0), 200);
    assert.equal(stderr, '');
    assert.deepEqual(events[0], { event: 'open', mac: lab.mac('v6only') });
    // 60 bytes of an unknown EtherType from a, captured by b with a 20-byte snapshot.
    const frame = Buffer.alloc(60);
    frame.fill(0xff, 0, 6);
    macBytes(lab.mac('a')).copy(frame, 6);
    frame.writeUInt16BE(0x88b5, 12);
    const listening = runScript(lab, 'b', 'ether proto 0x88b5', Buffer.alloc(0), 5000, [], '20');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await runScript(lab, 'a', 'ether proto 0x88b5', frame, 100);
    const received = (await listening).events.find((event) => event.event === 'frame');
    assert.equal(received?.hex, frame.subarray(0, 20).toString('hex'));
  });
});

labTest('a frame sent on a pcap link is seen by tcpdump in the other namespace', async () => {
  await withLab(SPEC, async (lab) => {
    const tcpdump = lab.spawn('b', ['tcpdump', '-i', 'eth0', '-n', '-e', '-l', '-c', '1', 'ether proto 0x88b5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    tcpdump.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let diagnostics = '';
    await new Promise<void>((resolve) =>
      tcpdump.stderr!.on('data', (chunk: Buffer) => {
        diagnostics += chunk.toString();
        if (diagnostics.includes('listening on')) resolve();
      }),
    );
    const exited = once(tcpdump, 'exit');
    // IEEE 802 local experimental EtherType, padded to the 60-byte Ethernet minimum.
    const frame = Buffer.alloc(60);
    frame.fill(0xff, 0, 6);
    macBytes(lab.mac('a')).copy(frame, 6);
    frame.writeUInt16BE(0x88b5, 12);
    frame.write('vipkit link test', 14);
    const { events } = await runScript(lab, 'a', 'ether proto 0x88b5', frame, 0);
    assert.equal(events[1]?.event, 'sent');
    await exited;
    assert.match(output, new RegExp(`${lab.mac('a')} > ff:ff:ff:ff:ff:ff, ethertype Unknown \\(0x88b5\\), length 60`));
  });
});

labTest('opening a link on a down interface fails with interface-down', async () => {
  await withLab(SPEC, async (lab) => {
    await lab.exec('a', ['ip', 'link', 'set', 'eth0', 'down']);
    const { events, code } = await runScript(lab, 'a', 'arp', Buffer.alloc(0), 0);
    assert.equal(code, 2);
    assert.deepEqual(events, [
      {
        event: 'error',
        reason: 'interface-down',
        message: 'eth0 is not up (administratively down or no carrier): see `ip link show eth0`',
      },
    ]);
  });
});

labTest('an invalid filter fails with open-failed, and the process survives garbage collection', async () => {
  await withLab(SPEC, async (lab) => {
    // Collecting a cap object whose open() failed used to kill the process at exit.
    const { events, code } = await runScript(lab, 'a', 'no such filter', Buffer.alloc(0), 0);
    assert.equal(code, 2);
    assert.equal(events[0]?.reason, 'open-failed');
    assert.match(events[0]?.message ?? '', /^capture filter "no such filter" for eth0 is invalid: /);
  });
});

labTest('opening a link without CAP_NET_RAW fails with permission', async () => {
  await withLab(SPEC, async (lab) => {
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const { events, code } = await runScript(lab, 'a', 'arp', Buffer.alloc(0), 0, nobody);
    assert.equal(code, 2);
    assert.deepEqual(events[0], {
      event: 'error',
      reason: 'permission',
      message:
        'capturing on eth0 needs CAP_NET_RAW: run as root or `setcap cap_net_raw,cap_net_admin+eip $(which node)`',
    });
  });
});

test('opening an unknown interface fails with no-such-interface and lists the real ones', async () => {
  await assert.rejects(openPcapLink({ interfaceName: 'vk-nope0', filter: 'arp' }), (error: unknown) => {
    assert.ok(error instanceof LinkError);
    assert.equal(error.reason, 'no-such-interface');
    assert.match(error.message, /^no interface named vk-nope0; interfaces here: .*\blo\b/);
    return true;
  });
});
