import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ClusterAccessError, inClusterAccess, kubeconfigAccess } from '../../src/kubernetes/cluster-access.js';

const folder = mkdtempSync(join(tmpdir(), 'vipkit-cluster-access-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

function kubeconfig(name: string, config: unknown): string {
  const path = join(folder, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

function config(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://192.0.2.2:6443', 'certificate-authority-data': Buffer.from(CA).toString('base64') }) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'lab',
    contexts: [
      { name: 'lab', context: { cluster: 'lab', user: 'me', namespace: 'shop' } },
      { name: 'other', context: { cluster: 'other', user: 'me' } },
    ],
    clusters: [
      { name: 'lab', cluster },
      { name: 'other', cluster: { server: 'https://[2001:db8::2]:6443/' } },
    ],
    users: [{ name: 'me', user }],
  };
}

test('in-cluster: the service account files and KUBERNETES_SERVICE_HOST/PORT, an IPv6 host in brackets', () => {
  const account = join(folder, 'serviceaccount');
  mkdirSync(account);
  writeFileSync(join(account, 'token'), 'eyJ.token\n');
  writeFileSync(join(account, 'ca.crt'), CA);
  writeFileSync(join(account, 'namespace'), 'metallb-system');
  assert.deepEqual(inClusterAccess({ KUBERNETES_SERVICE_HOST: '198.18.0.1', KUBERNETES_SERVICE_PORT: '443' }, account), {
    server: 'https://198.18.0.1:443',
    ca: CA,
    tokenFile: join(account, 'token'),
    namespace: 'metallb-system',
  });
  assert.equal(inClusterAccess({ KUBERNETES_SERVICE_HOST: '2001:db8::1', KUBERNETES_SERVICE_PORT: '443' }, account).server, 'https://[2001:db8::1]:443');
  assert.throws(() => inClusterAccess({}, account), /not running in a Kubernetes pod.*--kubeconfig/);
  assert.throws(() => inClusterAccess({ KUBERNETES_SERVICE_HOST: '198.18.0.1', KUBERNETES_SERVICE_PORT: '443' }, join(folder, 'missing')), /cannot read the service account token .*ENOENT/);
});

test('kubeconfig with a token: the current context, its namespace, the CA from inline data', () => {
  assert.deepEqual(kubeconfigAccess(kubeconfig('token', config({ token: 'abc' }))), { server: 'https://192.0.2.2:6443', ca: CA, token: 'abc', namespace: 'shop' });
});

test('kubeconfig written as YAML, another context chosen, a trailing slash dropped', () => {
  const yaml = `apiVersion: v1
kind: Config
current-context: lab
contexts:
- name: other
  context: {cluster: other, user: me}
clusters:
- name: other
  cluster:
    server: https://[2001:db8::2]:6443/
    tls-server-name: kubernetes
users:
- name: me
  user:
    token: xyz
`;
  assert.deepEqual(kubeconfigAccess(kubeconfig('yaml', yaml), 'other'), { server: 'https://[2001:db8::2]:6443', tlsServerName: 'kubernetes', token: 'xyz' });
});

test('kubeconfig with a client certificate: inline data, or files relative to the kubeconfig', () => {
  writeFileSync(join(folder, 'client.crt'), 'CERT');
  writeFileSync(join(folder, 'client.key'), 'KEY');
  writeFileSync(join(folder, 'ca.crt'), CA);
  const files = kubeconfigAccess(kubeconfig('files', config({ 'client-certificate': 'client.crt', 'client-key': join(folder, 'client.key') }, { server: 'https://192.0.2.2:6443', 'certificate-authority': 'ca.crt' })));
  assert.deepEqual(files, { server: 'https://192.0.2.2:6443', ca: CA, clientCertificate: 'CERT', clientKey: 'KEY', namespace: 'shop' });
  const inline = kubeconfigAccess(kubeconfig('inline', config({ 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64') })));
  assert.equal(inline.clientCertificate, 'CERT');
  assert.equal(inline.clientKey, 'KEY');
});

test('kubeconfig with a tokenFile: kept as a path (relative to the kubeconfig), read at use', () => {
  assert.equal(kubeconfigAccess(kubeconfig('token-file', config({ tokenFile: 'token.txt' }))).tokenFile, join(folder, 'token.txt'));
});

test('what vipkit cannot honour is refused in one sentence', () => {
  const cases: [string, unknown, RegExp][] = [
    ['exec', config({ exec: { command: 'aws' } }), /authenticates with exec, which vipkit cannot/],
    ['provider', config({ 'auth-provider': { name: 'oidc' } }), /auth-provider/],
    ['insecure', config({ token: 'a' }, { server: 'https://192.0.2.2:6443', 'insecure-skip-tls-verify': true }), /skips TLS verification, which vipkit refuses/],
    ['half-certificate', config({ 'client-certificate-data': 'QQ==' }), /both client-certificate and client-key/],
    ['no-server', config({ token: 'a' }, {}), /needs a server URL/],
    ['no-context', { ...config({ token: 'a' }), 'current-context': 'gone' }, /no context named "gone"/],
    ['no-current', { ...config({ token: 'a' }), 'current-context': undefined }, /no current-context/],
    ['not-yaml', ': : :\n  - [', /does not read/],
    ['scalar', '42', /does not read: it is not a YAML mapping/],
  ];
  for (const [name, content, message] of cases) {
    assert.throws(() => kubeconfigAccess(kubeconfig(name, content)), (error: unknown) => error instanceof ClusterAccessError && message.test(error.message), name);
  }
  assert.throws(() => kubeconfigAccess(join(folder, 'absent')), /cannot read kubeconfig .*ENOENT/);
});
