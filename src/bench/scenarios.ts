/**
 * The scenario generator: turns the templates into concrete, seeded workflows
 * (mostly 5 steps, some 3 and 10), each with its input document, its tool
 * specs, the inputs and outputs every step must have, and the task prompt the
 * stateless arm sends. Everything is a pure function of the seed and index.
 */
import { countJsonTokens, countTokens } from '../model/tokens.js';
import { hashString, seededRandom, type Random } from '../util/random.js';
import { templates, type Domain, type StepTemplate, type Template } from './templates.js';

export type FieldSource = { readonly doc: string } | { readonly step: number } | 'free';

export interface FieldSpec {
  readonly name: string;
  readonly type: string;
  readonly from: FieldSource;
}

export interface OutputSpec {
  readonly name: string;
  readonly type: string;
}

/** One step of a scenario: a tool call with a known expected input and output. */
export interface ScenarioStep {
  readonly id: string;
  readonly tool: string;
  readonly does: string;
  readonly effect: 'read' | 'write';
  readonly inputs: readonly FieldSpec[];
  readonly outputs: readonly OutputSpec[];
  readonly payload: number;
  /**
   * For each document field: the earlier step whose result echoes it (in
   * `record`), so an application can map it instead of asking the model again.
   */
  readonly echoedBy: Readonly<Record<string, number>>;
  /** Does filling its input need the model (document reading not done before, or free text)? */
  readonly needsModel: boolean;
  /** The input a correct run passes; `free` fields are any non-empty text. */
  readonly expectedInput: Readonly<Record<string, unknown>>;
  /** The key outputs a correct call returns (the bulk rows are not compared). */
  readonly expectedOutput: Readonly<Record<string, unknown>>;
}

export interface Scenario {
  readonly id: string;
  readonly domain: Domain;
  readonly template: string;
  readonly subject: string;
  readonly document: string;
  readonly docValues: Readonly<Record<string, unknown>>;
  readonly steps: readonly ScenarioStep[];
  /** The whole task in one prompt, for the stateless arm. */
  readonly taskPrompt: string;
}

const words = (
  'the team reviewed this item again after the last update and noted that several details still need a closer look before ' +
  'anything moves forward while the owner asked for a quick turnaround because the quarter ends soon and other work depends ' +
  'on it please keep the history in mind since earlier attempts stalled when information was missing or arrived late ' +
  'customers expect a clear answer and the operations group wants every change recorded with enough context to audit later'
).split(' ');

function sentence(random: Random): string {
  const n = 8 + Math.floor(random() * 10);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(words[Math.floor(random() * words.length)] as string);
  const text = out.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Prose of about `tokens` tokens, with no `:` or `=` (so it holds no values). */
function prose(tokens: number, random: Random): string {
  const lines: string[] = [];
  let count = 0;
  while (count < tokens) {
    const line = sentence(random);
    count += countTokens(line);
    lines.push(line);
  }
  const paragraphs: string[] = [];
  for (let i = 0; i < lines.length; i += 4) paragraphs.push(lines.slice(i, i + 4).join(' '));
  return paragraphs.join('\n\n');
}

/** A value of a field type (`id:P`, `enum:a|b`, `int:lo-hi`) drawn from `random`. */
export function valueOf(type: string, random: Random): unknown {
  const [kind, arg = ''] = splitType(type);
  if (kind === 'id') return `${arg}-${10000 + Math.floor(random() * 89999)}`;
  if (kind === 'enum') {
    const options = arg.split('|');
    return options[Math.floor(random() * options.length)];
  }
  if (kind === 'int') {
    const [lo, hi] = arg.split('-').map(Number) as [number, number];
    return lo + Math.floor(random() * (hi - lo + 1));
  }
  return `text ${Math.floor(random() * 1000)}`;
}

function splitType(type: string): [string, string] {
  const at = type.indexOf(':');
  return at < 0 ? [type, ''] : [type.slice(0, at), type.slice(at + 1)];
}

/** `invoiceNumber` → `Invoice Number`: how the document labels a field. */
export function labelOf(name: string): string {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function stableInput(input: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(input).sort().map((k) => [k, input[k]]));
}

/** One bulk row of a tool result: realistic filler the model has to read past. */
function row(random: Random, i: number): Record<string, unknown> {
  const txt = Array.from({ length: 6 + Math.floor(random() * 6) }, () => words[Math.floor(random() * words.length)]).join(' ');
  return { ref: `R-${(1000 + i).toString()}`, ts: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`, amt: Math.floor(random() * 100000) / 100, txt };
}

/**
 * What a tool returns for an input: key outputs derived from a hash of the
 * tool and its input (so a wrong input gives wrong outputs), plus bulk rows
 * up to the tool's fixed payload size.
 */
export function toolResult(step: Pick<ScenarioStep, 'tool' | 'inputs' | 'outputs' | 'payload'>, input: Record<string, unknown>): Record<string, unknown> {
  const free = new Set(step.inputs.filter((f) => f.from === 'free').map((f) => f.name));
  const keyed = Object.fromEntries(Object.entries(input).filter(([k]) => !free.has(k)));
  const random = seededRandom(`${step.tool}:${stableInput(keyed)}`);
  const out: Record<string, unknown> = {};
  for (const o of step.outputs) out[o.name] = valueOf(o.type, random);
  const docFields = step.inputs.filter((f) => f.from !== 'free' && 'doc' in f.from).map((f) => f.name);
  if (docFields.length) out['record'] = Object.fromEntries(docFields.map((name) => [name, input[name]]));
  const rows: Record<string, unknown>[] = [];
  const bulk = seededRandom(`${step.tool}:bulk`);
  let tokens = countJsonTokens(out);
  while (tokens < step.payload) {
    const r = row(bulk, rows.length);
    rows.push(r);
    tokens += countJsonTokens(r) + 1;
  }
  out['rows'] = rows;
  return out;
}

/** The key outputs of a result (without its bulk rows). */
export function keyOutputs(step: Pick<ScenarioStep, 'outputs'>, result: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(step.outputs.map((o) => [o.name, result[o.name]]));
}

function parseSteps(parts: readonly Template[]): Array<{ template: StepTemplate; offset: number }> {
  const out: Array<{ template: StepTemplate; offset: number }> = [];
  let offset = 0;
  for (const t of parts) {
    for (const step of t.steps) out.push({ template: step, offset });
    offset += t.steps.length;
  }
  return out;
}

function fieldSpec(text: string, offset: number, types: Record<string, string>): FieldSpec {
  const [name, from] = text.split('<') as [string, string];
  if (from === 'doc') return { name, type: types[name] ?? 'text', from: { doc: labelOf(name) } };
  if (from === 'free') return { name, type: 'text', from: 'free' };
  return { name, type: types[name] ?? 'text', from: { step: Number(from) - 1 + offset } };
}

/** Sizes: 15 % have 3 steps, 15 % have 10, the rest 5. */
export function sizeOf(index: number): 3 | 5 | 10 {
  const slot = index % 20;
  if (slot < 3) return 3;
  if (slot < 6) return 10;
  return 5;
}

/**
 * Generates scenario `index` for `seed`.
 * @example
 * const scenario = generateScenario(1, 0); // 3 steps, first template
 */
export function generateScenario(seed: number, index: number): Scenario {
  const template = templates[index % templates.length] as Template;
  const size = sizeOf(index);
  const parts: Template[] = [template];
  if (size === 10) {
    const sameDomain = templates.filter((t) => t.domain === template.domain && t !== template);
    parts.push(sameDomain[Math.floor(index / templates.length) % sameDomain.length] as Template);
  }
  const random = seededRandom(hashString(`${seed}:${index}`));
  const id = `${template.domain}-${template.id}-${String(index).padStart(4, '0')}`;

  const docFields: Record<string, string> = {};
  for (const p of parts) Object.assign(docFields, p.docFields);
  const types: Record<string, string> = { ...docFields };
  for (const p of parts) for (const st of p.steps) for (const o of st.outputs) {
    const [name, ...rest] = o.split(':');
    if (types[name as string]) throw new Error(`template ${p.id}: output ${name} is not unique`);
    types[name as string] = rest.join(':');
  }
  const docValues: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(docFields)) docValues[name] = valueOf(type, random);

  const stepTemplates = parseSteps(parts).slice(0, size);
  const steps: ScenarioStep[] = [];
  for (const [i, { template: st, offset }] of stepTemplates.entries()) {
    const inputs = st.inputs.map((text) => fieldSpec(text, offset, types));
    const outputs = st.outputs.map((text) => {
      const [name, ...rest] = text.split(':');
      return { name: name as string, type: rest.join(':') };
    });
    const expectedInput: Record<string, unknown> = {};
    for (const f of inputs) {
      if (f.from === 'free') continue;
      if ('doc' in f.from) expectedInput[f.name] = docValues[f.name];
      else expectedInput[f.name] = (steps[f.from.step] as ScenarioStep).expectedOutput[f.name];
    }
    const spec = { tool: st.tool, inputs, outputs, payload: st.payload };
    const expectedOutput = keyOutputs(spec, toolResult(spec, expectedInput));
    const echoedBy: Record<string, number> = {};
    for (const f of inputs) {
      if (f.from === 'free' || !('doc' in f.from)) continue;
      const earlier = steps.findIndex((p) => p.inputs.some((g) => g.name === f.name && g.from !== 'free' && 'doc' in g.from));
      if (earlier >= 0) echoedBy[f.name] = earlier;
    }
    const needsModel = inputs.some((f) => f.from === 'free' || ('doc' in f.from && echoedBy[f.name] === undefined));
    steps.push({ id: `s${i + 1}`, tool: st.tool, does: st.does, effect: st.effect, inputs, outputs, payload: st.payload, echoedBy, needsModel, expectedInput, expectedOutput });
  }

  const labels = Object.entries(docValues).map(([name, value]) => `${labelOf(name)}: ${String(value)}`);
  const body = prose(template.docTokens, random);
  const split = body.indexOf('\n\n');
  const document = split > 0
    ? `${body.slice(0, split)}\n\n${labels.join('\n')}\n\n${body.slice(split + 2)}`
    : `${body}\n\n${labels.join('\n')}`;
  const list = steps.map((st, i) => `${i + 1}. Call ${st.tool} to ${st.does}.`).join('\n');
  const taskPrompt =
    `Process this ${template.subject} end to end with the tools.\n\n<document>\n${document}\n</document>\n\n` +
    `Do these steps in this order:\n${list}\n\n` +
    'Call each tool once, in order, taking every value from the document or from the results of earlier tools. ' +
    'When every step is done, reply with a short summary.';
  return { id, domain: template.domain, template: template.id, subject: template.subject, document, docValues, steps, taskPrompt };
}

/** `count` scenarios for `seed`, cycling through the templates and sizes. */
export function generateScenarios(seed: number, count: number): Scenario[] {
  return Array.from({ length: count }, (_, i) => generateScenario(seed, i));
}
