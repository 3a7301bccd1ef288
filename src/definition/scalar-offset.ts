/**
 * Where index `i` of a YAML string scalar's value is in the source: the value
 * of a block scalar (`|`, `>`) or a multi-line string has its indentation
 * removed and its lines joined (by a newline, a space, or folded), so an
 * expression on line 10 of a prompt is not at the `|` of line 7. The source is
 * followed line by line: each line's text, trimmed, is found in the value past
 * the whitespace the joins made. Quoted strings are followed while their text
 * is as written (no escapes on the line).
 */
import { isScalar, Scalar } from 'yaml';

/**
 * The offset in `text` of index `index` of the value of `node`, or undefined when the node is not a string scalar
 * or its source cannot be followed that far.
 *
 * @example
 * // text: 'prompt: |\n  one\n  two {% $x %}\n', node: the scalar of `prompt`
 * sourceOffset(text, node, 8); // the offset of `{%` on the third line
 */
export function sourceOffset(text: string, node: unknown, index: number): number | undefined {
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return undefined;
  const value = node.value;
  const [start, end] = node.range;
  const body = bodyOf(text, node.type, start, end);
  if (body === undefined) return undefined;
  let at = 0;
  let past: number | undefined;
  for (const segment of segmentsOf(text, body.from, body.to)) {
    const line = text.slice(segment.source, segment.source + segment.length);
    while (at < value.length && !value.startsWith(line, at) && /\s/.test(value[at]!)) at++;
    if (!value.startsWith(line, at)) return undefined;
    // An index in the whitespace before this line's text is placed at that text.
    if (index < at + segment.length) return segment.source + Math.max(0, index - at);
    past = segment.source + segment.length;
    at += segment.length;
  }
  return past;
}

/** The part of the source that holds the value's text: past a block scalar's header line, inside quotes. */
function bodyOf(text: string, type: Scalar['type'], start: number, end: number): { from: number; to: number } | undefined {
  switch (type) {
    case Scalar.BLOCK_LITERAL:
    case Scalar.BLOCK_FOLDED: {
      const header = text.indexOf('\n', start);
      return header < 0 || header >= end ? undefined : { from: header + 1, to: end };
    }
    case Scalar.QUOTE_DOUBLE:
    case Scalar.QUOTE_SINGLE:
      return { from: start + 1, to: end - 1 };
    case Scalar.PLAIN:
      return { from: start, to: end };
    default:
      return undefined;
  }
}

/** Each non-blank line of `text` between `from` and `to`, trimmed, as its start and length. */
function* segmentsOf(text: string, from: number, to: number): Generator<{ source: number; length: number }> {
  for (let lineStart = from; lineStart < to; ) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline < 0 || newline > to ? to : newline;
    const line = text.slice(lineStart, lineEnd);
    const trimmed = line.trim();
    if (trimmed !== '') yield { source: lineStart + line.indexOf(trimmed), length: trimmed.length };
    lineStart = lineEnd + 1;
  }
}
