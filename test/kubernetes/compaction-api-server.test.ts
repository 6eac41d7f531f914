/**
 * A watch resumed from a resourceVersion that etcd has compacted away: the API server
 * (watch cache off, so watches read etcd itself) answers 410, and the informer lists
 * again and reports exactly what changed while it was not watching.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { CLIENT_HOST, kubeLabTest, sharedKubeLab, type Notification } from '../helpers/kubernetes-lab.js';

function service(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
}

const WATCH_SECONDS = 2;

describe('a compacted resourceVersion (kube-apiserver 1.20 without watch cache)', () => {
  const kube = sharedKubeLab({ extraArgs: ['--watch-cache=false'] });

  kubeLabTest('410 Gone after compaction: listed again, nothing lost, nothing reported twice', async () => {
    const { api, client } = kube();
    await api.apply(CLIENT_HOST, service('kept'));
    await api.apply(CLIENT_HOST, service('removed'));
    const services = await client.informer('services', { watchTimeoutSeconds: WATCH_SECONDS, pageSize: 2 });
    await services.waitFor('first list', (notification) => notification.event === 'synced');
    const seen = services.notifications.length;

    // Frozen, the client cannot watch; its watch ends on the server's side meanwhile.
    client.pause();
    try {
      await new Promise((resolve) => setTimeout(resolve, (WATCH_SECONDS + 1) * 1000));
      await api.apply(CLIENT_HOST, service('created'));
      assert.equal((await api.kubectl(CLIENT_HOST, ['delete', 'service', 'removed'])).code, 0);
      assert.equal((await api.kubectl(CLIENT_HOST, ['label', 'service', 'kept', 'edited=yes'])).code, 0);
      for (let index = 0; index < 5; index++) assert.equal((await api.kubectl(CLIENT_HOST, ['create', 'configmap', `filler-${index}`])).code, 0);
      await api.compact(await api.etcdRevision());
    } finally {
      client.resume();
    }

    const expired = await services.waitFor('410 Gone', (notification) => notification.event === 'expired', seen);
    assert.match(expired.message ?? '', /410/);
    const relisted = await services.waitFor('the list after 410', (notification) => notification.event === 'synced' && notification.relisted === true, seen);
    const after = services.notifications.slice(seen, services.notifications.indexOf(relisted)).filter((notification) => notification.event === 'change');
    const summary = (notification: Notification) => `${notification.type} ${notification.key}`;
    assert.deepEqual(after.map(summary).sort(), ['added default/created', 'deleted default/removed', 'modified default/kept']);

    await api.apply(CLIENT_HOST, service('afterwards'));
    await services.waitFor('a change after the list', (notification) => notification.event === 'change' && notification.key === 'default/afterwards', seen);
    for (const key of ['default/kept', 'default/created', 'default/removed', 'default/afterwards']) {
      const types = services.changes(key).map((change) => change.type);
      assert.equal(new Set(types).size, types.length, `${key} reported once per change: ${types.join(', ')}`);
    }
  });
});
