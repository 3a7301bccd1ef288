/** `tool`: the application calls a tool itself, no model; its input is the step's `with` mapping. */
import { z } from 'zod';
import { Breaker, common, Mapping } from '../definition/fields.js';
import { workHandler } from '../engine/work-handler.js';
import { toolStep } from '../steps/tool.js';
import { defineStepKind } from './types.js';
import { workEdges, workPathEvents, workState, workWakeAt } from './work.js';
import { stepRunOf } from '../compile/context.js';
import { parseDuration } from '../util/duration.js';

export const ToolStep = z.strictObject({
  ...common,
  breaker: Breaker.optional(),
  tool: z.string().min(1).describe('Tool the application calls, without the model'),
  with: Mapping.optional().describe('The tool input'),
});

export const toolKind = defineStepKind<z.infer<typeof ToolStep>>({
  name: 'tool',
  schema: ToolStep,
  flows: true,
  entered: 'running',
  state: (id, step, scope) => workState(id, step, scope, 'tool'),
  edges: (_id, step, next) => workEdges(step, next),
  expressions: (step) => [[step.with, ['with']]],
  tools: (step) => [{ name: step.tool, path: ['tool'] }],
  wakeAt: (id, _step, phase, context) => workWakeAt(phase, stepRunOf(context, id).retryAt),
  label: (step) => `tool ${step.tool}`,
  pathEvents: (id, _step, phase) => workPathEvents(id, phase),
  executor: toolStep,
  handler: workHandler<z.infer<typeof ToolStep>>(toolStep, { retry: (step) => step.retry, timeoutMs: (step) => (step.timeout === undefined ? null : parseDuration(step.timeout)) }),
});
