/**
 * Capture times as text, for every time `watch` prints (human lines and --json `ts`).
 *
 * Capture files hold times a JavaScript Date cannot: pcapng counts 64-bit units of the
 * interface's if_tsresol and adds a signed 64-bit if_tsoffset (draft-ietf-opsawg-pcapng
 * 4.2), so its times reach far past the ±8.64e15 ms a Date holds (ECMA-262 21.4.1.1:
 * 100,000,000 days either side of 1970). Within that range a time is ISO-8601 with
 * milliseconds, as DESIGN.md asks of `ts`; beyond it, `@` and the seconds since the Unix
 * epoch with milliseconds, the form `date -d` reads ("@1125899906842624.000"). Both are
 * computed on integers and show the millisecond the instant falls in.
 */

const NS_PER_MS = 1_000_000n;
const MS_PER_SECOND = 1000n;
const DATE_LIMIT_MS = 8_640_000_000_000_000n;

/** Integer division rounding down, so a time before 1970 shows the millisecond it falls in. */
function floorDivide(dividend: bigint, divisor: bigint): bigint {
  const quotient = dividend / divisor;
  return dividend % divisor < 0n ? quotient - 1n : quotient;
}

/** `ns` since the Unix epoch as ISO-8601 ("2026-12-04T21:00:00.123Z"), or as `@seconds.mmm` where a Date cannot hold it. */
export function captureTimeText(ns: bigint): string {
  const ms = floorDivide(ns, NS_PER_MS);
  if (ms >= -DATE_LIMIT_MS && ms <= DATE_LIMIT_MS) return new Date(Number(ms)).toISOString();
  const magnitude = ms < 0n ? -ms : ms;
  const fraction = String(magnitude % MS_PER_SECOND).padStart(3, '0');
  return `@${ms < 0n ? '-' : ''}${magnitude / MS_PER_SECOND}.${fraction}`;
}
