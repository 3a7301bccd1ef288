/**
 * The shared context of a model step: the `context` entries its `shared:`
 * names, the same for every call of the step (a policy, a price list). They
 * open the user message, before the instructions and the per-call data, so
 * every call of the step starts with the same bytes and the prompt cache
 * can hold them.
 */

function render(key: string, value: unknown): string {
  return `<${key}>\n${typeof value === 'string' ? value : JSON.stringify(value, null, 1)}\n</${key}>`;
}

/**
 * Splits evaluated context values into the shared block (text that ends with
 * a blank line, so it joins the rest of the prompt as is) and the rest.
 *
 * @example
 * splitShared({ policy: 'Net 30.', item: 'INV-1' }, ['policy']);
 * // { shared: '<shared_context>\n<policy>\nNet 30.\n</policy>\n</shared_context>\n\n', rest: { item: 'INV-1' } }
 */
export function splitShared(
  values: Readonly<Record<string, unknown>>,
  sharedKeys: readonly string[] = [],
): { shared: string | undefined; rest: Record<string, unknown> } {
  const keys = new Set(sharedKeys);
  const rest: Record<string, unknown> = {};
  const blocks: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (keys.has(key)) blocks.push(render(key, value));
    else rest[key] = value;
  }
  return { shared: blocks.length > 0 ? `<shared_context>\n${blocks.join('\n')}\n</shared_context>\n\n` : undefined, rest };
}
