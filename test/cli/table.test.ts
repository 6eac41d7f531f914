import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable, GrowingTable, printTable } from '../../src/cli/table.js';
import { Ui } from '../../src/cli/ui.js';

test('columns are as wide as their widest cell, two spaces apart, with no trailing spaces', () => {
  assert.deepEqual(
    formatTable([
      ['ADDRESS', 'MAC', 'NAME', ''],
      ['192.0.2.11', '02:00:5e:10:01:11', 'node1', ''],
      ['192.0.2.100', '02:00:5e:10:01:11, 02:00:5e:10:01:12', '-', 'DUPLICATE'],
    ]),
    [
      'ADDRESS      MAC                                   NAME',
      '192.0.2.11   02:00:5e:10:01:11                     node1',
      '192.0.2.100  02:00:5e:10:01:11, 02:00:5e:10:01:12  -      DUPLICATE',
    ],
  );
});

test('a growing table pads to its minimum widths and widens for the rows after a wider cell', () => {
  const table = new GrowingTable([6, 4]);
  assert.deepEqual(
    [['a', 'b', 'c'], ['longer cell', 'b', 'c'], ['a', 'b', 'c'], ['a', '', '']].map((row) => table.format(row)),
    ['a       b     c', 'longer cell  b     c', 'a            b     c', 'a'],
  );
});

test('printTable puts the header in bold and the highlighted rows in yellow on a terminal', () => {
  const noColor = process.env['NO_COLOR'];
  delete process.env['NO_COLOR'];
  try {
    let written = '';
    const stream = { isTTY: true, write: (text: string) => ((written += text), true) } as unknown as NodeJS.WriteStream;
    const ui = new Ui({}, { out: stream as typeof process.stdout, err: stream as typeof process.stderr });
    printTable(ui, ['A', 'B'], [['1', 'x'], ['2', 'y']], (row) => row[1] === 'y');
    assert.equal(written, `${ui.style.bold('A  B')}\n1  x\n${ui.style.yellow.bold('2  y')}\n`);
    assert.notEqual(ui.style.bold('A'), 'A', 'a terminal gets colour');
  } finally {
    if (noColor !== undefined) process.env['NO_COLOR'] = noColor;
  }
});
