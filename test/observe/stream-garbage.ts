/** Bytes that are not BGP, for the framing property tests: ones are frequent, to make runs
 *  of them, but no run reaches a whole 16-byte marker (RFC 4271 4.1). */
export function markerFreeGarbage(random: () => number, length: number): Buffer {
  const bytes = Buffer.from(Array.from({ length }, () => (random() < 0.5 ? 0xff : Math.floor(random() * 256))));
  for (let at = 15; at < bytes.length; at++) if (bytes.subarray(at - 15, at + 1).every((byte) => byte === 0xff)) bytes[at] = 0;
  return bytes;
}

/** Any bytes at all, ones more often than not, markers included. */
export function noise(random: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => (random() < 0.6 ? 0xff : Math.floor(random() * 256))));
}
