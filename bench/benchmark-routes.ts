/**
 * The host routes the BGP benches announce: addresses from RFC 2544's benchmarking range,
 * 198.18.0.0/15, and never more than it holds, so no bench puts any other address on a wire.
 */
const FIRST = 0xc6120000; // 198.18.0.0
const RANGE_SIZE = 2 ** 17;

/** The `index`-th address of 198.18.0.0/15, dotted. */
export function benchmarkAddress(index: number): string {
  const value = FIRST + index;
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** The --routes option, or exit 2 for a count the range cannot hold. */
export function parseRouteCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > RANGE_SIZE) {
    console.error(`--routes must be 1 to ${RANGE_SIZE}: the host routes come from 198.18.0.0/15 only.`);
    process.exit(2);
  }
  return count;
}
