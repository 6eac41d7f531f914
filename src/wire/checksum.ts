/**
 * The Internet checksum (RFC 1071): the one's complement of the one's complement sum of
 * 16-bit words, an odd last byte padded with zero. Over a message whose checksum field is
 * zero this is the value to store; over a received message it is 0 exactly when the stored
 * checksum is right (RFC 1071 1).
 */
export function internetChecksum(data: Buffer): number {
  return fold(wordSum(data));
}

/** The sum of the 16-bit words of `data`, an odd last byte padded with zero, not yet folded. */
function wordSum(data: Buffer): number {
  let sum = 0;
  for (let index = 0; index + 1 < data.length; index += 2) {
    sum += data.readUInt16BE(index);
  }
  if (data.length % 2 === 1) {
    sum += data[data.length - 1]! << 8;
  }
  return sum;
}

/** Folds the carries back in (one's complement addition) and complements. */
function fold(sum: number): number {
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  return ~sum & 0xffff;
}

/**
 * Checksum of an upper-layer message carried in IPv6, covering the RFC 8200 8.1
 * pseudo-header:
 *
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                     Source Address (128 bits)                 |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  Destination Address (128 bits)               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                   Upper-Layer Packet Length                   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      zero                     |  Next Header  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The addresses are the 16 bytes each as on the wire.
 */
export function ipv6UpperLayerChecksum(source: Buffer, destination: Buffer, nextHeader: number, message: Buffer): number {
  const lengthWords = (message.length >>> 16) + (message.length & 0xffff);
  return fold(wordSum(source) + wordSum(destination) + lengthWords + nextHeader + wordSum(message));
}
