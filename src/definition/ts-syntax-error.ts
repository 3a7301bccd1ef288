/**
 * A TypeScript module that does not parse: esbuild's errors, each at its file, line and column (1-based, as
 * every other location Stepwise reports; esbuild counts columns from 0), on one line, so a caller that keeps
 * only a message's first line keeps them all; and where the first one is, so the loader of that very file
 * can report the problem at its place rather than at `1:1` with the location repeated after it.
 */

/** One syntax error, at its place when esbuild gave one. */
export interface SyntaxProblem {
  readonly at?: { readonly file: string; readonly line: number; readonly col: number };
  readonly text: string;
}

const located = (p: SyntaxProblem) => (p.at ? `${p.at.file}:${p.at.line}:${p.at.col}: ${p.text}` : p.text);

export class TypeScriptSyntaxError extends Error {
  override readonly name = 'TypeScriptSyntaxError';

  constructor(
    readonly problems: readonly SyntaxProblem[],
    options?: ErrorOptions,
  ) {
    super(`TypeScript syntax error: ${problems.map(located).join('; ')}`, options);
  }
}

/**
 * Where `error` is, when it is a syntax error whose first problem is in `file` (an absolute path): that line and
 * column, and the message without that location (the others keep theirs). Null for any other error.
 *
 * @example
 * syntaxErrorIn(error, '/p/wf.ts');
 * // { line: 8, col: 5, message: 'TypeScript syntax error: Expected "}" but found "done"' }
 */
export function syntaxErrorIn(error: unknown, file: string): { line: number; col: number; message: string } | null {
  if (!(error instanceof TypeScriptSyntaxError)) return null;
  const [first, ...rest] = error.problems;
  if (!first?.at || first.at.file !== file) return null;
  return { line: first.at.line, col: first.at.col, message: `TypeScript syntax error: ${[first.text, ...rest.map(located)].join('; ')}` };
}
