import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdjRibOut } from '../../src/bgp/adj-rib-out.js';
import { decodeMessage } from '../../src/wire/bgp/message.js';
import { BASE_CONTEXT } from '../../src/wire/bgp/registry.js';
import type { RouteAttributes } from '../../src/wire/bgp/route-attributes.js';
import type { UpdateMessage } from '../../src/wire/bgp/update.js';

const base: RouteAttributes = { origin: 'igp', asPath: [{ type: 'sequence', asns: [64800] }], nextHop: '192.0.2.11' };
const withMed: RouteAttributes = { ...base, med: 10 };

function decoded(messages: Buffer[]): UpdateMessage[] {
  return messages.map((bytes) => {
    const message = decodeMessage(bytes, BASE_CONTEXT);
    assert.equal(message.type, 'update');
    return message as UpdateMessage;
  });
}

const announced = (updates: UpdateMessage[]) => updates.flatMap((update) => update.nlri).sort();
const withdrawn = (updates: UpdateMessage[]) => updates.flatMap((update) => update.withdrawn).sort();

test('the first wish is sent whole, prefixes sharing attributes in one UPDATE', () => {
  const rib = new AdjRibOut();
  const updates = decoded(rib.set(new Map([['203.0.113.1/32', base], ['203.0.113.2/32', base], ['203.0.113.3/32', withMed]]), BASE_CONTEXT));
  assert.equal(updates.length, 2);
  assert.deepEqual(announced(updates), ['203.0.113.1/32', '203.0.113.2/32', '203.0.113.3/32']);
  assert.equal(rib.size, 3);
});

test('the same wish again sends nothing, even in new but equal attribute objects', () => {
  const rib = new AdjRibOut();
  rib.set(new Map([['203.0.113.1/32', base]]), BASE_CONTEXT);
  assert.deepEqual(rib.set(new Map([['203.0.113.1/32', { ...base }]]), BASE_CONTEXT), []);
});

test('a change sends only what changed: new attributes re-announce, a missing prefix is withdrawn', () => {
  const rib = new AdjRibOut();
  rib.set(new Map([['203.0.113.1/32', base], ['203.0.113.2/32', base], ['203.0.113.3/32', base]]), BASE_CONTEXT);
  const updates = decoded(rib.set(new Map([['203.0.113.1/32', base], ['203.0.113.2/32', withMed]]), BASE_CONTEXT));
  assert.deepEqual(withdrawn(updates), ['203.0.113.3/32']);
  assert.deepEqual(announced(updates), ['203.0.113.2/32']);
  assert.equal(rib.size, 2);
});

test('an empty wish withdraws everything', () => {
  const rib = new AdjRibOut();
  rib.set(new Map([['203.0.113.1/32', base], ['2001:db8:100::1/128', { ...base, nextHop: undefined, ipv6NextHop: '2001:db8:2::11' }]]), BASE_CONTEXT);
  const updates = decoded(rib.set(new Map(), BASE_CONTEXT));
  assert.deepEqual(withdrawn(updates), ['203.0.113.1/32']);
  const unreach = updates.flatMap((update) => update.attributes).find((attribute) => attribute.type === 'mp-unreach');
  assert.deepEqual(unreach && 'prefixes' in unreach ? unreach.prefixes : undefined, ['2001:db8:100::1/128']);
  assert.equal(rib.size, 0);
});

test('resend forgets what was sent: a new session gets everything again', () => {
  const rib = new AdjRibOut();
  const wish = new Map([['203.0.113.1/32', base], ['203.0.113.2/32', base]]);
  rib.set(wish, BASE_CONTEXT);
  assert.deepEqual(announced(decoded(rib.resend(wish, BASE_CONTEXT))), ['203.0.113.1/32', '203.0.113.2/32']);
});

test('thousands of prefixes are packed into UPDATEs of at most 4096 bytes (RFC 4271 4)', () => {
  const rib = new AdjRibOut();
  const wish = new Map(Array.from({ length: 3000 }, (_, index) => [`198.18.${index >> 8}.${index & 255}/32`, base] as const));
  const messages = rib.set(wish, BASE_CONTEXT);
  assert.ok(messages.length > 1 && messages.every((message) => message.length <= 4096), messages.map((message) => message.length).join(' '));
  assert.equal(announced(decoded(messages)).length, 3000);
  const removal = rib.set(new Map(), BASE_CONTEXT);
  assert.ok(removal.every((message) => message.length <= 4096));
  assert.equal(withdrawn(decoded(removal)).length, 3000);
});
