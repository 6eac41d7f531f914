import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { captureDuring, tsharkFields } from '../helpers/capture.js';
import { labTest, sharedLab } from '../helpers/root.js';
import { VIPKIT } from '../cli/run-vipkit.js';

/**
 * vipkit watch live in the client namespace, against the Linux kernel answering ARP in
 * the others, with tcpdump beside it as the independent witness. The VIPs 192.0.2.100 and
 * 2001:db8:2::100 start on node1; 192.0.2.200 is held by node2 and node3 at once; nobody
 * holds .99.
 */
const SPEC = {
  hosts: [
    { name: 'client', addresses: ['192.0.2.10/24', '2001:db8:2::10/64'] },
    { name: 'node1', addresses: ['192.0.2.11/24', '192.0.2.100/24', '2001:db8:2::11/64', '2001:db8:2::100/64'] },
    { name: 'node2', addresses: ['192.0.2.12/24', '192.0.2.200/24', '2001:db8:2::12/64'] },
    { name: 'node3', addresses: ['192.0.2.13/24', '192.0.2.200/24'] },
  ],
};

type Event = Record<string, unknown> & { event: string };

const parse = (stdout: string): Event[] => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Event);
const withoutSummary = (events: Event[]) => events.filter((event) => event.event !== 'summary');

describe('vipkit watch in a namespace lab', () => {
  const lab = sharedLab(SPEC);

  function watch(...args: string[]) {
    return lab().exec('client', [process.execPath, VIPKIT, 'watch', '--json', '-I', 'eth0', ...args], { timeoutMs: 30_000 });
  }

  labTest('a VIP moved to another node with a gratuitous ARP: one move, the right MACs, the gap tcpdump saw; -r agrees', async () => {
    let live: Event[] = [];
    const capture = await captureDuring(lab(), 'client', 'arp', async () => {
      const watching = watch('--probe', '0.1', '--for', '3', '192.0.2.100');
      await delay(1200);
      // node2's kernel stays silent (arp_ignore 8) until its gratuitous ARP is out: else a
      // reply to a probe could show the new owner first, and the move would not be the gratuitous'.
      await lab().exec('node2', ['sysctl', '-qw', 'net.ipv4.conf.eth0.arp_ignore=8']);
      await lab().removeAddress('node1', '192.0.2.100/24');
      await lab().addAddress('node2', '192.0.2.100/24');
      await lab().exec('node2', ['arping', '-q', '-U', '-c', '1', '-I', 'eth0', '192.0.2.100']);
      await lab().exec('node2', ['sysctl', '-qw', 'net.ipv4.conf.eth0.arp_ignore=0']);
      const { code, stdout, stderr } = await watching;
      assert.equal(code, 0, stderr);
      live = parse(stdout);
    });
    try {
      const moves = live.filter((event) => event.event === 'moved');
      assert.equal(moves.length, 1, JSON.stringify(live));
      const [moved] = moves;
      assert.equal(moved!['from'], lab().mac('node1'));
      assert.equal(moved!['to'], lab().mac('node2'));
      assert.equal(moved!['interface'], 'eth0');
      const owner = live.find((event) => event.event === 'owner')!;
      assert.equal(owner['mac'], lab().mac('node1'));
      assert.equal(live.find((event) => event.event === 'gratuitous')!['changed_owner'], true);

      const frames = tsharkFields(capture.file, ['frame.time_epoch', 'arp.src.hw_mac'], 'arp.src.proto_ipv4 == 192.0.2.100');
      const times = (mac: string) => frames.filter((frame) => frame['arp.src.hw_mac'] === mac).map((frame) => Number(frame['frame.time_epoch']));
      const wireGapMs = (Math.min(...times(lab().mac('node2'))) - Math.max(...times(lab().mac('node1')))) * 1000;
      assert.ok(Math.abs((moved!['gap_ms'] as number) - wireGapMs) < 1, `gap ${moved!['gap_ms']} ms, tcpdump saw ${wireGapMs} ms`);

      // The same capture, read back: the same events.
      const read = await lab().exec('client', [process.execPath, VIPKIT, 'watch', '--json', '-r', capture.file, '192.0.2.100']);
      assert.equal(read.code, 0, read.stderr);
      const shape = (events: Event[]) => withoutSummary(events).map((event) => [event.event, event.ip, event['mac'], event['from'], event['to']]);
      assert.deepEqual(shape(parse(read.stdout)), shape(live));
      const fileMove = parse(read.stdout).find((event) => event.event === 'moved')!;
      assert.ok(Math.abs((fileMove['gap_ms'] as number) - (moved!['gap_ms'] as number)) < 1);
    } finally {
      capture.dispose();
    }
  });

  labTest('IPv6: the kernels answer --probe solicitations; a VIP moved to node2 is one move, as tshark saw the advertisements', async () => {
    let live: Event[] = [];
    const capture = await captureDuring(lab(), 'client', 'icmp6', async () => {
      const watching = watch('--probe', '0.1', '--for', '3', '2001:db8:2::100');
      await delay(1200);
      await lab().removeAddress('node1', '2001:db8:2::100/64');
      await lab().addAddress('node2', '2001:db8:2::100/64');
      const { code, stdout, stderr } = await watching;
      assert.equal(code, 0, stderr);
      live = parse(stdout);
    });
    try {
      assert.equal(live.find((event) => event.event === 'owner')?.['mac'], lab().mac('node1'), JSON.stringify(live));
      const moves = live.filter((event) => event.event === 'moved');
      assert.equal(moves.length, 1, JSON.stringify(live));
      assert.equal(moves[0]!['from'], lab().mac('node1'));
      assert.equal(moves[0]!['to'], lab().mac('node2'));
      // The independent witness: advertisements for the VIP from both nodes, node1's first.
      const advertisements = tsharkFields(capture.file, ['frame.time_epoch', 'eth.src'], 'icmpv6.type == 136 && icmpv6.nd.na.target_address == 2001:db8:2::100');
      const senders = [...new Set(advertisements.map((frame) => frame['eth.src']))];
      assert.deepEqual(senders, [lab().mac('node1'), lab().mac('node2')]);
    } finally {
      capture.dispose();
    }
  });

  labTest('two nodes holding one address: a duplicate naming both MACs', async () => {
    const { code, stdout, stderr } = await watch('--probe', '0.2', '--for', '1', '192.0.2.200');
    assert.equal(code, 0, stderr);
    const duplicates = parse(stdout).filter((event) => event.event === 'duplicate');
    assert.equal(duplicates.length, 1, stdout);
    assert.deepEqual(new Set(duplicates[0]!['macs'] as string[]), new Set([lab().mac('node2'), lab().mac('node3')]));
    assert.equal(parse(stdout).filter((event) => event.event === 'moved').length, 0, 'a duplicate is no flip-flop');
  });

  labTest('an address nobody holds goes dark: unanswered, passively from the host\'s own requests and with --probe', async () => {
    const passive = watch('--for', '3.5', '192.0.2.99');
    await delay(500);
    await lab().exec('client', ['arping', '-q', '-c', '3', '-I', 'eth0', '192.0.2.99']);
    const { code, stdout, stderr } = await passive;
    assert.equal(code, 0, stderr);
    const unanswered = parse(stdout).filter((event) => event.event === 'unanswered');
    assert.equal(unanswered.length, 1, stdout);
    assert.equal(unanswered[0]!['ip'], '192.0.2.99');

    const probing = await watch('--probe', '0.2', '--for', '1.6', '192.0.2.99');
    assert.deepEqual(withoutSummary(parse(probing.stdout)).map((event) => event.event), ['unanswered']);
    const summary = parse(probing.stdout).at(-1)!;
    assert.ok(((summary['addresses'] as Event[])[0]!['dark_ms'] as number) > 1000);
  });

  labTest('usage errors exit 2 with one sentence', async () => {
    const run = (...args: string[]) => lab().exec('client', [process.execPath, VIPKIT, 'watch', ...args]);
    const noInterface = await run('--for', '1');
    assert.equal(noInterface.code, 2);
    assert.match(noInterface.stderr, /needs an interface to listen on/);
    assert.equal((await run('-r', '/dev/null', '-I', 'eth0')).code, 2);
    assert.equal((await run('-I', 'eth0', '--probe', '1', '--for', '1')).code, 2);
    assert.match((await run('-I', 'eth9')).stderr, /no interface named eth9/);
    assert.match((await run('-I', 'eth0', '192.0.2.0/33')).stderr, /not a valid CIDR/);
  });
});
