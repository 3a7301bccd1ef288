/** `tool`: the application calls a tool itself, no model; its input is the step's `with` mapping. */
import { z } from 'zod';
import { Breaker, common, Mapping } from '../definition/fields.js';
import { toolStep } from '../steps/tool.js';
import { defineStepKind } from './types.js';
import { workKind } from './work-kind.js';
import { toolWithFindings } from './with-keys.js';
import { calledToolInputFindings } from './object-input.js';
import { parseDuration } from '../util/duration.js';

export const ToolStep = z.strictObject({
  ...common,
  breaker: Breaker.optional(),
  tool: z.string().min(1).describe('Tool the application calls, without the model'),
  with: Mapping.optional().describe('The tool input'),
});

/** A `with:` that is a mapping of keys (not one expression making the whole input), or none (the input is `{}`): what validate can check. */
const checkable = (value: unknown): value is Record<string, unknown> | undefined =>
  value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value));

export const toolKind = defineStepKind<z.infer<typeof ToolStep>>({
  name: 'tool',
  schema: ToolStep,
  ...workKind<z.infer<typeof ToolStep>>('tool', toolStep, { retry: (step) => step.retry, timeoutMs: (step) => (step.timeout === undefined ? null : parseDuration(step.timeout)) }),
  expressions: (step) => [[step.with, ['with']]],
  tools: (step) => [{ name: step.tool, path: ['tool'] }],
  toolChecks: (step, toolOf) => {
    // With one expression, the tool is called with whatever it makes: nothing to check.
    if (!checkable(step.with)) return { errors: [], warnings: [] };
    const tool = toolOf(step.tool);
    // A mapping makes an object: a tool that takes none is refused first. No with: at all is checked for required fields.
    const wrongType = step.with === undefined ? [] : calledToolInputFindings(tool, ['tool']);
    return { errors: wrongType.length > 0 ? wrongType : toolWithFindings(step.with, tool), warnings: [] };
  },
  label: (step) => `tool ${step.tool}`,
});
