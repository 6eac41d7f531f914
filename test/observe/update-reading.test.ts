import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpdateReading } from '../../src/observe/update-reading.js';
import { IPV4_UNICAST } from '../../src/wire/bgp/index.js';

// UPDATEs as hand-annotated bytes (the header is marker, length, type 2), read without the
// OPENs that would say how.
function update(...groups: number[][]): Buffer {
  const body = Buffer.from(groups.flat());
  const header = Buffer.alloc(19, 0xff);
  header.writeUInt16BE(19 + body.length, 16);
  header.writeUInt8(2, 18);
  return Buffer.concat([header, body]);
}

const ORIGIN_IGP = [0x40, 0x01, 0x01, 0x00];
const NEXT_HOP = [0x40, 0x03, 0x04, 192, 0, 2, 1];
const AS_PATH_4 = [0x40, 0x02, 0x0a, /* AS_SEQUENCE of 2 */ 0x02, 0x02, 0x00, 0x00, 0xfd, 0xea, 0x00, 0x01, 0x00, 0x0e]; // 65002 65550
const AS_PATH_2 = [0x40, 0x02, 0x06, /* AS_SEQUENCE of 2 */ 0x02, 0x02, 0xfd, 0xea, 0xfc, 0x00]; // 65002 64512

function announce(asPath: number[], nlri: number[]): Buffer {
  const attributes = [...ORIGIN_IGP, ...asPath, ...NEXT_HOP];
  return update([0, 0] /* no withdrawals */, [0, attributes.length], attributes, nlri);
}

describe('reading UPDATEs without the OPENs', () => {
  it('path ids are not taken for prefix lengths: two paths of one prefix, not 0.0.0.0/0 again and again', () => {
    const reading = new UpdateReading();
    // Path 0 and path 1 of 203.0.113.0/24: read without ADD-PATH, the zero octets of the
    // ids are /0 prefixes and the rest still parses (with host bits set).
    const { message, settled } = reading.read(announce(AS_PATH_4, [0, 0, 0, 0, 24, 203, 0, 113, 0, 0, 0, 1, 24, 203, 0, 113]));
    assert.deepEqual([message.nlri, message.nlriPathIds], [['203.0.113.0/24', '203.0.113.0/24'], [0, 1]]);
    assert.deepEqual(settled, [
      { what: 'four-octet-as', chosen: true, reason: 'AS_PATH and AGGREGATOR read only with 4-octet AS numbers' },
      { what: IPV4_UNICAST, chosen: true, reason: 'the ipv4-unicast prefixes read only with path identifiers' },
    ]);
    // Settled: the next UPDATE is read so, and settles nothing more.
    const next = reading.read(announce(AS_PATH_4, [0, 0, 0, 9, 25, 198, 51, 100, 128]));
    assert.deepEqual([next.message.nlri, next.message.nlriPathIds, next.settled], [['198.51.100.128/25'], [9], []]);
  });

  it('a 2-octet AS session: the AS_PATH reads only with 2-octet AS numbers', () => {
    const { message, settled, context } = new UpdateReading().read(announce(AS_PATH_2, [24, 203, 0, 113]));
    assert.equal(context.fourOctetAs, false);
    assert.deepEqual(message.attributes[1], { type: 'as-path', segments: [{ type: 'sequence', asns: [65002, 64512] }] });
    assert.deepEqual(
      settled.map((item) => [item.what === 'four-octet-as' ? item.what : item.what.afi, item.chosen]),
      [
        ['four-octet-as', false],
        [1, false],
      ],
    );
  });

  it('what both readings explain settles nothing: an End-of-RIB, an empty AS_PATH', () => {
    const reading = new UpdateReading();
    assert.deepEqual(reading.read(update([0, 0], [0, 0])).settled, []);
    const local = reading.read(announce([0x40, 0x02, 0x00] /* empty AS_PATH */, [24, 203, 0, 113]));
    assert.deepEqual(local.settled.map((item) => item.what), [IPV4_UNICAST], 'the NLRI settles ADD-PATH, the empty path no AS width');
    assert.equal(local.context.fourOctetAs, true, '4-octet AS numbers are assumed meanwhile');
  });

  it("an UPDATE no reading decodes throws the assumed reading's error; a malformed one keeps its RFC 7606 errors", () => {
    assert.throws(() => new UpdateReading().read(update([0, 0], [0, 0], [33, 203, 0, 113, 0, 0])), /Invalid Network Field/);
    const { message } = new UpdateReading().read(announce([0x40, 0x02, 0x03, 0x09, 0x00, 0x00] /* segment type 9 */, [24, 203, 0, 113]));
    assert.deepEqual(message.withdrawn, ['203.0.113.0/24']);
    assert.equal(message.errors?.length, 1);
  });
});
