/**
 * A scenario as a Stepwise definition: a `claude` step where the input needs
 * the model (reading the document, writing free text), a `tool` step with a
 * JSONata mapping where every input comes from earlier outputs, and a `final`
 * step whose output is every step's key outputs. `toolOnly` turns the model
 * steps into tool steps with their expected inputs, for overhead runs;
 * `allClaude` makes every step a `claude` step (the model fills every tool
 * input from the context the step declares), for the like-with-like arm.
 */
import type { FieldSpec, Scenario, ScenarioStep } from './scenarios.js';

function ref(scenario: Scenario, step: number, key: string): string {
  return `$steps.${(scenario.steps[step] as ScenarioStep).id}.output.${key}`;
}

/** Where a non-free input comes from in the run: an earlier output, or an earlier step's echo of the document. */
export function sourceOf(scenario: Scenario, step: ScenarioStep, field: FieldSpec): string | null {
  if (field.from === 'free') return null;
  if ('step' in field.from) return ref(scenario, field.from.step, field.name);
  const echo = step.echoedBy[field.name];
  return echo === undefined ? null : ref(scenario, echo, `record.${field.name}`);
}

function modelStep(scenario: Scenario, step: ScenarioStep): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  if (step.inputs.some((f) => f.from !== 'free' && sourceOf(scenario, step, f) === null)) context['document'] = '{% $input.document %}';
  const facts = step.inputs.flatMap((f) => {
    const source = sourceOf(scenario, step, f);
    return source ? [`'${f.name}': ${source}`] : [];
  });
  if (facts.length) context['facts'] = `{% { ${facts.join(', ')} } %}`;
  const free = step.inputs.filter((f) => f.from === 'free').map((f) => f.name);
  const write = free.length ? ` Write the ${free.join(' and ')} yourself.` : '';
  return {
    claude: {
      tool: step.tool,
      prompt: `Call ${step.tool} to ${step.does}. Take the values from the context.${write}`,
      context,
    },
  };
}

function toolStep(scenario: Scenario, step: ScenarioStep, literal: boolean): Record<string, unknown> {
  if (literal) {
    const input = Object.fromEntries(step.inputs.map((f) => [f.name, f.from === 'free' ? `${f.name} text` : step.expectedInput[f.name]]));
    return { tool: step.tool, with: input };
  }
  const input = Object.fromEntries(step.inputs.map((f) => [f.name, `{% ${sourceOf(scenario, step, f) ?? "''"} %}`]));
  return { tool: step.tool, with: input };
}

/** The workflow id of a scenario (step ids must start with a letter). */
export function workflowId(scenario: Scenario): string {
  return `bench-${scenario.template}-${scenario.steps.length}`;
}

/**
 * The Stepwise definition of a scenario, as data for `loadDefinitionFromObject`.
 * @example
 * const loaded = loadDefinitionFromObject(toDefinition(scenario), stepwiseTools(scenario, ledger), scenario.id);
 */
export function toDefinition(scenario: Scenario, options: { toolOnly?: boolean; allClaude?: boolean; waitAfter?: boolean } = {}): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (const step of scenario.steps) {
    steps[step.id] = (step.needsModel || options.allClaude) && !options.toolOnly ? modelStep(scenario, step) : toolStep(scenario, step, step.needsModel);
  }
  const output = Object.fromEntries(
    scenario.steps.map((step) => [step.id, Object.fromEntries(step.outputs.map((o) => [o.name, `{% $steps.${step.id}.output.${o.name} %}`]))]),
  );
  steps['done'] = { final: true, output };
  return {
    id: workflowId(scenario),
    retry: { maxAttempts: 4, backoff: { initial: '500ms', factor: 2, max: '8s' } },
    steps,
  };
}

/** The output a correct run of the scenario ends with. */
export function expectedRunOutput(scenario: Scenario): Record<string, unknown> {
  return Object.fromEntries(scenario.steps.map((step) => [step.id, step.expectedOutput]));
}
