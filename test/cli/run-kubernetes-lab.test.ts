import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { KubeApiServer, kubeApiServerUnavailableReason } from '../../src/lab/kube-apiserver.js';
import { Lab } from '../../src/lab/lab.js';
import { placementOrder } from '../../src/speaker/election.js';
import { endpointSlice, kubeLabTest, kubernetesList, metallbCrd } from '../helpers/kubernetes-lab.js';
import { labUnavailableReason } from '../helpers/root.js';
import { startVipkitJson, until, type VipkitProcess } from '../helpers/vipkit-process.js';
import { VIPKIT } from './run-vipkit.js';

/**
 * `vipkit run --kubeconfig` against a real API server (1.20, in the lab): the speakers on
 * node1 and node2 take the pool, the Services and the members from the cluster — MetalLB's
 * IPAddressPool and L2Advertisement, the LoadBalancer Services, the Nodes — and each VIP is
 * answered by the node MetalLB's order names, as iputils arping from the client sees it.
 * One of them, elected on a Lease, writes each Service's status.loadBalancer.ingress and
 * records IPAllocated or AllocationFailed, as MetalLB's controller does. A Service created
 * or deleted with kubectl is answered or dropped, a Node labelled out of load balancing
 * hands its VIPs over; while the API server is down the speakers
 * keep answering and say so; a leader that stops hands the Lease over.
 */
const SPEC = {
  hosts: [
    { name: 'api', addresses: ['192.0.2.5/24'] },
    { name: 'client', addresses: ['192.0.2.10/24'] },
    { name: 'node1', addresses: ['192.0.2.11/24'] },
    { name: 'node2', addresses: ['192.0.2.12/24'] },
  ],
};
const NODES = ['node1', 'node2'];

const service = (name: string, ip: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', loadBalancerIP: ip, selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }] },
});

describe('vipkit run on Kubernetes', { skip: labUnavailableReason() ?? kubeApiServerUnavailableReason() }, () => {
  let lab: Lab;
  let api: KubeApiServer;
  const speakers: VipkitProcess[] = [];
  const sockets = mkdtempSync(join(tmpdir(), 'vipkit-run-kubernetes-'));

  before(async () => {
    lab = await Lab.create(SPEC);
    api = await KubeApiServer.start(lab, { host: 'api', address: '192.0.2.5' });
  });
  after(async () => {
    for (const speaker of speakers) speaker.child.kill('SIGKILL');
    await api?.stop();
    await lab?.destroy();
    rmSync(sockets, { recursive: true, force: true });
  });

  /** The MACs that answer the client's broadcast ARP for `ip`, from iputils arping. */
  const answering = async (ip: string): Promise<string[]> => {
    const { stdout } = await lab.exec('client', ['arping', '-b', '-c', '2', '-w', '2', '-I', 'eth0', ip]);
    return [...new Set([...stdout.matchAll(/reply from \S+ \[([0-9A-F:]+)\]/g)].map((match) => match[1]!.toLowerCase()))];
  };
  const owner = (ip: string) => placementOrder(NODES, ip)[0]!;

  kubeLabTest('the pool, Services and members come from the cluster; kubectl changes reach the wire; an unreachable API server changes nothing', async () => {
    const crds = [metallbCrd('IPAddressPool', 'ipaddresspools', 'v1beta1'), metallbCrd('L2Advertisement', 'l2advertisements', 'v1beta1')];
    await api.apply('api', kubernetesList(crds));
    const established = await api.kubectl('api', ['wait', '--for=condition=established', '--timeout=30s', 'crd/ipaddresspools.metallb.io', 'crd/l2advertisements.metallb.io']);
    assert.equal(established.code, 0, established.stderr);
    assert.equal((await api.kubectl('api', ['create', 'namespace', 'metallb-system'])).code, 0);
    await api.apply(
      'api',
      kubernetesList([
        { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lab', namespace: 'metallb-system' }, spec: { addresses: ['192.0.2.100-192.0.2.120'] } },
        { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'lab', namespace: 'metallb-system' }, spec: { ipAddressPools: ['lab'] } },
        ...NODES.map((node, index) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: node }, status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${11 + index}` }] } })),
        service('web', '192.0.2.100'),
        endpointSlice('web', 'node1'),
      ]),
    );
    for (const node of NODES) {
      speakers.push(startVipkitJson(lab, node, ['run', '--json', '--kubeconfig', api.kubeconfig, '--node-name', node, '--socket', join(sockets, `${node}.sock`)]));
    }
    for (const speaker of speakers) await until('the speaker sees its member Up', () => speaker.events.some((event) => event.event === 'memberUp') || speaker.child.exitCode !== null);
    for (const speaker of speakers) assert.equal(speaker.child.exitCode, null, speaker.stderr());
    await until(`192.0.2.100 is answered by ${owner('192.0.2.100')} alone`, async () => JSON.stringify(await answering('192.0.2.100')) === JSON.stringify([lab.mac(owner('192.0.2.100'))]));

    // One speaker writes the address into the Service's status and says so in an Event.
    const ingress = async (name: string) => (await api.kubectl('api', ['get', 'service', name, '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).stdout.trim();
    await until("web's status holds its address", async () => (await ingress('web')) === '192.0.2.100');
    const leaders = () => speakers.filter((speaker) => speaker.events.filter((event) => event.event === 'leaderElected').length > speaker.events.filter((event) => event.event === 'leaderLost').length);
    assert.equal(leaders().length, 1, 'exactly one speaker leads');
    const events = async (name: string) => (await api.kubectl('api', ['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}'])).stdout;
    await until('web has its IPAllocated Event', async () => (await events('web')).includes('IPAllocated: Assigned IP ["192.0.2.100"]'));
    await api.apply('api', JSON.stringify(service('outside', '198.51.100.1')));
    await until('outside has its AllocationFailed Event', async () => /AllocationFailed: Failed to allocate IP for "default\/outside": .*198\.51\.100\.1/.test(await events('outside')));
    assert.equal(await ingress('outside'), '');

    // kubectl creates a Service and deletes another: the speakers follow.
    await api.apply('api', kubernetesList([service('api', '192.0.2.101'), endpointSlice('api', 'node2')]));
    await until(`192.0.2.101 is answered by ${owner('192.0.2.101')} alone`, async () => JSON.stringify(await answering('192.0.2.101')) === JSON.stringify([lab.mac(owner('192.0.2.101'))]));

    // A Node labelled out of load balancing gives its VIP to the next node; the label removed, it takes it back.
    const [first, second] = placementOrder(NODES, '192.0.2.101') as [string, string];
    const exclude = 'node.kubernetes.io/exclude-from-external-load-balancers';
    assert.equal((await api.kubectl('api', ['label', 'node', first, `${exclude}=`])).code, 0);
    await until(`192.0.2.101 moves to ${second}`, async () => JSON.stringify(await answering('192.0.2.101')) === JSON.stringify([lab.mac(second)]));
    assert.equal((await api.kubectl('api', ['label', 'node', first, `${exclude}-`])).code, 0);
    await until(`192.0.2.101 comes back to ${first}`, async () => JSON.stringify(await answering('192.0.2.101')) === JSON.stringify([lab.mac(first)]));
    // Its only endpoint stops being ready: nobody announces it (as MetalLB's speaker does not); then it is deleted.
    await api.apply('api', JSON.stringify(endpointSlice('web', 'node1', false)));
    await until('192.0.2.100, without a ready endpoint, is answered by nobody', async () => (await answering('192.0.2.100')).length === 0);
    assert.ok(speakers.some((speaker) => speaker.events.some((event) => event.event === 'serviceWithdrawn' && event['ip'] === '192.0.2.100' && /no ready endpoint/.test(String(event['reason'])))));
    assert.equal((await api.kubectl('api', ['delete', 'service', 'web'])).code, 0);

    // The API server goes away: announcing goes on from what was last known, and the speakers say so.
    await api.stopApiServer();
    for (const speaker of speakers) await until('the speaker logs apiDisconnected', () => speaker.events.some((event) => event.event === 'apiDisconnected'));
    assert.deepEqual(await answering('192.0.2.101'), [lab.mac(owner('192.0.2.101'))]);
    const status = await lab.exec('node1', [process.execPath, VIPKIT, 'status', '--json', '--socket', join(sockets, 'node1.sock')]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /"connected":false/);
    const scrape = await lab.exec('node1', [process.execPath, '-e', "fetch('http://127.0.0.1:7472/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"]);
    assert.match(scrape.stdout, /^vipkit_kubernetes_connected 0$/m);
    await api.startApiServer();
    for (const speaker of speakers) await until('the speaker logs apiReconnected', () => speaker.events.some((event) => event.event === 'apiReconnected'), 60_000);

    // The leader stops: it gives the Lease up, and the other takes over.
    await until('one speaker leads again', () => leaders().length === 1, 30_000);
    const [leader] = leaders();
    const other = speakers.find((speaker) => speaker !== leader)!;
    assert.equal(await leader!.stop(), 0, leader!.stderr());
    await until('the other speaker leads', () => leaders().includes(other), 30_000);
    assert.equal(await other.stop(), 0, other.stderr());
  }, { timeout: 240_000 });
});
