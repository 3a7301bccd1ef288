/**
 * Schema validation of a definition with messages that name the file, line
 * and path. Steps are validated against the schema of their own kind (found by
 * its key), so a step reports "missing required field prompt" rather than
 * "matches none of six alternatives".
 */
import { z } from 'zod';
import { DefinitionError, type DefinitionIssue } from '../errors.js';
import { StepId, Workflow } from './schema.js';
import { anyStepSchema, kindNamed, stepKindList } from '../kinds/index.js';
import { byPosition, issueMaker, type Locate, type PathSegment } from './locate.js';
import { reservedKeys, reservedStepIdMessage, reservedStepIds } from './reserved.js';
import { closestMatch } from './suggest.js';
import { describeIssues, typeName, type RawIssue } from './zod-issues.js';

/** The workflow schema with the steps of every registered kind. */
function workflowSchema() {
  return Workflow.extend({ steps: z.record(StepId, anyStepSchema()).refine((s) => Object.keys(s).length > 0, 'at least one step') });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates `data` against the {@link Workflow} schema.
 *
 * @param locate maps a path to its line and column in `file`.
 * @returns the parsed workflow.
 * @throws DefinitionError with every issue found, sorted by line.
 * @example
 * ```ts
 * const { data, locate } = parseYaml(text, file);
 * const workflow = validateWorkflow(data, locate, file);
 * ```
 */
export function validateWorkflow(data: unknown, locate: Locate, file: string): Workflow {
  const issue = issueMaker(file, locate);
  // Before the schema: zod drops a `__proto__` key without a word.
  const reserved = reservedKeys(data).map((r) => issue(r.path, r.message, 'key'));
  const schema = workflowSchema();
  const result = schema.safeParse(data);
  if (result.success) {
    if (reserved.length > 0) throw new DefinitionError(byPosition(reserved));
    return result.data as Workflow;
  }
  if (!isObject(data)) {
    const found = data === undefined || data === null ? 'nothing (is the file empty?)' : typeName(data);
    throw new DefinitionError([issue([], `expected a workflow (an object with id and steps), got ${found}`)]);
  }
  const raw: RawIssue[] = describeIssues(
    result.error.issues.filter((i) => !(i.path[0] === 'steps' && i.path.length >= 2)),
    schema,
    data,
  );
  if (isObject(data.steps)) {
    for (const [id, step] of Object.entries(data.steps)) if (id !== '__proto__') raw.push(...stepIssues(id, step));
  }
  const issues: DefinitionIssue[] = [...reserved, ...raw.map((r) => issue(r.path, r.message, r.at))];
  if (issues.length === 0) {
    // Not expected: every failure of the union is explained per step. Keep zod's word rather than pass bad data on.
    issues.push(...result.error.issues.map((i) => issue(i.path.map(String), i.message)));
  }
  throw new DefinitionError(byPosition(issues));
}

function stepIssues(id: string, step: unknown): RawIssue[] {
  const path: PathSegment[] = ['steps', id];
  const issues: RawIssue[] = [];
  const kindKeys = stepKindList().map((k) => k.name);
  const kindList = kindKeys.join(', ');
  if (reservedStepIds.has(id)) {
    issues.push({ path, at: 'key', message: reservedStepIdMessage(id) });
  } else if (!StepId.safeParse(id).success) {
    issues.push({ path, at: 'key', message: `invalid step id ${JSON.stringify(id)}: use letters, digits, _ and -, starting with a letter or _` });
  }
  if (!isObject(step)) {
    return [...issues, { path, at: 'value', message: `expected a step (an object with one of: ${kindList}), got ${typeName(step)}` }];
  }
  const kinds = kindKeys.filter((k) => k in step);
  const [kind, ...others] = kinds;
  if (kind === undefined) {
    const typo = Object.keys(step)
      .map((key) => [key, closestMatch(key, kindKeys)] as const)
      .find(([, match]) => match !== undefined);
    const hint = typo ? `; did you mean "${typo[1]}" instead of "${typo[0]}"?` : '';
    return [...issues, { path, at: 'value', message: `a step needs one of: ${kindList}${hint}` }];
  }
  if (others.length > 0) {
    const conflicts = others.map((other): RawIssue => ({
      path: [...path, other],
      at: 'key',
      message: `"${other}" conflicts with "${kind}": a step has exactly one of ${kindList}`,
    }));
    return [...issues, ...conflicts];
  }
  const schema = kindNamed(kind)!.schema;
  const result = schema.safeParse(step);
  if (result.success) return issues;
  const hint = kindNamed(kind)?.routeHint ?? '';
  for (const raw of describeIssues(result.error.issues, schema, step)) {
    const routed = hint && raw.path.length === 1 && (raw.path[0] === 'next' || raw.path[0] === 'onError');
    issues.push({ ...raw, path: [...path, ...raw.path], message: routed ? raw.message + hint : raw.message });
  }
  return issues;
}
