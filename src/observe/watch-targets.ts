import { addressValue, familyOf, parseAddressRange, type AddressRange } from '../pools/address-range.js';

/**
 * The addresses a watch reports on: any mix of addresses, CIDRs and ranges of both
 * families, matched without enumerating them (a watch may cover a whole /16).
 */
export class WatchTargets {
  private readonly ranges: AddressRange[];
  /** Answers already worked out: a busy segment repeats the same few addresses. */
  private readonly known = new Map<string, boolean>();

  /** Throws AddressRangeError for a target written wrongly. */
  constructor(readonly specs: string[]) {
    this.ranges = specs.map(parseAddressRange);
  }

  has(ip: string): boolean {
    let answer = this.known.get(ip);
    if (answer === undefined) {
      const family = familyOf(ip);
      const value = family === undefined ? undefined : addressValue(ip);
      answer = value !== undefined && this.ranges.some((range) => range.family === family && range.first <= value && value <= range.last);
      if (this.known.size >= MAX_REMEMBERED) this.known.clear();
      this.known.set(ip, answer);
    }
    return answer;
  }
}

const MAX_REMEMBERED = 100_000;
