/**
 * Runs inside a lab namespace (`ip netns exec NS node bfd-peers-script.js ...`): BFD
 * sessions with the given peers over the transport on `interface`, printing each state
 * change as a JSON line. SIGTERM is a planned stop: AdminDown (RFC 5880 6.8.16), sent for
 * 200 ms, then exit.
 *
 *   node bfd-peers-script.js <interface> <local-address> <interval-ms> <multiplier> <peer>...
 */
import { BfdPeers } from '../../src/liveness/bfd-peers.js';
import { BFD_CAPTURE_FILTER, BfdTransport } from '../../src/liveness/bfd-transport.js';
import { openPcapLink } from '../../src/link/pcap-link.js';
import { systemClock } from '../../src/time.js';

const [interfaceName = '', local = '', intervalMs = '50', multiplier = '3', ...peers] = process.argv.slice(2);
const print = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const link = await openPcapLink({ interfaceName, filter: BFD_CAPTURE_FILTER });
const transport = await BfdTransport.open(link, [local]);
const sessions = new BfdPeers(transport, peers.map((address) => ({ address, local })), { intervalMs: Number(intervalMs), multiplier: Number(multiplier) }, systemClock);
sessions.on('state', (change) => print({ event: 'state', ...change }));
sessions.start();
print({ event: 'started' });
process.once('SIGTERM', () => {
  sessions.adminDown();
  setTimeout(() => {
    sessions.stop();
    transport.close();
    link.close();
  }, 200);
});
