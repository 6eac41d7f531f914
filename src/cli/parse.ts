import { InvalidArgumentError } from 'commander';
import { ValueError } from '../pools/value-parsers.js';

/** A core parser (pools/value-parsers.ts) as an argParser: its ValueError becomes commander's error, with the same sentence. */
export function optionParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof ValueError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

/** The longest duration a flag takes: Node's timers hold 2^31-1 ms (about 24.8 days) at most. */
const MAX_SECONDS = 2_147_483;

/** Durations are seconds everywhere, fractions allowed (DESIGN.md). */
export function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_SECONDS) {
    throw new InvalidArgumentError(`expected a duration in seconds from 0 to ${MAX_SECONDS} (about 24 days), such as 1 or 0.2.`);
  }
  return seconds;
}

/** A duration that must be more than 0, e.g. an interval. */
export function parsePositiveSeconds(value: string): number {
  const seconds = parseSeconds(value);
  if (seconds === 0) throw new InvalidArgumentError('expected a duration in seconds greater than 0, such as 1 or 0.2.');
  return seconds;
}

export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  }
  return number;
}

export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError('expected a number greater than 0.');
  }
  return number;
}

/** IEEE 802.1Q: 0 and 4095 are reserved, usable VLAN ids are 1..4094. */
export function parseVlanId(value: string): number {
  const id = Number(value);
  if (!/^\d+$/.test(value) || id < 1 || id > 4094) {
    throw new InvalidArgumentError('expected a VLAN id from 1 to 4094.');
  }
  return id;
}
