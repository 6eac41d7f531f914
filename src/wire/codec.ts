/**
 * Every wire type is the same triad (after mafintosh/dns-packet): `encode` writes the
 * message, `decode` parses it and throws only DecodeError, `encodingLength` says how many
 * bytes `encode` will write. Composite messages are built from smaller codecs.
 */
export interface Codec<T> {
  encode(message: T): Buffer;
  decode(buffer: Buffer): T;
  encodingLength(message: T): number;
}
