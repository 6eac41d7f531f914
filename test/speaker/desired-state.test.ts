import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ElectionNode } from '../../src/speaker/election.js';
import { layer2DesiredState, type ClusterService } from '../../src/speaker/desired-state.js';

const NODES = ['node1', 'node2', 'node3'];
const cluster = (down: string[] = []): ElectionNode[] => NODES.map((name) => ({ name, labels: {}, live: !down.includes(name) }));
const services: ClusterService[] = Array.from({ length: 30 }, (_, index) => ({
  key: `default/web${index}`,
  ips: [`192.0.2.${100 + index}`, `2001:db8:2::${(100 + index).toString(16)}`],
  pool: 'lab',
  layer2: {},
}));
const onEth0 = () => 'eth0';

/** node -> the addresses it answers for, as each node computes for itself. */
function answers(down: string[] = []): Map<string, string[]> {
  const view = cluster(down);
  return new Map(NODES.filter((node) => !down.includes(node)).map((node) => [node, [...(layer2DesiredState(services, node, view, onEth0).l2.get('eth0') ?? [])]]));
}

describe('layer 2 desired state', () => {
  test('every node computes the same placement: each address is answered by exactly one node, all of a service by the same one', () => {
    const byNode = answers();
    const all = [...byNode.values()].flat().sort();
    assert.deepEqual(all, services.flatMap((service) => service.ips).sort());
    for (const service of services) {
      const holders = [...byNode].filter(([, ips]) => service.ips.some((ip) => ips.includes(ip)));
      assert.equal(holders.length, 1, service.key);
      assert.ok(service.ips.every((ip) => holders[0]![1].includes(ip)), `${service.key} is split`);
    }
    assert.ok([...byNode.values()].every((ips) => ips.length > 0), 'every node owns some');
  });

  test('when a node is down, its addresses move to the others and no other address moves', () => {
    const before = answers();
    const after = answers(['node2']);
    for (const node of ['node1', 'node3']) assert.ok(before.get(node)!.every((ip) => after.get(node)!.includes(ip)), `${node} lost an address`);
    assert.deepEqual([...after.values()].flat().sort(), services.flatMap((service) => service.ips).sort());
  });

  test('each decision says why an address is not announced here', () => {
    const view = cluster();
    const { decisions } = layer2DesiredState(services, 'node1', view, (ip) => (ip.includes(':') ? undefined : 'eth0'));
    for (const decision of decisions) {
      if (decision.placement.owner !== 'node1') assert.equal(decision.notAnnounced, `${decision.placement.owner} owns it`);
      else if (decision.ip.includes(':')) assert.equal(decision.notAnnounced, `no interface here has a subnet holding ${decision.ip}`);
      else assert.deepEqual([decision.notAnnounced, decision.interface], [undefined, 'eth0']);
    }
    const nobody = layer2DesiredState(services.slice(0, 1), 'node1', cluster(NODES), onEth0);
    assert.deepEqual(nobody.decisions.map((decision) => decision.notAnnounced), ['no live eligible node: not live', 'no live eligible node: not live']);
    assert.equal(nobody.l2.size, 0);
  });
});
