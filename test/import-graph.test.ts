/**
 * The layering DESIGN.md draws, checked on the source rather than trusted: data flows one
 * way (core -> commands), so nothing outside src/cli/ depends on src/cli/ or on commander,
 * and only the pcap link loads `cap`, which works in one thread per process only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

/** dist/test/ is two levels below the repository root. */
const SRC = new URL('../../src/', import.meta.url);
const PCAP_LINK = 'src/link/pcap-link.ts';

/** `from` imports `to`: both repository paths (src/...ts), or `to` a package name. */
interface Arrow {
  from: string;
  to: string;
}

const RULES: { why: string; breaks(arrow: Arrow): boolean }[] = [
  { why: 'only src/cli/ may import src/cli/', breaks: ({ from, to }) => !inCli(from) && inCli(to) },
  { why: 'only src/cli/ may import commander', breaks: ({ from, to }) => to === 'commander' && !inCli(from) },
  { why: `only ${PCAP_LINK} may import cap`, breaks: ({ from, to }) => to === 'cap' && from !== PCAP_LINK },
];

function inCli(file: string): boolean {
  return file.startsWith('src/cli/');
}

/**
 * Every module `text` (the file at repository path `file`) imports: static and type-only
 * imports, re-exports, import() and import types, and require() calls, also through
 * createRequire (how pcap-link.ts loads cap). Comments and strings are not imports.
 */
function importsOf(file: string, text: string): Arrow[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const requireNames = new Set(['require']);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      specifiers.push(node.moduleReference.expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    } else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && isCreateRequire(node.initializer)) {
      requireNames.add(node.name.text);
    } else if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      const loads = callee.kind === ts.SyntaxKind.ImportKeyword || isCreateRequire(callee) || (ts.isIdentifier(callee) && requireNames.has(callee.text));
      if (loads) specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.map((specifier) => ({ from: file, to: resolve(file, specifier) }));
}

function isCreateRequire(node: ts.Node): boolean {
  return ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'createRequire';
}

/** A relative specifier as the repository path of the .ts file it compiles from; a package by its name. */
function resolve(from: string, specifier: string): string {
  if (specifier.startsWith('.')) return path.posix.join(path.posix.dirname(from), specifier).replace(/\.js$/, '.ts');
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Each arrow that breaks a rule, as `from -> to (why)`. */
function violations(arrows: Arrow[]): string[] {
  return arrows.flatMap((arrow) => RULES.filter((rule) => rule.breaks(arrow)).map((rule) => `${arrow.from} -> ${arrow.to} (${rule.why})`));
}

function arrowsOf(files: Map<string, string>): Arrow[] {
  return [...files].flatMap(([file, text]) => importsOf(file, text));
}

function sourceFiles(): Map<string, string> {
  const names = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'));
  return new Map(names.map((name) => [`src/${name.split(path.sep).join('/')}`, readFileSync(new URL(name, SRC), 'utf8')]));
}

test('the source keeps its layers: src/cli/ and commander only from src/cli/, cap only from the pcap link', () => {
  const arrows = arrowsOf(sourceFiles());
  // A scan that read nothing, or missed how cap is loaded, would pass whatever the source did.
  assert.ok(arrows.some(({ from, to }) => from === PCAP_LINK && to === 'cap'), `no ${PCAP_LINK} -> cap arrow found: the scan is broken`);
  assert.ok(arrows.some(({ from, to }) => inCli(from) && to === 'commander'), 'no src/cli/ -> commander arrow found: the scan is broken');
  const found = violations(arrows);
  assert.deepEqual(found, [], `imports that break the layering:\n${found.join('\n')}`);
});

test('the checker finds every way of importing, and only real imports', () => {
  const planted = new Map([
    ['src/bgp/static.ts', `import { Ui } from '../cli/ui.js';\nimport type { Stop } from '../cli/interrupt.js';`],
    ['src/speaker/reexport.ts', `export { formatTable } from '../cli/table.js';`],
    ['src/speaker/lazy.ts', `export const load = () => import('../cli/commands/arping.js');\ntype Table = typeof import('../cli/table.js');`],
    ['src/pools/parser.ts', `import { InvalidArgumentError } from 'commander';`],
    ['src/l2/capture.ts', `import { createRequire } from 'node:module';\nconst { Cap } = createRequire(import.meta.url)('cap');`],
    ['src/observe/capture.ts', `import { createRequire } from 'node:module';\nconst load = createRequire(import.meta.url);\nconst cap = load('cap');`],
    ['src/lab/legacy.ts', `import cap = require('cap');`],
    // Allowed: the CLI itself, the pcap link, and imports that are only text.
    ['src/cli/program.ts', `import { Command } from 'commander';\nimport { Ui } from './ui.js';`],
    [PCAP_LINK, `import { createRequire } from 'node:module';\nconst { Cap } = createRequire(import.meta.url)('cap');`],
    ['src/wire/text.ts', `// import { Ui } from '../cli/ui.js';\nconst hint = "import('cap')";\nexport const name = require.resolve;`],
  ]);
  assert.deepEqual(violations(arrowsOf(planted)), [
    'src/bgp/static.ts -> src/cli/ui.ts (only src/cli/ may import src/cli/)',
    'src/bgp/static.ts -> src/cli/interrupt.ts (only src/cli/ may import src/cli/)',
    'src/speaker/reexport.ts -> src/cli/table.ts (only src/cli/ may import src/cli/)',
    'src/speaker/lazy.ts -> src/cli/commands/arping.ts (only src/cli/ may import src/cli/)',
    'src/speaker/lazy.ts -> src/cli/table.ts (only src/cli/ may import src/cli/)',
    'src/pools/parser.ts -> commander (only src/cli/ may import commander)',
    `src/l2/capture.ts -> cap (only ${PCAP_LINK} may import cap)`,
    `src/observe/capture.ts -> cap (only ${PCAP_LINK} may import cap)`,
    `src/lab/legacy.ts -> cap (only ${PCAP_LINK} may import cap)`,
  ]);
});
