/**
 * `--peer` in the compound grammar of DESIGN.md, for the commands that speak to several
 * routers (`announce`, `run`): an address, then comma-separated key=value options; the
 * global flags (`--my-asn`, `--peer-asn`, ...) are defaults for every peer.
 *   --peer 192.0.2.1,asn=65002,hold-time=9 --peer [2001:db8:2::1]:1179,asn=65003
 */
import { InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';
import { defaultRouterId, parseAddress, parseAsn, parseHoldTime, parsePeerAddress, parsePort, parseRouterId } from '../cli/bgp-options.js';
import { UserError } from '../user-error.js';

export interface PeerSpec {
  address: string;
  port: number;
  asn: number;
  myAsn: number;
  routerId: string;
  holdTime: number;
  sourceAddress?: string;
}

export interface PeerDefaults {
  port: number;
  holdTime: number;
  asn?: number;
  myAsn?: number;
  routerId?: string;
  sourceAddress?: string;
}

/** Thrown for a --peer the user wrote wrongly; the command turns it into exit 2. */
export class PeerSpecError extends UserError {
  override readonly name = 'PeerSpecError';
}

const KNOWN = ['asn', 'my-asn', 'port', 'hold-time', 'router-id', 'source-address'];

/** Node's sockets can set neither a TTL nor a TCP-MD5 key (DESIGN.md). */
const UNSUPPORTED: Record<string, string> = {
  password: 'TCP-MD5 passwords (RFC 2385) need a socket option Node.js cannot set; vipkit does not support them',
  'ebgp-multihop': 'eBGP multihop needs a socket TTL Node.js cannot set; vipkit speaks to directly connected peers only',
};

export function parsePeerSpec(text: string, defaults: PeerDefaults): PeerSpec {
  const [head = '', ...items] = text.split(',');
  const { address, port } = splitAddressPort(head);
  const values: Partial<PeerSpec> = { port };
  for (const item of items) {
    const equals = item.indexOf('=');
    const key = equals < 0 ? item : item.slice(0, equals);
    const value = item.slice(equals + 1);
    if (Object.hasOwn(UNSUPPORTED, key)) throw new PeerSpecError(`--peer ${head}: ${UNSUPPORTED[key]}.`);
    if (equals < 0) throw new PeerSpecError(`--peer ${head}: "${item}" is not an option; write options as key=value, like asn=65002.`);
    if (!KNOWN.includes(key)) throw new PeerSpecError(`--peer ${head}: unknown option "${key}"; known: ${KNOWN.join(', ')}.`);
    try {
      if (key === 'asn') values.asn = parseAsn(value);
      else if (key === 'my-asn') values.myAsn = parseAsn(value);
      else if (key === 'port') values.port = parsePort(value);
      else if (key === 'hold-time') values.holdTime = parseHoldTime(value);
      else if (key === 'router-id') values.routerId = parseRouterId(value);
      else values.sourceAddress = parseAddress(value);
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw new PeerSpecError(`--peer ${head}, ${key}: ${error.message}`);
      throw error;
    }
  }
  const asn = values.asn ?? defaults.asn;
  const myAsn = values.myAsn ?? defaults.myAsn;
  if (asn === undefined) throw new PeerSpecError(`--peer ${head} has no AS number: add asn=<n> to it, or give --peer-asn.`);
  if (myAsn === undefined) throw new PeerSpecError(`--peer ${head}: our AS number is unknown: give --my-asn (or my-asn=<n> in the --peer).`);
  const sourceAddress = values.sourceAddress ?? defaults.sourceAddress;
  if (sourceAddress !== undefined && isIP(sourceAddress) !== isIP(address)) {
    throw new PeerSpecError(`--peer ${head}: the source address ${sourceAddress} is not of the peer's address family.`);
  }
  const routerId = values.routerId ?? defaults.routerId ?? defaultRouterId(sourceAddress);
  if (routerId === undefined) throw new PeerSpecError('no IPv4 address here to use as the router id: give --router-id.');
  return {
    address,
    port: values.port ?? defaults.port,
    asn,
    myAsn,
    routerId,
    holdTime: values.holdTime ?? defaults.holdTime,
    ...(sourceAddress !== undefined ? { sourceAddress } : {}),
  };
}

/** `192.0.2.1`, `192.0.2.1:1179`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:1179`. */
function splitAddressPort(text: string): { address: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  const ipv4WithPort = /^(\d+\.\d+\.\d+\.\d+):(.*)$/.exec(text);
  const [addressText, portText] = bracketed ? [bracketed[1]!, bracketed[2]] : ipv4WithPort ? [ipv4WithPort[1]!, ipv4WithPort[2]] : [text, undefined];
  if (isIP(addressText) === 0) throw new PeerSpecError(`--peer "${text}" does not start with an IP address (write an IPv6 peer as [2001:db8::1]).`);
  try {
    // Canonical text, so that it equals what a socket reports when this peer connects to us.
    const address = parsePeerAddress(addressText);
    return portText === undefined ? { address } : { address, port: parsePort(portText) };
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new PeerSpecError(`--peer ${text}: ${error.message}`);
    throw error;
  }
}
