/**
 * A watch whose reader is busy. kube-apiserver 1.20 stops sending to a watcher whose
 * connection stays full for a moment during a burst of changes, without ending the
 * response: a client reading its watches in its busy main thread hears nothing more until
 * the watch times out, minutes later (at 5,000 Services a speaker missed thousands of
 * changes so). vipkit reads watches in a thread of their own (WatchThread), so a main
 * thread blocked for 1.5 s per batch of changes, as a speaker's re-read of thousands of
 * Services is, loses nothing. The lab's TCP buffers are made small so that 300 Services
 * fill them as thousands fill the default ones: without the thread, this client stops at
 * about 180 of the 300.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { API_HOST, CLIENT_HOST, KubernetesClientProcess, kubeLabTest, kubernetesList, sharedKubeLab } from '../helpers/kubernetes-lab.js';

const SERVICES = 300;
const BUSY_MS = 1_500;
const WRITERS = 16;

const names = Array.from({ length: SERVICES }, (_, index) => `busy-${index}`);
const ingressOf = (index: number) => `198.18.${index >> 8}.${index & 255}`;

function service(name: string): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } };
}

describe('a watch read while the main thread is busy (kube-apiserver 1.20)', () => {
  const kube = sharedKubeLab();

  kubeLabTest(`${SERVICES} Services created, then their statuses written ${WRITERS} at a time: every change seen by a consumer blocked ${BUSY_MS} ms per batch`, async () => {
    const { lab, api, client } = kube();
    for (const [host, setting] of [[CLIENT_HOST, 'net.ipv4.tcp_rmem=4096 65536 131072'], [API_HOST, 'net.ipv4.tcp_wmem=4096 16384 131072']] as const) {
      assert.equal((await lab.exec(host, ['sysctl', '-q', '-w', setting])).code, 0, setting);
    }
    const services = await client.informer('services', { busyMsPerChange: BUSY_MS });
    await services.waitFor('first list', (notification) => notification.event === 'synced');

    const half = SERVICES / 2;
    await Promise.all([names.slice(0, half), names.slice(half)].map((batch) => api.apply(CLIENT_HOST, kubernetesList(batch.map(service)))));
    const writer = await KubernetesClientProcess.start(lab, API_HOST, api.kubeconfig);
    try {
      const queue = names.map((name, index) => ({ name, index }));
      const write = async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          await writer.call('set-ingress', { namespace: 'default', name: next.name, ips: [ingressOf(next.index)] });
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, write));
    } finally {
      await writer.close();
    }

    const ingressSeen = () => {
      const seen = new Map<string, string>();
      for (const change of services.changes()) {
        const ingress = (change.object?.status as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer?.ingress;
        if (ingress?.[0] !== undefined) seen.set(change.key!, ingress[0].ip);
      }
      return seen;
    };
    await services.waitUntil(`ingress in all ${SERVICES} Services`, () => ingressSeen().size === SERVICES, 90_000);
    const seen = ingressSeen();
    names.forEach((name, index) => assert.equal(seen.get(`default/${name}`), ingressOf(index), `${name}'s status as written`));
    assert.deepEqual(services.notifications.filter((notification) => ['expired', 'disconnected'].includes(notification.event)), [], 'the watch never broke');
  });
});
