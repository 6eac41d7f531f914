import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WatchDecoder, WatchStreamError } from '../../src/kubernetes/watch-stream.js';

const service = (name: string, resourceVersion: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', resourceVersion } });
const EVENTS = [
  { type: 'ADDED', object: service('a', '10') },
  { type: 'MODIFIED', object: service('a', '11') },
  { type: 'BOOKMARK', object: { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: '15' } } },
  { type: 'DELETED', object: service('a', '16') },
  { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 10 (20)', reason: 'Expired', code: 410 } },
];
const BODY = Buffer.from(EVENTS.map((event) => `${JSON.stringify(event)}\n`).join(''));

test('events split across two chunks at every byte decode the same', () => {
  for (let cut = 0; cut <= BODY.length; cut++) {
    const decoder = new WatchDecoder();
    const events = [...decoder.push(BODY.subarray(0, cut)), ...decoder.push(BODY.subarray(cut)), ...decoder.end()];
    assert.deepEqual(events, EVENTS, `cut at ${cut}`);
  }
});

test('one byte at a time, and multi-byte UTF-8 split inside a character', () => {
  const named = Buffer.from(`${JSON.stringify({ type: 'ADDED', object: service('é-€', '1') })}\n`);
  const decoder = new WatchDecoder();
  const events = [...named].flatMap((byte) => decoder.push(Buffer.from([byte])));
  assert.deepEqual(events, [{ type: 'ADDED', object: service('é-€', '1') }]);
});

test('blank lines and CRLF are ignored; a last event without its newline is read at the end', () => {
  const decoder = new WatchDecoder();
  const last = JSON.stringify(EVENTS[0]);
  assert.deepEqual(decoder.push(Buffer.from(`\n\r\n${JSON.stringify(EVENTS[1])}\r\n\n${last}`)), [EVENTS[1]]);
  assert.deepEqual(decoder.end(), [EVENTS[0]]);
  assert.deepEqual(decoder.end(), []);
});

test('the decoder keeps no reference to the chunk it was given', () => {
  const decoder = new WatchDecoder();
  const chunk = Buffer.from(JSON.stringify(EVENTS[0]));
  decoder.push(chunk.subarray(0, 10));
  chunk.fill(0x20, 0, 10);
  assert.deepEqual(decoder.push(Buffer.from(`${JSON.stringify(EVENTS[0]).slice(10)}\n`)), [EVENTS[0]]);
});

test('garbage, unknown types, objects missing and a cut-off last line are WatchStreamErrors', () => {
  for (const line of ['not json', '{"type":"ADDED"}', '{"type":"SOMETHING","object":{}}', '[1,2]', '{"object":{}}', '{"type":"ADDED","object":null}']) {
    assert.throws(() => new WatchDecoder().push(Buffer.from(`${line}\n`)), WatchStreamError, line);
  }
  const decoder = new WatchDecoder();
  decoder.push(Buffer.from('{"type":"ADDED","object":{"metadata":'));
  assert.throws(() => decoder.end(), WatchStreamError);
});

test('an event longer than the limit is refused before it is all buffered', () => {
  const decoder = new WatchDecoder(100);
  decoder.push(Buffer.alloc(60, 0x20));
  assert.throws(() => decoder.push(Buffer.alloc(60, 0x20)), /longer than 100 bytes/);
  assert.throws(() => new WatchDecoder(10).push(Buffer.from(`${JSON.stringify(EVENTS[0])}\n`)), WatchStreamError);
});
