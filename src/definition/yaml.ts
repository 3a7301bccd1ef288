/**
 * Parses YAML (and JSON, which is YAML) into plain data while keeping every
 * node's source range, so later issues can point at a line and column.
 * Syntax errors and duplicate keys become {@link DefinitionIssue}s. Merge keys
 * (`<<: *defaults`) are supported, so steps can share settings.
 */
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type YAMLError } from 'yaml';
import { DefinitionError, type DefinitionIssue } from '../errors.js';
import { dotted, type Locate, type PathSegment, type Position } from './locate.js';
import { sourceOffset } from './scalar-offset.js';

/** The data of a YAML source and a locator into it. */
export interface ParsedYaml {
  readonly data: unknown;
  readonly locate: Locate;
}

interface Ranged {
  range?: [number, number, number] | null | undefined;
}

/**
 * Parses `text` as one YAML document.
 *
 * @throws DefinitionError listing every syntax error and duplicate key, located.
 * @example
 * ```ts
 * const { data, locate } = parseYaml(readFileSync(file, 'utf8'), file);
 * locate(['steps', 'extract', 'next']); // { line: 7, col: 11 }
 * ```
 */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const position = (offset: number): Position => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    // An unclosed quote swallows the rest of the file; what the parser says next, at its end, follows from it.
    const unclosed = new Set(doc.errors.filter(isUnclosedQuote).map((error) => error.pos[0]));
    const first = doc.errors.filter((error) => isUnclosedQuote(error) || !unclosed.has(error.pos[0]));
    throw new DefinitionError(first.map((error) => syntaxIssue(error, doc, text, file, position)));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new DefinitionError([{ file, line: 1, col: 1, path: '', message: `cannot read YAML: ${(error as Error).message}` }]);
  }
  return { data, locate: (path, at, offset) => position(offsetOf(doc, text, path, at ?? 'value', offset)) };
}

function syntaxIssue(
  error: YAMLError,
  doc: Document,
  text: string,
  file: string,
  position: (offset: number) => Position,
): DefinitionIssue {
  const [start, end] = error.pos;
  if (error.code === 'DUPLICATE_KEY') {
    const path = pathAt(doc, start);
    const key = path.length > 0 ? String(path.at(-1)) : text.slice(start, end).trim();
    return { file, ...position(start), path: dotted(path), message: `duplicate key ${JSON.stringify(key)}: a key may appear once per mapping` };
  }
  if (error.code === 'MULTIPLE_DOCS') {
    const message = 'a definition file holds one YAML document, and a second one starts here; remove the "---" line and what follows, or put it in a file of its own';
    return { file, ...position(start), path: '', message: `YAML syntax error: ${message}` };
  }
  if (isUnclosedQuote(error)) {
    const quoted = unclosedScalar(doc, start);
    const quote = quoted?.type === Scalar.QUOTE_SINGLE ? "'" : '"';
    const message = `this ${quote} quote is not closed: the string runs to the end of the file; close it with ${quote}`;
    return { file, ...position(quoted?.range?.[0] ?? start), path: '', message: `YAML syntax error: ${message}` };
  }
  const message = error.message.replace(/\s+at line \d+, column \d+.*$/s, '');
  return { file, ...position(start), path: '', message: `YAML syntax error: ${message}` };
}

function isUnclosedQuote(error: YAMLError): boolean {
  return error.code === 'MISSING_CHAR' && /quote/.test(error.message);
}

/** The quoted scalar that runs up to `end`, where the parser found its closing quote missing. */
function unclosedScalar(doc: Document, end: number): Scalar | undefined {
  let found: Scalar | undefined;
  visit(doc, {
    Scalar(_key, node) {
      if ((node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) && node.range?.[1] === end) found = node;
    },
  });
  return found;
}

function startOf(node: unknown): number | undefined {
  return (node as Ranged | null)?.range?.[0] ?? undefined;
}

/** Block collections start at their first entry; point at their key instead, where the reader looks. */
function isBlockCollection(node: unknown): boolean {
  return isCollection(node) && !node.flow;
}

/** `inside`: an index into the string at `path`, placed where the source has it (see scalar-offset.ts). */
function offsetOf(doc: Document, text: string, path: readonly PathSegment[], at: 'key' | 'value', inside?: number): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let key: unknown;
    let value: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (!pair) return offset;
      key = pair.key;
      value = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      value = node.items[segment];
    } else return offset;
    const keyOffset = startOf(key);
    if (at === 'key' && index === path.length - 1 && keyOffset !== undefined) return keyOffset;
    const valueOffset = startOf(value);
    offset = (isBlockCollection(value) || valueOffset === undefined ? keyOffset : valueOffset) ?? valueOffset ?? offset;
    node = value;
  }
  // The whole path is in the source: an index into its string (not an alias's) is placed on its line.
  return inside === undefined ? offset : (sourceOffset(text, node, inside) ?? offset);
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** The path of the deepest map entry or sequence item whose range holds `offset`. */
function pathAt(doc: Document, offset: number): PathSegment[] {
  const path: PathSegment[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    const inside = (n: unknown) => {
      const range = (n as Ranged | null)?.range;
      return range ? range[0] <= offset && offset < range[2] : false;
    };
    if (isMap(node)) {
      const pair = node.items.find((item) => inside(item.key) || inside(item.value));
      if (!pair) return path;
      path.push(keyText(pair.key));
      if (inside(pair.key)) return path;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex(inside);
      if (index < 0) return path;
      path.push(index);
      node = node.items[index];
    } else return path;
  }
}
