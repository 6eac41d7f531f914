import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { EXCLUDE_LABEL, place, placementOrder, type ElectionNode } from '../../src/speaker/election.js';

/** The order computed by coreutils' sha256sum, not by Node: independent eyes on the digest and its comparison. */
function orderBySha256sum(names: string[], ip: string): string[] {
  const digest = (name: string) => execFileSync('sha256sum', { input: `${name}#${ip}` }).toString().split(' ')[0]!;
  // Lower-case hex compares as the bytes it encodes.
  return names.map((name) => ({ name, hex: digest(name) })).sort((a, b) => (a.hex < b.hex ? -1 : 1)).map(({ name }) => name);
}

const nodes = (...names: string[]): ElectionNode[] => names.map((name) => ({ name, labels: {}, live: true }));

describe('layer 2 placement (MetalLB order: sha256 of name#ip, bytewise)', () => {
  test('agrees with sha256sum for IPv4 and IPv6 VIPs', () => {
    const names = ['node1', 'node2', 'node3', 'worker-a', 'worker-b'];
    for (const ip of ['192.0.2.100', '203.0.113.7', '2001:db8:2::100']) assert.deepEqual(placementOrder(names, ip), orderBySha256sum(names, ip), ip);
  });

  test('the owner is the first of the order, whatever order the nodes are listed in', () => {
    const forward = place({ ip: '192.0.2.100' }, nodes('node1', 'node2', 'node3'));
    const backward = place({ ip: '192.0.2.100' }, nodes('node3', 'node2', 'node1'));
    assert.deepEqual(forward, backward);
    assert.equal(forward.owner, forward.order[0]);
  });

  test('VIPs spread over the nodes, and a node that leaves moves only its own VIPs', () => {
    const vips = Array.from({ length: 300 }, (_, index) => `198.18.${index >> 8}.${index & 255}`);
    const all = nodes('node1', 'node2', 'node3');
    const owners = new Map(vips.map((ip) => [ip, place({ ip }, all).owner!]));
    for (const name of ['node1', 'node2', 'node3']) {
      const owned = [...owners.values()].filter((owner) => owner === name).length;
      assert.ok(owned > 50, `${name} owns ${owned} of 300`);
    }
    const survivors = all.map((node) => (node.name === 'node2' ? { ...node, live: false } : node));
    for (const ip of vips) {
      const after = place({ ip }, survivors).owner;
      if (owners.get(ip) !== 'node2') assert.equal(after, owners.get(ip), `${ip} moved although its owner lives`);
      else assert.notEqual(after, 'node2');
    }
  });

  test('nodes that are not candidates are listed with the reason', () => {
    const view: ElectionNode[] = [
      { name: 'node1', labels: { 'example.com/l2': 'yes' }, live: true },
      { name: 'node2', labels: { 'example.com/l2': 'yes' }, live: false },
      { name: 'node3', labels: { 'example.com/l2': 'yes', [EXCLUDE_LABEL]: '' }, live: true },
      { name: 'node4', labels: {}, live: true },
      { name: 'node5', labels: { 'example.com/l2': 'yes' }, live: true },
    ];
    const placement = place({ ip: '192.0.2.100', nodeSelectors: [{ matchLabels: { 'example.com/l2': 'yes' }, matchExpressions: [] }], endpointNodes: new Set(['node1', 'node2', 'node3', 'node4']) }, view);
    assert.deepEqual(placement.order, ['node1']);
    assert.equal(placement.owner, 'node1');
    assert.deepEqual(placement.excluded, [
      { node: 'node2', reason: 'not live' },
      { node: 'node3', reason: `labelled ${EXCLUDE_LABEL}` },
      { node: 'node4', reason: 'matches no node selector of the advertisement' },
      { node: 'node5', reason: 'no ready endpoint here (externalTrafficPolicy: Local)' },
    ]);
  });

  test('no candidate, no owner', () => {
    const placement = place({ ip: '192.0.2.100' }, [{ name: 'node1', labels: {}, live: false }]);
    assert.equal(placement.owner, undefined);
    assert.deepEqual(placement.order, []);
  });
});
