/**
 * Runs inside a lab namespace (`ip netns exec NS node bfd-transport-script.js ...`):
 * opens a BFD transport on `interface` and, for `wait-ms`, sends a Down control packet to
 * `peer` every 200 ms and prints each packet received (`control`) or discarded
 * (`discarded`) as a JSON line.
 *
 *   node bfd-transport-script.js <interface> <local-address> <peer> <wait-ms> <my-discriminator>
 */
import { BFD_CAPTURE_FILTER, BfdTransport } from '../../src/liveness/bfd-transport.js';
import { openPcapLink } from '../../src/link/pcap-link.js';
import type { BfdControlPacket } from '../../src/wire/bfd.js';

const [interfaceName = '', local = '', peer = '', waitMs = '0', myDiscriminator = '1'] = process.argv.slice(2);
const print = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event, (_key, value) => (typeof value === 'bigint' ? String(value) : value))}\n`);

const down: BfdControlPacket = {
  version: 1,
  diagnostic: 0,
  state: 'Down',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  multipoint: false,
  detectMultiplier: 3,
  myDiscriminator: Number(myDiscriminator),
  yourDiscriminator: 0,
  desiredMinTxInterval: 1_000_000,
  requiredMinRxInterval: 1_000_000,
  requiredMinEchoRxInterval: 0,
};

const link = await openPcapLink({ interfaceName, filter: BFD_CAPTURE_FILTER });
const transport = await BfdTransport.open(link, [local]);
transport.on('control', ({ from, to, packet }) => print({ event: 'control', from, to, state: packet.state, myDiscriminator: packet.myDiscriminator, yourDiscriminator: packet.yourDiscriminator }));
transport.on('discarded', ({ from, reason }) => print({ event: 'discarded', from, reason }));
print({ event: 'open' });
const sender = setInterval(() => transport.send(local, peer, down), 200);
setTimeout(() => {
  clearInterval(sender);
  transport.close();
  link.close();
}, Number(waitMs));
