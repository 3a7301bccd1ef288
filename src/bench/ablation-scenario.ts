/**
 * The all-claude definitions and tools the ablation (src/bench/ablation.ts)
 * runs in variants. Beside the bench's own: an input schema and tool output
 * schemas that bound what `context:` may hold (so `validate`'s worst case is
 * a number), and, in the tool-error variants only, a stale id: the document
 * also names the id a record was first filed under, the tool no longer knows
 * it and says which id it knows instead.
 */
import { z } from 'zod';
import { ToolError } from '../errors.js';
import { defineTool, type AnyTool } from '../tools/define.js';
import { hashString, seededRandom } from '../util/random.js';
import { sourceOf, toDefinition } from './definition.js';
import { labelOf, valueOf, type FieldSpec, type Scenario, type ScenarioStep } from './scenarios.js';
import { inputSchema, runTool, type LedgerEntry } from './tools.js';

/** The longest document the input schema admits (the generator's longest is about 4,400 characters). */
export const DOCUMENT_MAX_LENGTH = 4500;

/** One field an id-checking tool rejects: the stale id the document also carries, and the one the tool knows. */
export interface StaleId {
  readonly step: string;
  readonly field: string;
  readonly stale: string;
  readonly known: string;
}

/** Workflow- and step-level knobs of a variant, all fields users have. */
export interface VariantDefinition {
  readonly summary?: 'none' | 'ids' | 'outputs';
  /** Set on every `claude` step: only tool errors matching it are retried. */
  readonly retryOn?: readonly string[];
  readonly budget?: { readonly tokens: number; readonly stopAt?: number };
  readonly maxTokens?: number;
}

/**
 * The stale id of a scenario, or null: about `rate` of the scenarios (seeded),
 * on the first step that reads an id from the document itself.
 */
export function staleIdOf(scenario: Scenario, seed: number, rate: number): StaleId | null {
  const random = seededRandom(hashString(`stale:${seed}:${scenario.id}`));
  if (random() >= rate) return null;
  const readsId = (step: ScenarioStep, f: FieldSpec) => f.from !== 'free' && 'doc' in f.from && f.type.startsWith('id:') && step.echoedBy[f.name] === undefined;
  for (const step of scenario.steps) {
    const field = step.inputs.find((f) => readsId(step, f));
    if (!field) continue;
    const known = String(scenario.docValues[field.name]);
    let stale = String(valueOf(field.type, random));
    while (stale === known) stale = String(valueOf(field.type, random));
    return { step: step.id, field: field.name, stale, known };
  }
  return null;
}

/** The document with the stale id's line (`Vendor Code (as first filed): V-…`) just above the current one. */
export function withStaleId(scenario: Scenario, stale: StaleId | null): Scenario {
  if (!stale) return scenario;
  const label = labelOf(stale.field);
  const line = `${label}: ${stale.known}`;
  return { ...scenario, document: scenario.document.replace(line, `${label} (as first filed): ${stale.stale}\n${line}`) };
}

function boundedField(type: string): z.ZodType {
  const at = type.indexOf(':');
  const kind = at < 0 ? type : type.slice(0, at);
  const arg = at < 0 ? '' : type.slice(at + 1);
  if (kind === 'enum') return z.enum(arg.split('|') as [string, ...string[]]);
  if (kind === 'int') return z.number().int();
  return z.string().max(kind === 'id' ? 24 : 200);
}

/** The output schema of a step's tool: key outputs and the echoed document fields bounded, the bulk rows free. */
function outputSchema(step: ScenarioStep): z.ZodType {
  const docFields = step.inputs.filter((f) => f.from !== 'free' && 'doc' in f.from);
  return z.object({
    ...Object.fromEntries(step.outputs.map((o) => [o.name, boundedField(o.type)])),
    ...(docFields.length ? { record: z.object(Object.fromEntries(docFields.map((f) => [f.name, boundedField(f.type)]))) } : {}),
    rows: z.array(z.record(z.string(), z.unknown())),
  });
}

/**
 * The scenario's tools with output schemas; the step holding `stale` rejects
 * the stale id (a `ToolError` with reason `unknown_id` and no `retryable`, so
 * the step's `retryOn` decides) and names the id it knows.
 */
export function ablationTools(scenario: Scenario, ledger: LedgerEntry[], stale: StaleId | null): AnyTool[] {
  return scenario.steps.map((step) =>
    defineTool({
      name: step.tool,
      description: `${step.does.charAt(0).toUpperCase()}${step.does.slice(1)}.`,
      input: inputSchema(step),
      output: outputSchema(step),
      run: (input) => {
        const values = input as Record<string, unknown>;
        if (stale && stale.step === step.id && values[stale.field] === stale.stale) {
          const label = labelOf(stale.field).toLowerCase();
          throw new ToolError(`unknown ${label} ${stale.stale}; known ${label}s: ${stale.known}`, { reason: 'unknown_id' });
        }
        return runTool(step, ledger, values);
      },
    }) as unknown as AnyTool,
  );
}

/**
 * A model step's `facts` as an object of plain references (`{ vendorCode: '{% $steps.s1.output.record.vendorCode %}' }`)
 * rather than one JSONata object constructor: the same values in the prompt, each sized from its schema by `validate`.
 */
function withPlainFacts(scenario: Scenario, step: ScenarioStep, spec: Record<string, unknown>): Record<string, unknown> {
  const claude = spec['claude'] as { context?: Record<string, unknown> } | undefined;
  if (!claude?.context || !('facts' in claude.context)) return spec;
  const facts = Object.fromEntries(step.inputs.flatMap((f) => {
    const source = sourceOf(scenario, step, f);
    return source ? [[f.name, `{% ${source} %}`]] : [];
  }));
  return { ...spec, claude: { ...claude, context: { ...claude.context, facts } } };
}

/** The all-claude definition of a scenario with a bounded input schema and the variant's knobs. */
export function ablationDefinition(scenario: Scenario, variant: VariantDefinition): Record<string, unknown> {
  const base = toDefinition(scenario, { allClaude: true });
  const byId = new Map(scenario.steps.map((s) => [s.id, s]));
  const steps = Object.fromEntries(
    Object.entries(base['steps'] as Record<string, Record<string, unknown>>).map(([id, spec]) => {
      const step = byId.get(id);
      if (!step || !('claude' in spec)) return [id, spec];
      const plain = withPlainFacts(scenario, step, spec);
      return [id, variant.retryOn ? { ...plain, retryOn: [...variant.retryOn] } : plain];
    }),
  );
  return {
    ...base,
    input: { type: 'object', required: ['document'], properties: { document: { type: 'string', maxLength: DOCUMENT_MAX_LENGTH } } },
    ...(variant.summary ? { summary: variant.summary } : {}),
    ...(variant.budget ? { budget: { ...variant.budget } } : {}),
    ...(variant.maxTokens ? { maxTokens: variant.maxTokens } : {}),
    steps,
  };
}
