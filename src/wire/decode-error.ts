/**
 * The one error every decoder throws for input it cannot parse: short input, a length
 * field that points past the end, a value the format does not allow. Callers (and the
 * property tests) rely on nothing else escaping a decoder.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';

  /** The codec and what went wrong, without the offset: what an error wrapping this one
   *  quotes, since the wrapper states the offset itself. */
  readonly detail: string;

  constructor(
    /** The codec that refused the input, e.g. `arp`, `ethernet`. */
    readonly codec: string,
    message: string,
    /** Byte offset where decoding stopped. */
    readonly offset = 0,
  ) {
    super(`${codec}: ${message} (at byte ${offset})`);
    this.detail = `${codec}: ${message}`;
  }
}
