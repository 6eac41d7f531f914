import { InvalidArgumentError } from 'commander';

/** Durations are seconds everywhere, fractions allowed (DESIGN.md). */
export function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError('expected a duration in seconds, such as 1 or 0.2.');
  }
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
