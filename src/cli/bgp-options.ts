/**
 * Option values every BGP command reads (bgp-peer, announce, pools): AS numbers, router
 * ids, peer addresses, ports and address families, as commander `argParser`s. The values
 * are parsed in pools/value-parsers.ts, shared with the compound `--peer` grammar; here a
 * refusal only becomes commander's InvalidArgumentError, which names the option.
 */
import { InvalidArgumentError } from 'commander';
import { isIPv4 } from 'node:net';
import { listInterfaces } from '../link/interfaces.js';
import * as values from '../pools/value-parsers.js';

/** The core parser as an argParser: its ValueError becomes commander's error, with the same sentence. */
function optionParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof values.ValueError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

export const parseAsn = optionParser(values.parseAsn);
export const parseRouterId = optionParser(values.parseRouterId);
export const parseAddress = optionParser(values.parseAddress);
export const parsePeerAddress = optionParser(values.parsePeerAddress);
export const parsePort = optionParser(values.parsePort);
export const parseHoldTime = optionParser(values.parseHoldTime);
export const parseFamilies = optionParser(values.parseFamilies);

/**
 * The router id to use when none was given: `preferred` if it is IPv4 (the session's
 * source address), else the first IPv4 address of this host that is not loopback.
 */
export function defaultRouterId(preferred?: string): string | undefined {
  if (preferred !== undefined && isIPv4(preferred)) return preferred;
  for (const iface of listInterfaces()) {
    const address = iface.loopback ? undefined : iface.ipv4[0];
    if (address) return address.address;
  }
  return undefined;
}
