/**
 * Option values every BGP command reads (bgp-peer, announce, pools): AS numbers, router
 * ids, peer addresses, ports and address families, as commander `argParser`s. The values
 * are parsed in pools/value-parsers.ts, shared with the compound `--peer` grammar; here a
 * refusal only becomes commander's InvalidArgumentError, which names the option.
 */
import { InvalidArgumentError } from 'commander';
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
