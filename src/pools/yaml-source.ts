import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar, type Document, type Node as YamlNodeRaw } from 'yaml';
import type { Location, Problem } from './model.js';
import { suggestion } from './suggest.js';

/**
 * YAML (and JSON, which is YAML) read into plain located nodes: every map, key, list and
 * scalar knows its line and column, so the readers can point at what is wrong.
 */
export type YamlNode = YamlMap | YamlSeq | YamlScalar;

export interface YamlMap {
  kind: 'map';
  at: Location;
  entries: { key: string; keyAt: Location; value: YamlNode }[];
}

export interface YamlSeq {
  kind: 'seq';
  at: Location;
  items: YamlNode[];
}

export interface YamlScalar {
  kind: 'scalar';
  at: Location;
  value: string | number | boolean | null;
  /** Written as a block (`|` or `>`): its content starts on the next line. */
  block?: true;
}

/** Maps an offset in the parsed text to a place in the file the user wrote. */
type Placer = (offset: number) => Location;

export interface ParsedDocuments {
  documents: YamlNode[];
  problems: Problem[];
}

export function parseYaml(text: string, source: string): ParsedDocuments {
  // Directives (%YAML, %TAG) govern the documents after them: such a file is read whole.
  if (/^%/m.test(text)) return parseWhole(text, source);
  const parsed: ParsedDocuments = { documents: [], problems: [] };
  for (const { text: chunk, firstLine } of documentChunks(text)) {
    const json = jsonDocument(chunk);
    if (json !== undefined) {
      parsed.documents.push(fromJson(json, { source, line: firstLine, column: 1 }));
      continue;
    }
    let cached = parsedChunks.get(chunk);
    if (cached === undefined) {
      const own = ownCopy(chunk);
      cached = { relative: parseWhole(own, '') };
      remember(own, cached);
    }
    // A document that stayed where it was (most of them, as a file grows) is reused as placed.
    if (cached.placed?.source !== source || cached.placed.firstLine !== firstLine) {
      const at = (location: Location): Location => ({ ...location, source, line: location.line! + firstLine - 1 });
      const { documents, problems } = cached.relative;
      cached.placed = { source, firstLine, documents: documents.map((node) => relocated(node, at)), problems: problems.map((problem) => ({ ...problem, at: at(problem.at) })) };
    }
    parsed.documents.push(...cached.placed.documents);
    parsed.problems.push(...cached.placed.problems);
  }
  return parsed;
}

/**
 * Files that run re-reads on every change (a services file of thousands of documents, a
 * cluster's snapshot) change a document or two at a time: each document is parsed once,
 * and found again by its text, wherever it moved in the file.
 */
type CachedChunk = { relative: ParsedDocuments; placed?: ParsedDocuments & { source: string; firstLine: number } };
const parsedChunks = new Map<string, CachedChunk>();
/** The text the cache holds, at most (its parsed nodes take several times that): oldest out first beyond it; a document larger than a tenth of it is not kept. */
const MAX_CACHED_CHARACTERS = 4 * 1024 * 1024;
let cachedCharacters = 0;

function remember(chunk: string, parsed: CachedChunk): void {
  if (chunk.length > MAX_CACHED_CHARACTERS / 10) return;
  parsedChunks.set(chunk, parsed);
  cachedCharacters += chunk.length;
  for (const oldest of parsedChunks.keys()) {
    if (cachedCharacters <= MAX_CACHED_CHARACTERS) break;
    parsedChunks.delete(oldest);
    cachedCharacters -= oldest.length;
  }
}

/**
 * `text` copied into a string of its own. A V8 substring keeps the whole string it was cut
 * from alive, and so do the strings parsed out of it: a cached document cut from a file
 * would keep every version of that file in memory (30 MiB per 100 re-reads of a 0.3 MiB
 * services file with one document changed each time).
 */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** The text split before each document start marker (`---` at the start of a line), with the line each part starts on. */
function documentChunks(text: string): { text: string; firstLine: number }[] {
  const chunks: { text: string; firstLine: number }[] = [];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let start = 0;
  let line = 1;
  for (let match = marker.exec(text); match !== null; match = marker.exec(text)) {
    if (match.index === start) continue;
    const chunk = text.slice(start, match.index);
    chunks.push({ text: chunk, firstLine: line });
    line += chunk.split('\n').length - 1;
    start = match.index;
  }
  chunks.push({ text: text.slice(start), firstLine: line });
  return chunks;
}

function parseWhole(text: string, source: string): ParsedDocuments {
  const lines = new LineCounter();
  const place: Placer = (offset) => {
    const { line, col } = lines.linePos(offset);
    return { source, line, column: col };
  };
  return parseWithPlacer(text, lines, place);
}

/**
 * A document that is one JSON object on one line (as a cluster's snapshot writes each
 * object) read by JSON.parse, many times faster than the YAML parser, its nodes all on
 * that line; undefined for anything else, which the YAML parser reads with the place of
 * each node (a JSON file written over many lines included).
 */
function jsonDocument(chunk: string): unknown {
  const body = chunk.replace(/^---[^\n]*\n/, '').trim();
  if (!body.startsWith('{') || body.includes('\n')) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON as located nodes, all on the document's one line. */
function fromJson(value: unknown, at: Location): YamlNode {
  if (Array.isArray(value)) return { kind: 'seq', at, items: value.map((item) => fromJson(item, at)) };
  if (value !== null && typeof value === 'object') {
    return { kind: 'map', at, entries: Object.entries(value).map(([key, entry]) => ({ key, keyAt: at, value: fromJson(entry, at) })) };
  }
  return { kind: 'scalar', at, value: value as string | number | boolean | null };
}

/** A cached document's nodes, placed where the document is in this file now. */
function relocated(node: YamlNode, at: (location: Location) => Location): YamlNode {
  switch (node.kind) {
    case 'map':
      return { kind: 'map', at: at(node.at), entries: node.entries.map((entry) => ({ key: entry.key, keyAt: at(entry.keyAt), value: relocated(entry.value, at) })) };
    case 'seq':
      return { kind: 'seq', at: at(node.at), items: node.items.map((item) => relocated(item, at)) };
    case 'scalar':
      return { ...node, at: at(node.at) };
  }
}

/**
 * YAML held in a string scalar of another document (a ConfigMap's `data.config`): positions
 * inside it are mapped back to the file, so problems point at the real line.
 */
export function parseEmbeddedYaml(scalar: YamlScalar, fileText: string): ParsedDocuments {
  const inner = new LineCounter();
  return parseWithPlacer(String(scalar.value ?? ''), inner, embeddedPlacer(scalar, fileText, inner));
}

function embeddedPlacer(scalar: YamlScalar, fileText: string, inner: LineCounter): Placer {
  if (!scalar.block || scalar.at.line === undefined) return () => scalar.at;
  // A block scalar's content starts on the line after its `|` header, indented uniformly.
  const fileLines = fileText.split('\n');
  const firstLine = scalar.at.line + 1;
  const contentLine = fileLines.slice(firstLine - 1).find((line) => line.trim() !== '') ?? '';
  const indent = contentLine.length - contentLine.trimStart().length;
  return (offset) => {
    const { line, col } = inner.linePos(offset);
    return { source: scalar.at.source, line: firstLine + line - 1, column: col + indent };
  };
}

function parseWithPlacer(text: string, lines: LineCounter, place: Placer): ParsedDocuments {
  const problems: Problem[] = [];
  const documents: YamlNode[] = [];
  for (const document of parseAllDocuments(text, { lineCounter: lines })) {
    for (const error of document.errors) {
      problems.push({ severity: 'error', at: place(error.pos[0]), message: `YAML syntax error: ${firstSentence(error.message)}` });
    }
    // An empty document (a trailing ---, as configmaptocrs writes) holds nothing, as kubectl reads it.
    if (document.errors.length > 0 || document.contents === null || (isScalar(document.contents) && document.contents.value === null)) continue;
    documents.push(converter(document, place, problems)(document.contents));
  }
  return { documents, problems };
}

/** The yaml package appends a code excerpt after the first line of its messages. */
function firstSentence(message: string): string {
  const line = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
  return line.endsWith('.') ? line : `${line}.`;
}

/** As the yaml package's own maxAliasCount: enough for any config, and it bounds a document whose aliases nest (billion laughs). */
const MAX_ALIASES = 100;

/**
 * Reads one document's nodes. An alias (*x) reads as the node its anchor (&x) marks,
 * located where the anchor is, which is where its values are written; one that cannot be
 * read so is a problem at the alias.
 */
function converter(document: Document, place: Placer, problems: Problem[]): (node: YamlNodeRaw) => YamlNode {
  const open = new Set<YamlNodeRaw>();
  let aliases = 0;
  const convert = (node: YamlNodeRaw): YamlNode => {
    const at = place(node.range?.[0] ?? 0);
    if (isAlias(node)) {
      const anchored = node.resolve(document);
      const refusal =
        anchored === undefined
          ? `alias *${node.source} has no anchor &${node.source} before it`
          : open.has(anchored)
            ? `alias *${node.source} is inside the node its anchor marks, so it would never end`
            : ++aliases > MAX_ALIASES
              ? `this document has more than ${MAX_ALIASES} aliases; write the values out`
              : undefined;
      if (refusal === undefined) return convert(anchored!);
      // Past the limit, the document is refused once, not at every alias left.
      if (aliases <= MAX_ALIASES + 1) problems.push({ severity: 'error', at, message: `${refusal}.` });
      return { kind: 'scalar', at, value: null };
    }
    open.add(node);
    try {
      return convertNode(node, at, convert, place);
    } finally {
      open.delete(node);
    }
  };
  return convert;
}

function convertNode(node: YamlNodeRaw, at: Location, convert: (node: YamlNodeRaw) => YamlNode, place: Placer): YamlNode {
  if (isMap(node)) {
    const entries: YamlMap['entries'] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNodeRaw | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const keyAt = place(keyNode?.range?.[0] ?? node.range?.[0] ?? 0);
      const valueNode = pair.value as YamlNodeRaw | null;
      const value: YamlNode = valueNode ? convert(valueNode) : { kind: 'scalar', at: keyAt, value: null };
      entries.push({ key, keyAt, value });
    }
    return { kind: 'map', at, entries };
  }
  if (isSeq(node)) {
    return { kind: 'seq', at, items: node.items.map((item) => convert(item as YamlNodeRaw)) };
  }
  const scalar = node as Scalar;
  const value = scalar.value;
  const converted: YamlScalar = {
    kind: 'scalar',
    at,
    value: typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : value === null || value === undefined ? null : String(value),
  };
  if (scalar.type === Scalar.BLOCK_LITERAL || scalar.type === Scalar.BLOCK_FOLDED) converted.block = true;
  return converted;
}

export function entry(map: YamlMap, key: string): YamlNode | undefined {
  return map.entries.find((candidate) => candidate.key === key)?.value;
}

/**
 * Reads one YAML map against the keys it may hold: unknown keys become problems with a
 * "did you mean", and each accessor reports a value of the wrong type at its position.
 */
export class FieldReader {
  constructor(
    readonly map: YamlMap,
    private readonly what: string,
    private readonly problems: Problem[],
    known: readonly string[],
  ) {
    for (const { key, keyAt } of map.entries) {
      if (!known.includes(key)) problems.push({ severity: 'error', at: keyAt, message: `unknown key "${key}" in ${what}${suggestion(key, known)}` });
    }
  }

  has(key: string): boolean {
    return entry(this.map, key) !== undefined;
  }

  at(key: string): Location {
    return entry(this.map, key)?.at ?? this.map.at;
  }

  node(key: string): YamlNode | undefined {
    return entry(this.map, key);
  }

  string(key: string): string | undefined {
    const node = entry(this.map, key);
    if (node === undefined || (node.kind === 'scalar' && node.value === null)) return undefined;
    if (node.kind !== 'scalar') return this.wrongType(node, key, 'a string');
    return String(node.value);
  }

  integer(key: string, min: number, max: number): number | undefined {
    const node = entry(this.map, key);
    if (node === undefined) return undefined;
    const value = node.kind === 'scalar' ? Number(node.value) : NaN;
    if (node.kind !== 'scalar' || typeof node.value === 'boolean' || !Number.isInteger(value) || value < min || value > max) {
      return this.wrongType(node, key, `a whole number from ${min} to ${max}`);
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    const node = entry(this.map, key);
    if (node === undefined) return undefined;
    if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
    return this.wrongType(node, key, 'true or false');
  }

  list(key: string): YamlNode[] {
    const node = entry(this.map, key);
    if (node === undefined || (node.kind === 'scalar' && node.value === null)) return [];
    if (node.kind !== 'seq') return this.wrongType(node, key, 'a list') ?? [];
    return node.items;
  }

  mapping(key: string): YamlMap | undefined {
    const node = entry(this.map, key);
    if (node === undefined || (node.kind === 'scalar' && node.value === null)) return undefined;
    if (node.kind !== 'map') return this.wrongType(node, key, 'a mapping of keys to values');
    return node;
  }

  stringList(key: string): { value: string; at: Location }[] {
    return this.list(key).flatMap((item) => {
      if (item.kind === 'scalar' && item.value !== null) return [{ value: String(item.value), at: item.at }];
      this.problems.push({ severity: 'error', at: item.at, message: `each item of "${key}" in ${this.what} must be a string.` });
      return [];
    });
  }

  stringMap(key: string): Record<string, string> {
    const map = this.mapping(key);
    const result: Record<string, string> = {};
    for (const { key: name, value } of map?.entries ?? []) {
      if (value.kind === 'scalar') result[name] = String(value.value ?? '');
      else this.problems.push({ severity: 'error', at: value.at, message: `"${name}" in "${key}" of ${this.what} must be a string.` });
    }
    return result;
  }

  private wrongType(node: YamlNode, key: string, expected: string): undefined {
    const shown = node.kind === 'scalar' ? JSON.stringify(node.value) : `a ${node.kind === 'map' ? 'mapping' : 'list'}`;
    this.problems.push({ severity: 'error', at: node.at, message: `"${key}" in ${this.what} is ${shown}; it must be ${expected}.` });
    return undefined;
  }
}

/** A YAML node that must be a map; reports it when not. */
export function expectMap(node: YamlNode, what: string, problems: Problem[]): YamlMap | undefined {
  if (node.kind === 'map') return node;
  problems.push({ severity: 'error', at: node.at, message: `${what} must be a mapping of keys to values.` });
  return undefined;
}
