import { DecodeError } from './decode-error.js';

/**
 * Encoders refuse a field value that does not fit its width (a VLAN id of 5000, a flow
 * label over 20 bits) with the same typed error decoders use, rather than letting Buffer
 * throw a RangeError or silently truncate.
 */
export function checkUint(codec: string, field: string, value: number, bits: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new DecodeError(codec, `${field} ${value} does not fit in ${bits} bits`);
  }
  return value;
}
