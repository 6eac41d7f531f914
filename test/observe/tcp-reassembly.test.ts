import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TcpReassembler, type TcpStream } from '../../src/observe/tcp-reassembly.js';
import { tcpSegmentOf, type TcpSegment } from '../../src/observe/tcp-segment.js';
import { DecodeError } from '../../src/wire/decode-error.js';
import { decodeFrame } from '../../src/wire/frame.js';
import { ipv4TcpFrame } from './tcp-frames.js';

const SPEAKER = { source: '192.0.2.11', sourcePort: 40000, destination: '192.0.2.1', destinationPort: 179 };
const ROUTER = { source: '192.0.2.1', sourcePort: 179, destination: '192.0.2.11', destinationPort: 40000 };

function segment(side: typeof SPEAKER, sequence: number, text: string, flags: Partial<Pick<TcpSegment, 'syn' | 'fin' | 'rst'>> = {}): TcpSegment {
  return { ...side, sequence: sequence >>> 0, syn: false, fin: false, rst: false, ...flags, payload: Buffer.from(text) };
}

/** Feeds segments and returns what each direction delivered, with gaps as `[gap N]` and ends as `[end]`. */
function reassemble(segments: TcpSegment[], finish = false) {
  const streams = new Map<string, string>();
  const append = (stream: TcpStream, text: string) => streams.set(stream.id, (streams.get(stream.id) ?? '') + text);
  const reassembler = new TcpReassembler({
    data: (stream, bytes) => append(stream, bytes.toString()),
    gap: (stream, missing) => append(stream, `[gap ${missing}]`),
    end: (stream) => append(stream, '[end]'),
  });
  segments.forEach((item, index) => reassembler.add(item, BigInt(index)));
  if (finish) reassembler.finish(BigInt(segments.length));
  return { streams: Object.fromEntries(streams), counts: reassembler.counts };
}

const SPEAKER_ID = '192.0.2.11:40000 > 192.0.2.1:179';
const ROUTER_ID = '192.0.2.1:179 > 192.0.2.11:40000';

describe('TCP reassembly', () => {
  it('puts out-of-order segments back in order, in both directions', () => {
    const { streams, counts } = reassemble([
      segment(SPEAKER, 1000, '', { syn: true }),
      segment(ROUTER, 5000, '', { syn: true }),
      segment(SPEAKER, 1001, 'hello '),
      segment(SPEAKER, 1013, 'order'),
      segment(ROUTER, 5001, 'hi'),
      segment(SPEAKER, 1007, 'there '),
    ]);
    assert.deepEqual(streams, { [SPEAKER_ID]: 'hello there order', [ROUTER_ID]: 'hi' });
    assert.equal(counts.outOfOrder, 1);
  });

  it('drops retransmissions, and keeps only the new tail of an overlapping one', () => {
    const { streams, counts } = reassemble([
      segment(SPEAKER, 1000, '', { syn: true }),
      segment(SPEAKER, 1001, 'abc'),
      segment(SPEAKER, 1001, 'abc'),
      segment(SPEAKER, 1002, 'bcdef'),
      segment(SPEAKER, 1009, 'ij'),
      segment(SPEAKER, 1009, 'ij'),
      segment(SPEAKER, 1005, 'efgh'),
    ]);
    assert.deepEqual(streams, { [SPEAKER_ID]: 'abcdefghij' });
    assert.equal(counts.retransmitted, 1);
  });

  it('follows sequence numbers across the 2^32 wrap', () => {
    const { streams } = reassemble([
      segment(SPEAKER, 2 ** 32 - 3, 'ab'),
      segment(SPEAKER, 2, 'ef'),
      segment(SPEAKER, 2 ** 32 - 1, 'cd\0\0'.slice(0, 3)),
    ]);
    assert.equal(streams[SPEAKER_ID], 'abcd\0ef');
  });

  it('joins a stream already running, and reports a hole the capture never filled at the end', () => {
    const { streams, counts } = reassemble([segment(SPEAKER, 7000, 'first'), segment(SPEAKER, 7010, 'later')], true);
    assert.deepEqual(streams, { [SPEAKER_ID]: 'first[gap 5]later' });
    assert.equal(counts.gaps, 1);
  });

  it('ends a direction at its FIN once every byte before it arrived, and at a RST', () => {
    const { streams } = reassemble([
      segment(SPEAKER, 1000, '', { syn: true }),
      segment(SPEAKER, 1004, 'def', { fin: true }),
      segment(SPEAKER, 1001, 'abc'),
      segment(ROUTER, 5000, 'x'),
      segment(ROUTER, 5001, '', { rst: true }),
    ]);
    assert.deepEqual(streams, { [SPEAKER_ID]: 'abcdef[end]', [ROUTER_ID]: 'x[end]' });
  });
});

describe('TCP segments from frames', () => {
  it('reads addresses, ports, sequence, flags and payload, leaving Ethernet padding out', () => {
    const decoded = tcpSegmentOf(decodeFrame(ipv4TcpFrame(Buffer.from('BGP'), { padding: 3 })));
    assert.deepEqual(decoded, { ...SPEAKER, sequence: 123456, syn: false, fin: false, rst: false, payload: Buffer.from('BGP') });
  });

  it('skips later fragments, and throws DecodeError for a header that lies', () => {
    assert.equal(tcpSegmentOf(decodeFrame(ipv4TcpFrame(Buffer.from('x'), { fragmentOffset: 10 }))), undefined);
    const lying = ipv4TcpFrame(Buffer.from('x'));
    lying.writeUInt16BE(9000, 14 + 2);
    assert.throws(() => tcpSegmentOf(decodeFrame(lying)), DecodeError);
    const short = ipv4TcpFrame(Buffer.alloc(0)).subarray(0, 14 + 20 + 10);
    short.writeUInt16BE(30, 14 + 2);
    assert.throws(() => tcpSegmentOf(decodeFrame(short)), DecodeError);
  });
});
