/**
 * Fields of a MetalLB YAML document read into the model's values: what the legacy config
 * and the CRDs share. Apart from value-parsers.ts so that the flag grammar, which the
 * speaker commands load, does not load a YAML parser (it added 19 MiB to announce's peak
 * memory at 100,000 routes).
 */
import { formatCidr, parseCidrNetwork } from './address-range.js';
import { formatLocation, peerName, type BfdProfile, type LabelSelector, type Location, type Peer, type PoolRange, type Problem, type Severity } from './model.js';
import { suggestion } from './suggest.js';
import { parseLabelKey, parseLabelValue, readAddress, readDuration, readPoolRange, readValue } from './value-parsers.js';
import { expectMap, FieldReader, type YamlNode } from './yaml-source.js';

/** An optional Go duration field (hold-time, holdTime), in seconds. */
export function durationField(fields: FieldReader, key: string, problems: Problem[]): number | undefined {
  const text = fields.string(key);
  return text === undefined ? undefined : readDuration(text, key, fields.at(key), problems);
}

/**
 * A peer's hold and keepalive times in whole seconds, as MetalLB reads them: the hold time
 * is 0 or at least 3 s and the keepalive time at most the hold time (v0.12
 * internal/config/config.go parsePeer, where an unset hold time is 90 s; v0.13 on
 * parseTimers, where either defaults from the other, so only both together can clash).
 */
export function peerTimers(fields: FieldReader, holdKey: string, keepaliveKey: string, defaultHoldTime: number | undefined, problems: Problem[]): { holdTime?: number; keepaliveTime?: number } {
  const holdTime = durationField(fields, holdKey, problems);
  const keepaliveTime = durationField(fields, keepaliveKey, problems);
  if (holdTime !== undefined && holdTime !== 0 && holdTime < 3) {
    problems.push({ severity: 'error', at: fields.at(holdKey), message: `${holdKey} is ${holdTime} s; MetalLB takes 0 or at least 3 s (RFC 4271 4.2).` });
  }
  const hold = holdTime ?? defaultHoldTime;
  if (keepaliveTime !== undefined && hold !== undefined && keepaliveTime > hold) {
    const whose = holdTime === undefined ? `MetalLB's default hold time (${hold} s)` : `${holdKey} (${hold} s)`;
    problems.push({ severity: 'error', at: fields.at(keepaliveKey), message: `${keepaliveKey} (${keepaliveTime} s) is longer than ${whose}; MetalLB refuses that, so make it at most a third of the hold time.` });
  }
  return { holdTime, keepaliveTime };
}

/**
 * A pool's address as MetalLB's ParseCIDR reads it (internal/config/config.go): a range
 * `first-last`, blanks around either address allowed, or else exactly a CIDR, whose host
 * bits Go drops (a warning here: the prefix may be a typo).
 */
export function metallbRange(text: string, at: Location, problems: Problem[]): PoolRange | undefined {
  if (text.includes('-')) return readPoolRange(text, at, problems);
  if (!text.includes('/') || text.trim() !== text) {
    const fix = text.includes('/') ? 'remove the blanks around it' : `give the prefix length, like ${text.trim()}/${text.includes(':') ? 128 : 32}`;
    problems.push({ severity: 'error', at, message: `"${text}" is not a CIDR or a range, and MetalLB refuses it; ${fix}.` });
    return undefined;
  }
  const cidr = readValue(parseCidrNetwork, text, at, problems);
  if (cidr === undefined) return undefined;
  if (cidr.hostBitsSet) problems.push({ severity: 'warning', at, message: `"${text}" has host bits set; MetalLB accepts it as ${formatCidr(cidr.range)}, so write that.` });
  return { text, range: cidr.range, at };
}

/** A BFD profile's keys: kebab-case in the legacy config, camelCase in a BFDProfile. */
export type BfdSpelling = Record<Exclude<keyof BfdProfile, 'name' | 'at'>, string>;

/** internal/config/config.go bfdProfileFromCR (v0.12 parseBFDProfile): each value within its range, in milliseconds. */
export function readBfdProfile(fields: FieldReader, name: string, spelling: BfdSpelling): BfdProfile {
  return {
    name,
    receiveInterval: fields.integer(spelling.receiveInterval, 10, 60000),
    transmitInterval: fields.integer(spelling.transmitInterval, 10, 60000),
    detectMultiplier: fields.integer(spelling.detectMultiplier, 2, 255),
    echoInterval: fields.integer(spelling.echoInterval, 10, 60000),
    echoMode: fields.boolean(spelling.echoMode),
    passiveMode: fields.boolean(spelling.passiveMode),
    minimumTtl: fields.integer(spelling.minimumTtl, 1, 254),
    at: fields.map.at,
  };
}

/**
 * Peers naming a BFD profile that is not among `profiles`: an error in a legacy config,
 * which must define it (v0.12 config.go Parse); a warning among resources, where MetalLB
 * accepts the BGPPeer and waits for the BFDProfile (config.go peersFor, a transient error).
 */
export function checkBfdReferences(peers: readonly Peer[], profiles: readonly BfdProfile[], severity: Severity, problems: Problem[]): void {
  const names = profiles.map((profile) => profile.name);
  for (const peer of peers) {
    if (peer.bfdProfile === undefined || names.includes(peer.bfdProfile)) continue;
    const fix = severity === 'error' ? (names.length > 0 ? suggestion(peer.bfdProfile, names) : '; define it under bfd-profiles.') : "; MetalLB accepts that and waits for it, so make sure a BFDProfile of that name exists.";
    problems.push({ severity, at: peer.at, message: `peer ${peerName(peer)} uses BFD profile "${peer.bfdProfile}", which is not defined ${severity === 'error' ? 'in this config' : 'in these files'}${fix}` });
  }
}

/** An optional address field (router-id, sourceAddress). */
export function addressField(fields: FieldReader, key: string, problems: Problem[]): string | undefined {
  const text = fields.string(key);
  return text === undefined ? undefined : readAddress(text, key, fields.at(key), problems);
}

/** How a source writes its label selectors, and whether MetalLB refuses duplicates in them (v0.13 on: config.go validateLabelSelectorDuplicate). */
export interface SelectorSpelling {
  labels: string;
  expressions: string;
  duplicates: Severity;
}

export const CRD_SELECTORS: SelectorSpelling = { labels: 'matchLabels', expressions: 'matchExpressions', duplicates: 'error' };
/** v0.12 let duplicates pass (its label selectors dropped repeated values). */
export const LEGACY_SELECTORS: SelectorSpelling = { labels: 'match-labels', expressions: 'match-expressions', duplicates: 'warning' };

const SET_OPERATORS = ['In', 'NotIn'];
const OPERATORS = [...SET_OPERATORS, 'Exists', 'DoesNotExist'];

/** The label selectors listed under `key`, each checked as Kubernetes' LabelSelectorAsSelector checks it. */
export function labelSelectorsField(fields: FieldReader, key: string, spelling: SelectorSpelling, problems: Problem[]): LabelSelector[] {
  const read = fields.list(key).flatMap((node) => {
    const selector = readLabelSelector(node, spelling, problems);
    return selector ? [{ selector, at: node.at }] : [];
  });
  reportDuplicates(read.map(({ selector, at }) => ({ value: selectorText(selector), at })), `the ${key} selector`, spelling.duplicates, problems);
  return read.map(({ selector }) => selector);
}

function readLabelSelector(node: YamlNode, spelling: SelectorSpelling, problems: Problem[]): LabelSelector | undefined {
  const map = expectMap(node, 'a label selector', problems);
  if (!map) return undefined;
  const fields = new FieldReader(map, 'a label selector', problems, [spelling.labels, spelling.expressions]);
  const labelsMap = fields.mapping(spelling.labels);
  for (const { key, keyAt, value } of labelsMap?.entries ?? []) {
    readValue(parseLabelKey, key, keyAt, problems);
    if (value.kind === 'scalar') readValue(parseLabelValue, String(value.value ?? ''), value.at, problems);
  }
  const read = fields.list(spelling.expressions).flatMap((item) => {
    const expression = readExpression(item, spelling, problems);
    return expression ? [{ expression, at: item.at }] : [];
  });
  reportDuplicates(read.map(({ expression, at }) => ({ value: expressionText(expression), at })), 'the match expression', spelling.duplicates, problems);
  return { matchLabels: fields.stringMap(spelling.labels), matchExpressions: read.map(({ expression }) => expression) };
}

/** labels.NewRequirement: a label key, a known operator, values for In and NotIn only, each a label value. */
function readExpression(node: YamlNode, spelling: SelectorSpelling, problems: Problem[]): LabelSelector['matchExpressions'][number] | undefined {
  const map = expectMap(node, 'a match expression', problems);
  if (!map) return undefined;
  const parts = new FieldReader(map, 'a match expression', problems, ['key', 'operator', 'values']);
  const key = parts.string('key');
  const operator = parts.string('operator');
  const values = parts.stringList('values');
  if (key === undefined) problems.push({ severity: 'error', at: map.at, message: 'this match expression has no key; name the label it tests.' });
  else readValue(parseLabelKey, key, parts.at('key'), problems);
  if (operator === undefined) {
    problems.push({ severity: 'error', at: map.at, message: `this match expression has no operator; use one of ${OPERATORS.join(', ')}.` });
  } else if (!OPERATORS.includes(operator)) {
    problems.push({ severity: 'error', at: parts.at('operator'), message: `operator "${operator}" is not a label selector operator${suggestion(operator, OPERATORS)}` });
  } else if (SET_OPERATORS.includes(operator) && values.length === 0) {
    problems.push({ severity: 'error', at: map.at, message: `operator ${operator} needs values; list the label values it tests.` });
  } else if (!SET_OPERATORS.includes(operator) && values.length > 0) {
    problems.push({ severity: 'error', at: parts.at('values'), message: `operator ${operator} takes no values; remove them.` });
  }
  for (const { value, at } of values) readValue(parseLabelValue, value, at, problems);
  reportDuplicates(values, 'the match expression value', spelling.duplicates, problems);
  return { key: key ?? '', operator: operator ?? '', values: values.map(({ value }) => value) };
}

/** A selector as Kubernetes writes it, values sorted: two selectors that read the same are the same. */
function selectorText(selector: LabelSelector): string {
  const labels = Object.entries(selector.matchLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => `${key}=${value}`);
  return [...labels, ...selector.matchExpressions.map(expressionText)].join(',');
}

function expressionText({ key, operator, values }: LabelSelector['matchExpressions'][number]): string {
  return `${key} ${operator} (${[...values].sort().join(',')})`;
}

/**
 * MetalLB's validateDuplicate (internal/config/config.go): the second of two equal items is
 * refused. At `warning`, a duplicate MetalLB lets pass, which vipkit still points out.
 */
export function reportDuplicates(items: readonly { value: string; at: Location }[], what: string, severity: Severity, problems: Problem[]): void {
  const seen = new Map<string, Location>();
  for (const { value, at } of items) {
    const first = seen.get(value);
    if (first === undefined) {
      seen.set(value, at);
      continue;
    }
    const verdict = severity === 'error' ? 'MetalLB refuses duplicates' : 'MetalLB accepts it, but it says nothing twice';
    problems.push({ severity, at, message: `${what} "${value}" is also at ${formatLocation(first)}; ${verdict}, so remove one.` });
  }
}
