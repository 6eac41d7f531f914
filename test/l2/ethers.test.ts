import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEthers } from '../../src/l2/ethers.js';

test('ethers: names by normalised MAC, comments ignored, lines that are not "MAC name" reported once', () => {
  const folder = mkdtempSync(join(tmpdir(), 'vipkit-ethers-'));
  try {
    const file = join(folder, 'ethers');
    writeFileSync(file, '# lab nodes\n8:0:20:1:2:3 node1\n02-00-5E-10-01-12\tnode2 # spine\n\nnot-a-mac node3\n02:00:5e:10:01:13\n');
    const warnings: string[] = [];
    const names = loadEthers(file, (sentence) => warnings.push(sentence));
    assert.deepEqual([...names], [
      ['08:00:20:01:02:03', 'node1'],
      ['02:00:5e:10:01:12', 'node2'],
    ]);
    assert.deepEqual(warnings, [`${file}: lines 5, 6 not "MAC name"; skipped.`]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
