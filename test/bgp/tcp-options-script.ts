/**
 * Runs inside a lab namespace (`ip netns exec NS node tcp-options-script.js ...`): BGP
 * sessions (AS 64800 to AS 65002) whose TCP connections carry a TTL and TCP-MD5 keys
 * (src/bgp/tcp-options.ts), printing each state change and accepted connection as a JSON
 * line until SIGTERM, which stops them with a Cease and exits 0. `listen` takes the
 * connections of one or more peers on one listener, as BgpListener would.
 *
 *   node tcp-options-script.js dial <local> <ttl|-> <peer> <password|->
 *   node tcp-options-script.js listen <local> <ttl|-> <peer> <password|-> [<peer> <password|->]...
 */
import { isIPv4 } from 'node:net';
import net from 'node:net';
import { BgpSession, BGP_PORT, handOverConnection, type Dial } from '../../src/bgp/session.js';
import { applyTcpOptions, dialWithTcpOptions, type PeerKey } from '../../src/bgp/tcp-options.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/wire/bgp/registry.js';

const [mode, local = '', ttlArgument, ...pairs] = process.argv.slice(2);
const given = (value: string | undefined) => (value === undefined || value === '-' ? undefined : value);
const print = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const ttl = given(ttlArgument) === undefined ? undefined : Number(ttlArgument);
const passive = mode === 'listen';

const peers: PeerKey[] = [];
for (let index = 0; index < pairs.length; index += 2) peers.push({ peer: pairs[index]!, password: given(pairs[index + 1]) ?? '' });

function newSession(peer: PeerKey, dial?: Dial): BgpSession {
  const config = {
    peerAddress: peer.peer,
    port: BGP_PORT,
    localAddress: passive ? undefined : local,
    localAs: 64800,
    peerAs: 65002,
    routerId: '192.0.2.11',
    holdTime: 90,
    families: [isIPv4(peer.peer) ? IPV4_UNICAST : IPV6_UNICAST],
    passive,
    connectRetry: { initialSeconds: 1, maxSeconds: 2 },
  };
  const session = new BgpSession(config, dial);
  session.on('state', ({ from, to, reason }) => print({ event: 'state', peer: peer.peer, from, to, reason }));
  return session;
}

let server: net.Server | undefined;
const sessions = new Map<string, BgpSession>();
if (passive) {
  for (const peer of peers) sessions.set(peer.peer, newSession(peer));
  server = net.createServer((socket) => {
    print({ event: 'accepted', from: socket.remoteAddress });
    handOverConnection(socket, (address) => sessions.get(address) ?? `${address} is not a peer`);
  });
  await new Promise<void>((resolve) => server!.listen({ host: local, port: BGP_PORT }, resolve));
  // As BgpListener would: the TTL and keys on the listening socket, inherited by what it accepts.
  applyTcpOptions(server, { ttl, keys: peers.filter((peer) => peer.password !== '') });
  print({ event: 'listening' });
} else {
  const [peer] = peers;
  sessions.set(peer!.peer, newSession(peer!, dialWithTcpOptions({ ttl, password: peer!.password || undefined })));
}
for (const session of sessions.values()) session.start();

process.once('SIGTERM', () => {
  server?.close();
  void Promise.all([...sessions.values()].map((session) => session.stop('test done'))).then(() => process.exit(0));
});
