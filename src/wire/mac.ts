import { DecodeError } from './decode-error.js';

/** MAC addresses are lower-case, colon-separated strings everywhere in vipkit. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

/** Six hex pairs with one separator used throughout: `:` (Linux) or `-` (IEEE 802 / Windows). */
const MAC_TEXT = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;

export function isMac(text: string): boolean {
  return MAC_TEXT.test(text);
}

export function macToBytes(mac: string): Buffer {
  if (!isMac(mac)) {
    throw new DecodeError('mac', `not a MAC address: ${JSON.stringify(mac)}`);
  }
  return Buffer.from(mac.replace(/[:-]/g, ''), 'hex');
}

/** Two lower-case hex digits per byte value: decoding is on every frame's path. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

export function macFromBytes(bytes: Buffer): string {
  if (bytes.length !== 6) {
    throw new DecodeError('mac', `a MAC address is 6 bytes, got ${bytes.length}`);
  }
  return `${HEX[bytes[0]!]}:${HEX[bytes[1]!]}:${HEX[bytes[2]!]}:${HEX[bytes[3]!]}:${HEX[bytes[4]!]}:${HEX[bytes[5]!]}`;
}
