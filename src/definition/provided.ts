/** The packages a user's tool or workflow module may import without installing them. */

/** Specifiers a user module may import without installing them. */
export function isProvided(specifier: string): boolean {
  return /^(stepwise-engine|stepwise|zod)(\/|$)/.test(specifier);
}

/**
 * What a provided specifier resolves to from here: itself, except the
 * package's name before it was published as `stepwise-engine` (`stepwise`
 * on npm is an unrelated package), which older tool modules may still import.
 */
export function providedAs(specifier: string): string {
  return specifier.replace(/^stepwise(?=\/|$)/, 'stepwise-engine');
}
