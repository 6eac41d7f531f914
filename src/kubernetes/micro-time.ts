/**
 * meta/v1 MicroTime, the type of Event.eventTime and Lease acquireTime/renewTime. The API
 * server parses it with Go's RFC3339Micro layout, "2006-01-02T15:04:05.000000Z07:00",
 * which demands exactly six fractional digits: a JavaScript Date's toISOString() (three)
 * is answered with 400 Bad Request.
 */

/** `date` as a MicroTime, in UTC; `microseconds` (0-999) refines the Date's milliseconds. */
export function formatMicroTime(date: Date, microseconds = 0): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('formatMicroTime: invalid Date');
  if (!Number.isInteger(microseconds) || microseconds < 0 || microseconds > 999) {
    throw new RangeError(`formatMicroTime: microseconds must be an integer 0-999, not ${microseconds}`);
  }
  const iso = date.toISOString();
  return `${iso.slice(0, 23)}${String(microseconds).padStart(3, '0')}Z`;
}

/** meta/v1 Time (Event firstTimestamp/lastTimestamp): whole seconds. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
