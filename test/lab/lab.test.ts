import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Lab, withLab } from '../../src/lab/lab.js';
import { labTest } from '../helpers/root.js';

const TWO_HOSTS = {
  hosts: [
    { name: 'a', addresses: ['192.0.2.11/24', '2001:db8:2::11/64'] },
    { name: 'b', addresses: ['192.0.2.12/24', '2001:db8:2::12/64'], mac: '02:00:00:00:00:12' },
  ],
};

const ECHO_PORT = 7007;
const ECHO_SERVER = `require('net').createServer((s) => s.end('pong')).listen(${ECHO_PORT}, '::', () => console.log('listening'))`;
const ECHO_CLIENT = `require('net').connect(${ECHO_PORT}, process.argv[1]).on('data', (d) => process.stdout.write(d))`;

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name !== '');
}

labTest('hosts in a lab reach each other over IPv4 and IPv6, and destroy removes the lab', async () => {
  const lab = await Lab.create(TWO_HOSTS);
  const created = [lab.id, lab.namespace('a'), lab.namespace('b')];
  try {
    assert.deepEqual(
      created.filter((name) => namespaces().includes(name)),
      created,
    );
    assert.equal(lab.mac('b'), '02:00:00:00:00:12');
    assert.match(lab.mac('a'), /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    // No ping here: a TCP echo across the bridge proves the same (ARP/NDP, then IP).
    for (const host of ['a', 'b']) {
      const server = lab.spawn(host, [process.execPath, '-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
      await once(server.stdout!, 'data');
    }
    for (const [from, to] of [
      ['a', '192.0.2.12'],
      ['b', '192.0.2.11'],
      ['a', '2001:db8:2::12'],
      ['b', '2001:db8:2::11'],
    ] as const) {
      const result = await lab.exec(from, [process.execPath, '-e', ECHO_CLIENT, to], { timeoutMs: 5_000 });
      assert.equal(result.stdout, 'pong', `${from} -> ${to}: ${result.stderr}`);
    }
  } finally {
    await lab.destroy();
  }
  assert.deepEqual(
    created.filter((name) => namespaces().includes(name)),
    [],
  );
  await lab.destroy();
});

labTest('a lab refuses addresses outside the documentation ranges', async () => {
  for (const address of ['10.0.0.1/24', '192.0.2.11/16', '2001:db9::1/64', '192.0.2.11']) {
    await assert.rejects(
      Lab.create({ hosts: [{ name: 'a', addresses: [address] }] }),
      new RegExp(`lab address ${address.replace(/[./]/g, '\\$&')} refused`),
    );
  }
  await withLab({ hosts: [{ name: 'a', addresses: [] }] }, async (lab) => {
    await assert.rejects(lab.addAddress('a', '10.1.2.3/32'), /refused/);
    await lab.addAddress('a', '198.18.0.1/32');
    const shown = await lab.exec('a', ['ip', '-br', 'address', 'show', 'eth0']);
    assert.match(shown.stdout, /198\.18\.0\.1\/32/);
    await lab.removeAddress('a', '198.18.0.1/32');
  });
});

labTest('withLab cleans up after a failing body and its spawned processes', async () => {
  let created: string[] = [];
  await assert.rejects(
    withLab(TWO_HOSTS, async (lab) => {
      created = [lab.id, lab.namespace('a'), lab.namespace('b')];
      lab.spawn('a', ['sleep', '60'], { stdio: 'ignore' });
      throw new Error('body failed');
    }),
    /body failed/,
  );
  assert.equal(created.length, 3);
  assert.deepEqual(
    created.filter((name) => namespaces().includes(name)),
    [],
  );
});

labTest('a lab that fails to build removes what it made', async () => {
  // A multicast MAC passes the syntax check but the kernel refuses it on the veth.
  const error = await Lab.create({
    hosts: [
      { name: 'a', addresses: ['192.0.2.11/24'] },
      { name: 'b', addresses: ['192.0.2.12/24'], mac: '01:00:5e:00:00:01' },
    ],
  }).then(
    () => assert.fail('create should have failed'),
    (reason: Error) => reason,
  );
  const id = /building lab (vk[0-9a-f]+) failed/.exec(error.message)?.[1];
  assert.ok(id, error.message);
  assert.deepEqual(
    namespaces().filter((name) => name === id || name.startsWith(`${id}-`)),
    [],
  );
});

labTest('exec reports exit codes and times out instead of hanging', async () => {
  await withLab({ hosts: [{ name: 'a', addresses: ['192.0.2.11/24'] }] }, async (lab) => {
    assert.equal((await lab.exec('a', ['false'])).code, 1);
    await assert.rejects(lab.exec('a', ['sleep', '5'], { timeoutMs: 200 }), /timed out after 200 ms/);
  });
});

/** A separate node process that builds a lab, prints its id, then `ending` (JS) runs. */
async function labInChild(ending: string): Promise<{ id: string; child: ReturnType<typeof spawn> }> {
  const labModule = new URL('../../src/lab/lab.js', import.meta.url).href;
  const source = `import { Lab } from '${labModule}';
const lab = await Lab.create({ hosts: [{ name: 'a', addresses: ['192.0.2.11/24'] }] });
console.log(lab.id);
${ending}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { id: chunk.toString().trim(), child };
}

for (const [how, ending, signal] of [
  ['SIGTERM', 'setInterval(() => {}, 1000);', 'SIGTERM'],
  ['SIGINT', 'setInterval(() => {}, 1000);', 'SIGINT'],
  ['process.exit()', 'setTimeout(() => process.exit(3), 50);', undefined],
  ['an uncaught exception', "setTimeout(() => { throw new Error('crash'); }, 50);", undefined],
] as const) {
  labTest(`a lab is removed when its process ends by ${how}`, async () => {
    const { id, child } = await labInChild(ending);
    assert.ok(namespaces().includes(id), `lab ${id} was built`);
    const exited = once(child, 'exit');
    if (signal !== undefined) child.kill(signal);
    const [code, killedBy] = (await exited) as [number | null, string | null];
    if (signal !== undefined) assert.equal(killedBy, signal, 'the process still dies of the signal');
    else assert.notEqual(code, 0);
    assert.deepEqual(
      namespaces().filter((name) => name.startsWith(id)),
      [],
    );
  });
}
