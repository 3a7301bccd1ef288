/**
 * Static check of `$steps.<id>` references: every expression that reads a
 * step's result must name a step of the definition, so a typo such as
 * `$steps.extrct.output` fails `validate` with a suggestion instead of
 * selecting nothing at run time.
 */
import { expressionNodes } from './expression-nodes.js';
import type { PathSegment } from './locate.js';
import type { Finding } from './reach.js';
import { didYouMean } from './suggest.js';

interface AstNode {
  readonly type?: string;
  readonly value?: unknown;
  readonly steps?: readonly AstNode[];
  readonly stages?: readonly unknown[];
  /** Where jsonata's tokenizer ended the node's token: the index just past it. */
  readonly position?: number;
}

/** Where a `$steps.…` path starts in its expression: its `$steps` token ends at the head's position. */
const startOf = (steps: readonly AstNode[]): number => Math.max(0, (steps[0]?.position ?? 0) - '$steps'.length);

/** Every `$steps.<id>…` path of an expression, as its AST steps; none for an expression that does not parse. */
function stepPaths(expression: string): Array<readonly AstNode[]> {
  const found: Array<readonly AstNode[]> = [];
  for (const node of expressionNodes(expression) ?? []) {
    const n = node as AstNode;
    const steps = n.type === 'path' ? (n.steps ?? []) : [];
    const [head, name] = steps;
    if (head?.type === 'variable' && head.value === 'steps' && name?.type === 'name' && typeof name.value === 'string') found.push(steps);
  }
  return found;
}

/** The step ids an expression reads as `$steps.<id>`; none for an expression that does not parse. */
export function stepReferences(expression: string): string[] {
  return [...firstReferences(expression).keys()];
}

/** Each step id an expression reads as `$steps.<id>`, with where its first such path starts in it. */
function firstReferences(expression: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const steps of stepPaths(expression)) {
    const id = String(steps[1]?.value);
    found.set(id, Math.min(found.get(id) ?? Infinity, startOf(steps)));
  }
  return found;
}

/**
 * The step ids whose whole output an expression reads: `$steps.<id>.output`
 * with no field, index or filter after it.
 *
 * @example
 * wholeOutputReferences('$steps.find.output');      // ['find']
 * wholeOutputReferences('$steps.find.output.name'); // []
 */
export function wholeOutputReferences(expression: string): string[] {
  const whole = stepPaths(expression).filter(
    (steps) => steps.length === 3 && steps[2]?.type === 'name' && steps[2].value === 'output' && !(steps[2].stages?.length),
  );
  return [...new Set(whole.map((steps) => String(steps[1]?.value)))];
}

/** What a step's result holds (`StepResult` in src/compile/context.ts): any other member reads nothing. */
const RESULT_MEMBERS = ['output', 'status', 'visit', 'attempts', 'error', 'event'] as const;
const resultMembers: ReadonlySet<string> = new Set(RESULT_MEMBERS);

/** The `$steps.<id>.<member>` paths of an expression whose member a step's result does not have, as [id, member]. */
function unknownMembers(expression: string): Array<[id: string, member: string, at: number]> {
  const found = new Map<string, [string, string, number]>();
  for (const steps of stepPaths(expression)) {
    const member = steps[2];
    if (member?.type !== 'name' || typeof member.value !== 'string' || resultMembers.has(member.value)) continue;
    const id = String(steps[1]?.value);
    if (!found.has(`${id}.${member.value}`)) found.set(`${id}.${member.value}`, [id, member.value, startOf(steps)]);
  }
  return [...found.values()];
}

/**
 * Findings for every expression in `fields` that names a missing step, or a member a step's result does not have.
 *
 * @example
 * unknownStepRefs([{ path: ['steps', 'check', 'with', 'id'], text: '$steps.extrct.output.id' }], ['extract', 'check']);
 * // [{ path: [...], message: '$steps.extrct names no step "extrct"; did you mean "extract"?' }]
 */
export function unknownStepRefs(
  expressions: ReadonlyArray<{ readonly path: readonly PathSegment[]; readonly text: string; readonly at?: number }>,
  ids: readonly string[],
): Finding[] {
  const known = new Set(ids);
  return expressions.flatMap(({ path, text, at = 0 }) => [
    ...[...firstReferences(text)]
      .filter(([id]) => !known.has(id))
      .map(([id, inside]) => ({
        path,
        at: at + inside,
        message: `$steps.${id} names no step "${id}"${didYouMean(id, ids) || `; steps are: ${ids.join(', ')}`}`,
      })),
    ...unknownMembers(text)
      .filter(([id]) => known.has(id))
      .map(([id, member, inside]) => ({
        path,
        at: at + inside,
        message: `$steps.${id}.${member} reads nothing: a step's result has ${RESULT_MEMBERS.join(', ')}${didYouMean(member, RESULT_MEMBERS)}`,
      })),
  ]);
}
