/**
 * What vipkit writes, accepted by a real API server (1.20) and read back by it and by
 * kubectl: a Service's status.loadBalancer.ingress, Events on a Service, and a Lease for
 * leader election with MicroTime stamps (which a millisecond timestamp is not).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Event, Lease, Service } from '../../src/kubernetes/api-objects.js';
import { CLIENT_HOST, KubernetesClientProcess, kubeLabTest, RemoteCallError, sharedKubeLab } from '../helpers/kubernetes-lab.js';

const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function service(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
}

describe('writes to kube-apiserver 1.20', () => {
  const kube = sharedKubeLab();

  kubeLabTest("a Service's status.loadBalancer.ingress is written, replaced and removed, and kubectl shows it", async () => {
    const { api, client } = kube();
    await api.apply(CLIENT_HOST, service('web'));
    const written = await client.call<Service>('set-ingress', { namespace: 'default', name: 'web', ips: ['203.0.113.10', '2001:db8::10'] });
    assert.deepEqual(written.status?.loadBalancer?.ingress, [{ ip: '203.0.113.10' }, { ip: '2001:db8::10' }]);
    const shown = await api.kubectl(CLIENT_HOST, ['get', 'service', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']);
    assert.equal(shown.stdout, '203.0.113.10 2001:db8::10');
    await client.call('set-ingress', { namespace: 'default', name: 'web', ips: ['203.0.113.11'] });
    assert.equal((await api.kubectl(CLIENT_HOST, ['get', 'service', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).stdout, '203.0.113.11');
    const removed = await client.call<Service>('set-ingress', { namespace: 'default', name: 'web', ips: [] });
    assert.equal(removed.status?.loadBalancer?.ingress, undefined);
    assert.equal(removed.spec?.type, 'LoadBalancer', 'the status subresource leaves the spec alone');
  });

  kubeLabTest('an Event on a Service is accepted with a six-digit eventTime, read back, and shown by kubectl describe', async () => {
    const { api, client } = kube();
    await api.apply(CLIENT_HOST, service('events'));
    const about = await client.call<Service>('request', { method: 'GET', path: '/api/v1/namespaces/default/services/events' });
    const created = await client.call<Event>('record-event', {
      instance: 'node1',
      report: { about: { apiVersion: 'v1', kind: 'Service', metadata: about.metadata }, type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["203.0.113.10"]', action: 'Allocate' },
    });
    assert.match(created.eventTime ?? '', MICRO_TIME);
    const read = await client.call<Event>('request', { method: 'GET', path: `/api/v1/namespaces/default/events/${created.metadata!.name}` });
    assert.equal(read.reason, 'IPAllocated');
    assert.equal(read.involvedObject.uid, about.metadata?.uid);
    assert.equal(read.reportingComponent, 'vipkit.io/speaker');
    assert.equal(read.eventTime, created.eventTime);
    const described = await api.kubectl(CLIENT_HOST, ['describe', 'service', 'events']);
    assert.match(described.stdout, /Normal\s+IPAllocated\s+.*Assigned IP \["203\.0\.113\.10"\]/);
    await client.call('record-event', {
      instance: 'node1',
      report: { about: { apiVersion: 'v1', kind: 'Service', metadata: about.metadata }, type: 'Warning', reason: 'AllocationFailed', message: 'no available IPs in pool "prod"', action: 'Allocate' },
    });
    assert.match((await api.kubectl(CLIENT_HOST, ['describe', 'service', 'events'])).stdout, /Warning\s+AllocationFailed\s+.*no available IPs in pool "prod"/);
  });

  kubeLabTest('leader election on a Lease: created, renewed, refused to a rival, released and taken over; MicroTimes accepted', async () => {
    const { client } = kube();
    const lease = { namespace: 'default', name: 'vipkit-controller', leaseDurationSeconds: 2 };
    assert.deepEqual(await client.call('elect', { ...lease, identity: 'node1' }), { leader: true, holder: 'node1' });
    const first = await client.call<Lease>('request', { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/default/leases/vipkit-controller' });
    assert.match(first.spec?.renewTime ?? '', MICRO_TIME);
    assert.match(first.spec?.acquireTime ?? '', MICRO_TIME);
    assert.deepEqual(await client.call('elect', { ...lease, identity: 'node2' }), { leader: false, holder: 'node1' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await client.call('elect', { ...lease, identity: 'node1' }), { leader: true, holder: 'node1' });
    const renewed = await client.call<Lease>('request', { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/default/leases/vipkit-controller' });
    assert.ok(renewed.spec!.renewTime! > first.spec!.renewTime!, 'renewTime moved on');
    assert.equal(renewed.spec?.acquireTime, first.spec?.acquireTime, 'a renewal keeps the acquire time');
    assert.deepEqual(await client.call('elect', { ...lease, identity: 'node2' }), { leader: false, holder: 'node1' }, 'the rival has not yet seen the lease unchanged for its duration');

    await client.call('release', { ...lease, identity: 'node1' });
    assert.deepEqual(await client.call('elect', { ...lease, identity: 'node2' }), { leader: true, holder: 'node2' }, 'a released lease is taken at once');
    const taken = await client.call<Lease>('request', { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/default/leases/vipkit-controller' });
    assert.equal(taken.spec?.holderIdentity, 'node2');

    // The reason MicroTime is formatted by hand: a Date's own ISO string is refused.
    const refused = await client
      .call('request', {
        method: 'POST',
        path: '/apis/coordination.k8s.io/v1/namespaces/default/leases',
        options: { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'milliseconds' }, spec: { holderIdentity: 'node1', renewTime: new Date().toISOString() } } },
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(refused instanceof RemoteCallError && refused.status === 400, `a millisecond renewTime is refused with 400: ${String(refused)}`);
  });

  kubeLabTest('a rival takes an abandoned Lease over once it has seen it unchanged for the lease duration', async () => {
    const { client } = kube();
    const lease = { namespace: 'default', name: 'abandoned', leaseDurationSeconds: 1 };
    assert.equal((await client.call<{ leader: boolean }>('elect', { ...lease, identity: 'node1' })).leader, true);
    assert.equal((await client.call<{ leader: boolean }>('elect', { ...lease, identity: 'node3' })).leader, false);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.deepEqual(await client.call('elect', { ...lease, identity: 'node3' }), { leader: true, holder: 'node3' });
    const taken = await client.call<Lease>('request', { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/default/leases/abandoned' });
    assert.equal(taken.spec?.leaseTransitions, 1);
    assert.deepEqual(await client.call('elect', { ...lease, identity: 'node1' }), { leader: false, holder: 'node3' });
  });

  kubeLabTest('a kubeconfig with a client certificate instead of a token is accepted', async () => {
    const { lab, api } = kube();
    const anonymous = await lab.exec(CLIENT_HOST, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', `${api.folder}/ca.crt`, `${api.server}/api/v1/namespaces`]);
    assert.equal(anonymous.stdout, '401', 'without a token or certificate the server refuses');
    assert.equal(api.access.server, 'https://192.0.2.2:6443');
    assert.match(api.access.ca, /BEGIN CERTIFICATE/);
    const certified = await KubernetesClientProcess.start(lab, CLIENT_HOST, api.certificateKubeconfig);
    try {
      const namespaces = await certified.call<{ items: { metadata: { name: string } }[] }>('request', { method: 'GET', path: '/api/v1/namespaces' });
      assert.ok(namespaces.items.some((item) => item.metadata.name === 'default'));
    } finally {
      await certified.close();
    }
  });
});
