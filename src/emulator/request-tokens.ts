/**
 * Input tokens of a request: the one definition `/v1/messages` charges and
 * `/v1/messages/count_tokens` reports, so the two always agree.
 */
import { countTokens } from '../model/tokens.js';

/** JSON with object keys sorted, so key order never changes a count. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The fields of a request body that are charged as input. */
export interface ChargedFields {
  readonly system?: unknown;
  readonly messages?: unknown;
  readonly tools?: unknown;
}

/**
 * The canonical serialisation of what is charged: system, messages, tools.
 * Read from the raw body, so both endpoints see the same bytes.
 */
export function canonicalPrompt(body: ChargedFields): string {
  return stableStringify({ system: body.system ?? '', messages: body.messages ?? [], tools: body.tools ?? [] });
}

/**
 * Input tokens charged for a request body.
 * @example
 * inputTokens({ messages: [{ role: 'user', content: 'Hi' }] }); // a small number
 */
export function inputTokens(body: ChargedFields): number {
  return countTokens(canonicalPrompt(body));
}
