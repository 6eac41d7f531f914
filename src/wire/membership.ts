import type { Codec } from './codec.js';
import { Reader } from './reader.js';
import { checkUint } from './uint-field.js';

/**
 * What a member says of another (liveness/membership.ts): its record's version (0: never
 * heard of, odd: live, even: dead), and, from a ring neighbour of that member, what its own
 * BFD session with it just did.
 */
export interface MembershipEntry {
  /** The member's place in the ring order (liveness/ring.ts). */
  member: number;
  version: number;
  /** The sender's BFD session with the member went Down at this version. */
  suspect: boolean;
  /** The sender's BFD session with the member came Up. */
  up: boolean;
  /** The member left on purpose: its BFD said AdminDown (RFC 5880 6.8.16). */
  leaving: boolean;
}

export interface MembershipMessage {
  /** The ring's fingerprint: a node with another member list or neighbour count is not understood. */
  ring: number;
  entries: MembershipEntry[];
}

/*
 * A vipkit membership message, the payload of a UDP datagram to port 7947:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Version    |   Reserved    |          Entry Count          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Ring Fingerprint                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Entry Count times:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Member Index          |S|U|L|  Zero   |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Record Version                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * S: suspect (the sender's session went Down), U: the sender's session came Up, L: leaving.
 * Reserved bits are sent as zero and ignored.
 */
export const MEMBERSHIP_VERSION = 1;
const HEADER_LENGTH = 8;
const ENTRY_LENGTH = 8;
const FLAG = { suspect: 0x80, up: 0x40, leaving: 0x20 } as const;

export const membershipMessage: Codec<MembershipMessage> = {
  encode(message) {
    const bytes = Buffer.alloc(membershipMessage.encodingLength(message));
    bytes.writeUInt8(MEMBERSHIP_VERSION, 0);
    bytes.writeUInt16BE(checkUint('membership', 'entry count', message.entries.length, 16), 2);
    bytes.writeUInt32BE(checkUint('membership', 'ring fingerprint', message.ring, 32), 4);
    message.entries.forEach((entry, index) => {
      const at = HEADER_LENGTH + index * ENTRY_LENGTH;
      bytes.writeUInt16BE(checkUint('membership', 'member index', entry.member, 16), at);
      bytes.writeUInt8((entry.suspect ? FLAG.suspect : 0) | (entry.up ? FLAG.up : 0) | (entry.leaving ? FLAG.leaving : 0), at + 2);
      bytes.writeUInt32BE(checkUint('membership', 'record version', entry.version, 32), at + 4);
    });
    return bytes;
  },

  decode(buffer) {
    const reader = new Reader(buffer, 'membership');
    const version = reader.u8('version');
    if (version !== MEMBERSHIP_VERSION) reader.fail(`version ${version}, only ${MEMBERSHIP_VERSION} exists`);
    reader.skip(1, 'reserved');
    const count = reader.u16('entry count');
    const ring = reader.u32('ring fingerprint');
    if (reader.remaining !== count * ENTRY_LENGTH) reader.fail(`${count} entries need ${count * ENTRY_LENGTH} bytes, ${reader.remaining} follow`);
    const entries: MembershipEntry[] = [];
    for (let index = 0; index < count; index++) {
      const member = reader.u16('member index');
      const flags = reader.u8('flags');
      reader.skip(1, 'reserved');
      const entry = { member, version: reader.u32('record version'), suspect: (flags & FLAG.suspect) !== 0, up: (flags & FLAG.up) !== 0, leaving: (flags & FLAG.leaving) !== 0 };
      if (entry.suspect && entry.up) reader.fail(`member ${member} both suspected and Up`);
      entries.push(entry);
    }
    return { ring, entries };
  },

  encodingLength(message) {
    return HEADER_LENGTH + message.entries.length * ENTRY_LENGTH;
  },
};
