/**
 * The completion check: did the run really do the work? It reads the ledger
 * of executed tool calls, not the arm's own opinion. Every step's tool must
 * have run with the expected input, in order; a tool with a side effect must
 * have run exactly once (a duplicate or a call with a wrong input is damage).
 */
import type { Scenario, ScenarioStep } from './scenarios.js';
import type { LedgerEntry } from './tools.js';

export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly kind: string; readonly detail: string };

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Does a call's input match the step's expected input? Free-text fields need any non-empty text. */
export function inputMatches(step: ScenarioStep, input: Readonly<Record<string, unknown>>): boolean {
  return step.inputs.every((f) => {
    const value = input[f.name];
    if (f.from === 'free') return typeof value === 'string' && value.trim() !== '';
    return equal(value, step.expectedInput[f.name]);
  });
}

/**
 * Checks a ledger against the scenario.
 * @example
 * checkLedger(scenario, ledger); // { ok: false, kind: 'step_missing', detail: 's4 notify_approver never ran' }
 */
export function checkLedger(scenario: Scenario, ledger: readonly LedgerEntry[]): CheckResult {
  let position = -1;
  for (const step of scenario.steps) {
    const calls = ledger.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.tool === step.tool);
    const right = calls.filter(({ entry }) => inputMatches(step, entry.input));
    if (calls.length === 0) return { ok: false, kind: 'step_missing', detail: `${step.id} ${step.tool} never ran` };
    if (right.length === 0) return { ok: false, kind: 'wrong_input', detail: `${step.id} ${step.tool} never ran with the right input` };
    if (step.effect === 'write' && calls.length > 1) {
      const kind = right.length > 1 || calls.length === right.length ? 'duplicate_side_effect' : 'wrong_side_effect';
      return { ok: false, kind, detail: `${step.id} ${step.tool} ran ${calls.length} times` };
    }
    const next = right.find(({ index }) => index > position);
    if (!next) return { ok: false, kind: 'out_of_order', detail: `${step.id} ${step.tool} ran before an earlier step` };
    position = next.index;
  }
  return { ok: true };
}
