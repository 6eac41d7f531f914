/**
 * parseYaml's cache of documents, which run's re-reads of a services file rely on: what it
 * keeps must not keep the file's older versions alive.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'node:test';
import { parseYaml } from '../../src/pools/yaml-source.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function heapUsedAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

test('re-reading a 0.25 MiB services file 200 times, one document changed each time, keeps no old version of the file', () => {
  const documents = Array.from({ length: 2_000 }, (_, index) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: s-${index}\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports:\n  - port: 80\n`);
  const file = () => documents.map((document) => `---\n${document}`).join('');
  assert.equal(parseYaml(file(), 'services.yaml').documents.length, 2_000);
  const before = heapUsedAfterGc();
  for (let round = 0; round < 200; round++) {
    documents[round] = documents[round]!.replace('port: 80', `port: ${81 + round}`);
    assert.equal(parseYaml(file(), 'services.yaml').documents.length, 2_000);
  }
  const grown = heapUsedAfterGc() - before;
  // 200 changed documents cached cost well under 5 MiB; keeping each version of the file would be 200 x 0.25 MiB.
  assert.ok(grown < 15 * 1024 * 1024, `the heap grew ${(grown / 1024 / 1024).toFixed(1)} MiB`);
});
