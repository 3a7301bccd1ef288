/**
 * A scenario's tools, built twice from one spec: as Stepwise `defineTool`s
 * and as the SDK's `betaZodTool`s, with the same zod schema and the same
 * deterministic results. Every successful call is written to the scenario's
 * ledger, the "world" the completion check inspects.
 */
import { z } from 'zod';
import { defineTool, type AnyTool } from '../tools/define.js';
import { toolResult, type FieldSpec, type Scenario, type ScenarioStep } from './scenarios.js';

/** One executed tool call: what reached the outside world. */
export interface LedgerEntry {
  readonly tool: string;
  readonly input: Readonly<Record<string, unknown>>;
}

function fieldSchema(field: FieldSpec): z.ZodType {
  const at = field.type.indexOf(':');
  const kind = at < 0 ? field.type : field.type.slice(0, at);
  const arg = at < 0 ? '' : field.type.slice(at + 1);
  if (kind === 'enum') return z.enum(arg.split('|') as [string, ...string[]]);
  if (kind === 'int') return z.number().int();
  return z.string().min(1);
}

/** The zod input schema of a step's tool. */
export function inputSchema(step: ScenarioStep): z.ZodObject<Record<string, z.ZodType>> {
  return z.object(Object.fromEntries(step.inputs.map((f) => [f.name, fieldSchema(f).describe(describeField(f))])));
}

function describeField(field: FieldSpec): string {
  if (field.from === 'free') return `${field.name}: text you write`;
  return field.name;
}

function description(step: ScenarioStep): string {
  return `${step.does.charAt(0).toUpperCase()}${step.does.slice(1)}.`;
}

/** Runs a step's tool: records the call, returns the deterministic result. */
export function runTool(step: ScenarioStep, ledger: LedgerEntry[], input: Record<string, unknown>): Record<string, unknown> {
  ledger.push({ tool: step.tool, input });
  return toolResult(step, input);
}

/** The scenario's tools as Stepwise tools, writing to `ledger`. */
export function stepwiseTools(scenario: Scenario, ledger: LedgerEntry[]): AnyTool[] {
  return scenario.steps.map((step) =>
    defineTool({
      name: step.tool,
      description: description(step),
      input: inputSchema(step),
      run: (input) => runTool(step, ledger, input as Record<string, unknown>),
    }) as unknown as AnyTool,
  );
}

/** The scenario's tools as the SDK tool runner's `betaZodTool`s, writing to `ledger`. */
export async function sdkTools(scenario: Scenario, ledger: LedgerEntry[]) {
  const { betaZodTool } = await import('@anthropic-ai/sdk/helpers/beta/zod');
  return scenario.steps.map((step) =>
    betaZodTool({
      name: step.tool,
      description: description(step),
      inputSchema: inputSchema(step),
      run: async (input) => JSON.stringify(runTool(step, ledger, input as Record<string, unknown>)),
    }),
  );
}
