/**
 * Fields of a MetalLB YAML document read into the model's values: what the legacy config
 * and the CRDs share. Apart from value-parsers.ts so that the flag grammar, which the
 * speaker commands load, does not load a YAML parser (it added 19 MiB to announce's peak
 * memory at 100,000 routes).
 */
import type { LabelSelector, Problem } from './model.js';
import { readAddress, readDuration } from './value-parsers.js';
import { expectMap, FieldReader, type YamlNode } from './yaml-source.js';

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
