import { addressRefusal, AddressRangeError, parseAddressRange } from './address-range.js';
import { PROTOCOLS, type LabelSelector, type Location, type PoolRange, type Problem, type Protocol } from './model.js';
import { suggestion } from './suggest.js';
import { expectMap, FieldReader, type YamlNode } from './yaml-source.js';

/** Values shared by every pools format: ranges, protocols, durations, communities, names. */

export function readPoolRange(text: string, at: Location, problems: Problem[]): PoolRange | undefined {
  try {
    return { text, range: parseAddressRange(text), at };
  } catch (error) {
    if (!(error instanceof AddressRangeError)) throw error;
    problems.push({ severity: 'error', at, message: error.message });
    return undefined;
  }
}

export function readProtocol(text: string, at: Location, problems: Problem[]): Protocol | undefined {
  if ((PROTOCOLS as readonly string[]).includes(text)) return text as Protocol;
  problems.push({ severity: 'error', at, message: `protocol "${text}" is not layer2 or bgp${suggestion(text, PROTOCOLS, false)}` });
  return undefined;
}

export function readAddress(text: string, what: string, at: Location, problems: Problem[]): string | undefined {
  const refusal = addressRefusal(text);
  if (refusal === undefined) return text;
  problems.push({ severity: 'error', at, message: `${what} "${text}" ${refusal}.` });
  return undefined;
}

const GO_DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration ("90s", "1m30s") as MetalLB writes them, in whole seconds (MetalLB rounds down). */
export function readDuration(text: string, what: string, at: Location, problems: Problem[]): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text === '0') return 0;
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) {
    problems.push({ severity: 'error', at, message: `${what} "${text}" is not a duration; write it like 90s or 1m30s.` });
    return undefined;
  }
  return Math.floor(parts.reduce((sum, part) => sum + Number(part[1]) * GO_DURATION_UNITS[part[2]!]!, 0));
}

/** Seconds back to MetalLB's Go duration text. */
export function formatDuration(seconds: number): string {
  return `${seconds}s`;
}

/** A standard community "65002:100" (two 16-bit halves) or a large one "large:65002:7:8" (RFC 8092). */
export function isCommunityValue(text: string): boolean {
  const standard = /^(\d+):(\d+)$/.exec(text);
  if (standard) return standard.slice(1).every((part) => Number(part) <= 0xffff);
  const large = /^large:(\d+):(\d+):(\d+)$/.exec(text);
  return large !== null && large.slice(1).every((part) => Number(part) <= 0xffff_ffff);
}

/**
 * A Kubernetes object name (RFC 1123 label): lower case, digits and '-', starting with a
 * letter, at most 63 characters — how MetalLB's configmaptocrs renames legacy pools.
 */
export function kubernetesName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^[^a-z]+/, '');
  return cleaned.slice(0, 63).replace(/-+$/, '');
}

/** An optional Go duration field (hold-time, holdTime), in seconds. */
export function durationField(fields: FieldReader, key: string, problems: Problem[]): number | undefined {
  const text = fields.string(key);
  return text === undefined ? undefined : readDuration(text, key, fields.at(key), problems);
}

/** An optional address field (router-id, sourceAddress). */
export function addressField(fields: FieldReader, key: string, problems: Problem[]): string | undefined {
  const text = fields.string(key);
  return text === undefined ? undefined : readAddress(text, key, fields.at(key), problems);
}

/** A Kubernetes label selector; legacy files spell its keys match-labels and match-expressions. */
export function readLabelSelector(node: YamlNode, problems: Problem[], labelsKey: string, expressionsKey: string): LabelSelector | undefined {
  const map = expectMap(node, 'a label selector', problems);
  if (!map) return undefined;
  const fields = new FieldReader(map, 'a label selector', problems, [labelsKey, expressionsKey]);
  const matchExpressions = fields.list(expressionsKey).flatMap((item) => {
    const expression = expectMap(item, 'a match expression', problems);
    if (!expression) return [];
    const parts = new FieldReader(expression, 'a match expression', problems, ['key', 'operator', 'values']);
    return [{ key: parts.string('key') ?? '', operator: parts.string('operator') ?? '', values: parts.stringList('values').map(({ value }) => value) }];
  });
  return { matchLabels: fields.stringMap(labelsKey), matchExpressions };
}
