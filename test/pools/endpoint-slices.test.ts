import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Problem } from '../../src/pools/model.js';
import { readServices } from '../../src/pools/services.js';
import { readServiceFlag } from '../../src/pools/flags.js';

const LOCAL_SERVICE = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { type: LoadBalancer, externalTrafficPolicy: Local, selector: { app: web }, ports: [{ port: 80 }] }
`;

test("EndpointSlices beside a Local service say which nodes host its ready endpoints (v1 nodeName, v1beta1 topology); not-ready ones do not count", () => {
  const text = `${LOCAL_SERVICE}---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-a, namespace: shop, labels: { kubernetes.io/service-name: web } }
endpoints:
  - { addresses: [10.0.0.1], conditions: { ready: true }, nodeName: node2 }
  - { addresses: [10.0.0.2], conditions: { ready: false }, nodeName: node3 }
  - { addresses: [10.0.0.3], nodeName: node1 }
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: { name: web-b, namespace: shop, labels: { kubernetes.io/service-name: web } }
endpoints:
  - { addresses: [10.0.0.4], conditions: { ready: true }, topology: { kubernetes.io/hostname: node4 } }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: other, namespace: default, labels: { kubernetes.io/service-name: web } }
endpoints:
  - { addresses: [10.0.0.5], nodeName: node5 }
`;
  const problems: Problem[] = [];
  const [claim] = readServices(text, 'services.yaml', problems);
  assert.deepEqual(problems, []);
  assert.equal(claim!.localTraffic, true);
  assert.deepEqual(claim!.endpointNodes, ['node1', 'node2', 'node4'], 'node3 is not ready; node5 serves default/web, another service');
});

test('a Local service without EndpointSlices has unknown endpoints; a Cluster one is not local', () => {
  const [local] = readServices(LOCAL_SERVICE, 'services.yaml', []);
  assert.equal(local!.endpointNodes, undefined);
  const [cluster] = readServices(LOCAL_SERVICE.replace('externalTrafficPolicy: Local, ', ''), 'services.yaml', []);
  assert.equal(cluster!.localTraffic, undefined);
});

test('--service endpoint=<node> (repeatable) makes the service Local to those nodes', () => {
  const problems: Problem[] = [];
  const claim = readServiceFlag('shop/web=203.0.113.5,endpoint=node1,endpoint=node3', '--service #1', problems);
  assert.deepEqual(problems, []);
  assert.deepEqual([claim!.localTraffic, claim!.endpointNodes], [true, ['node1', 'node3']]);
  readServiceFlag('shop/web,endpoint=Node_1', '--service #1', problems);
  assert.equal(problems.length, 1);
});
