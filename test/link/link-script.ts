/**
 * Runs inside a lab namespace (`ip netns exec NS node link-script.js ...`), because Node
 * cannot enter a namespace itself. Opens a pcap link, optionally sends one frame, and
 * prints JSON lines: `open`, `sent`, `own-frame` when it hears itself send, then the first
 * frame from another host (`frame`) or `timeout`.
 *
 *   node link-script.js <interface> <filter> <frame-hex or ""> <wait-ms> [snapshot-length]
 */
import { openPcapLink } from '../../src/link/pcap-link.js';
import { LinkError } from '../../src/link/link-error.js';

const [interfaceName = '', filter = '', frameHex = '', waitMs = '0', snapshotLength = ''] = process.argv.slice(2);

function print(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event, (_key, value) => (typeof value === 'bigint' ? String(value) : value))}\n`);
}

try {
  const link = await openPcapLink({ interfaceName, filter, snapshotLength: snapshotLength === '' ? undefined : Number(snapshotLength) });
  print({ event: 'open', mac: link.mac });
  const timer = setTimeout(() => {
    print({ event: 'timeout' });
    link.close();
  }, Number(waitMs));
  const ownMac = Buffer.from(link.mac.replaceAll(':', ''), 'hex');
  link.onFrame((frame) => {
    // The link hears its own transmissions too: report them, then wait for someone else's.
    if (frame.data.subarray(6, 12).equals(ownMac)) {
      print({ event: 'own-frame', hex: frame.data.toString('hex'), receivedAt: frame.receivedAt });
      return;
    }
    print({ event: 'frame', hex: frame.data.toString('hex'), receivedAt: frame.receivedAt });
    clearTimeout(timer);
    link.close();
  });
  if (frameHex !== '') print({ event: 'sent', sentAt: link.send(Buffer.from(frameHex, 'hex')) });
} catch (error) {
  if (!(error instanceof LinkError)) throw error;
  print({ event: 'error', reason: error.reason, message: error.message });
  process.exitCode = 2;
}
