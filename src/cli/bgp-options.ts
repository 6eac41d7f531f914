/**
 * Option values every BGP command reads (bgp-peer, announce, pools): AS numbers, router
 * ids, peer addresses, ports and address families, as commander `argParser`s. The values
 * are parsed in pools/value-parsers.ts, shared with the compound `--peer` grammar; here a
 * refusal only becomes commander's InvalidArgumentError, which names the option.
 */
import * as values from '../pools/value-parsers.js';
import { optionParser } from './parse.js';

export const parseAsn = optionParser(values.parseAsn);
export const parseRouterId = optionParser(values.parseRouterId);
export const parseAddress = optionParser(values.parseAddress);
export const parsePeerAddress = optionParser(values.parsePeerAddress);
export const parsePort = optionParser(values.parsePort);
export const parseHoldTime = optionParser(values.parseHoldTime);
export const parseFamilies = optionParser(values.parseFamilies);
