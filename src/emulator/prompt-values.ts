/**
 * Values a reader would find in a prompt: keys of JSON objects embedded in the
 * text, and `Label: value` / `label = value` lines. The filler looks property
 * names up here by normalised name (`vendorId` finds `Vendor ID:`).
 */
import { isObject } from './json-schema.js';

/** Lowercase, letters and digits only: `Vendor ID` and `vendor_id` both give `vendorid`. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Candidate values by normalised name, in order of appearance. */
export interface PromptValues {
  /** Candidates for a property name: exact normalised matches first, then close ones. */
  lookup(name: string): unknown[];
}

const MAX_SCAN = 200_000;

/** Index just past the bracket closing the one at `start`, or -1. */
function findClose(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  const end = Math.min(text.length, start + MAX_SCAN);
  for (let i = start; i < end; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function collectJson(value: unknown, add: (key: string, value: unknown) => void, depth = 0): void {
  if (depth > 20) return;
  if (Array.isArray(value)) {
    for (const item of value) collectJson(item, add, depth + 1);
  } else if (isObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      add(key, inner);
      collectJson(inner, add, depth + 1);
    }
  }
}

/** Parses every `{...}` / `[...]` in the text that is valid JSON. */
function scanJson(text: string, add: (key: string, value: unknown) => void): void {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '{' && c !== '[') continue;
    const end = findClose(text, i);
    if (end < 0) continue;
    try {
      collectJson(JSON.parse(text.slice(i, end)), add);
      i = end - 1;
    } catch {
      /* not JSON: keep scanning inside it */
    }
  }
}

const labelLine = /^([A-Za-z][A-Za-z0-9 _.\-/()#']{0,48}?)\s*[:=]\s*(\S.*?)\s*[,;]?$/;

function scanLines(text: string, add: (key: string, value: unknown) => void): void {
  for (const rawLine of text.split(/\r?\n/)) {
    for (const piece of rawLine.split(/\s+\|\s+|;\s+/)) {
      const line = piece.replace(/^[\s\-*•>#]+/, '').replace(/^"([^"]+)"\s*:/, '$1:');
      const match = labelLine.exec(line);
      if (!match?.[1] || match[2] === undefined) continue;
      const value = match[2].replace(/^["'](.*)["']$/, '$1');
      if (value.startsWith('//')) continue;
      add(match[1], value);
      const bare = match[1].replace(/\(.*?\)/g, '');
      if (bare !== match[1]) add(bare, value);
    }
  }
}

/** A block telling the model why its last answer was rejected: `<previous_attempt_rejected>`, `<error>`, `<feedback>`. */
const feedbackBlock = /<([A-Za-z_]*(?:reject|error|feedback)[A-Za-z_]*)>([\s\S]*?)<\/\1>/gi;
/** Words that make a label in feedback a list of values to use instead (`known vendor ids: V-1, V-2`). */
const suggesting = /\b(?:known|allowed|valid|accepted|expected|available|supported|permitted|open|active|use|try)\b/gi;

/** Label lines of feedback that list values to use, each item under the label's name without its qualifier, singular too. */
function scanSuggestions(text: string, add: (key: string, value: unknown) => void): void {
  scanLines(text, (label, value) => {
    if (!label.match(suggesting) || typeof value !== 'string') return;
    const name = label.replace(suggesting, '');
    for (const item of value.split(/\s*,\s*|\s+or\s+|\s*\|\s*/)) {
      const clean = item.replace(/^["'`]|["'`.]$/g, '');
      if (!clean) continue;
      add(name, clean);
      add(name.replace(/(?:ies)$/i, 'y').replace(/s$/i, ''), clean);
    }
  });
}

type Index = Map<string, unknown[]>;

function indexer(byName: Index): (key: string, value: unknown) => void {
  return (key, value) => {
    const name = normaliseName(key);
    if (!name) return;
    const list = byName.get(name);
    if (list) list.push(value);
    else byName.set(name, [value]);
  };
}

/** Exact normalised matches, then close ones (one name ends with the other). */
function find(byName: Index, wanted: string): unknown[] {
  const exact = byName.get(wanted) ?? [];
  const close: unknown[] = [];
  for (const [key, values] of byName) {
    if (key === wanted || Math.min(key.length, wanted.length) < 4) continue;
    if (key.endsWith(wanted) || wanted.endsWith(key)) close.push(...values);
  }
  return [...exact, ...close];
}

/** Whether a scalar `value` is quoted in `text` as a whole word. */
function mentioned(value: unknown, text: string): boolean {
  if (text === '' || (typeof value !== 'string' && typeof value !== 'number') || String(value).trim() === '') return false;
  const escaped = String(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|[^A-Za-z0-9])${escaped}(?:$|[^A-Za-z0-9])`).test(text);
}

/**
 * Indexes the values in a prompt text. Feedback on a rejected answer (a
 * `<previous_attempt_rejected>` or `<…error…>` block) is read the way a model
 * reads it: values it lists as known or allowed come first, and a value it
 * names (the one rejected) is tried only after every other candidate.
 * @example
 * collectPromptValues('Vendor ID: V-1001').lookup('vendorId'); // ['V-1001']
 * collectPromptValues('Vendor ID: V-0042\n<error>unknown vendor id V-0042; known vendor ids: V-1001</error>').lookup('vendorId'); // ['V-1001', 'V-0042']
 */
export function collectPromptValues(text: string): PromptValues {
  const byName: Index = new Map();
  const suggested: Index = new Map();
  const feedback: string[] = [];
  const rest = text.replace(feedbackBlock, (_block, _tag, inner: string) => {
    feedback.push(inner);
    return '\n';
  });
  scanJson(rest, indexer(byName));
  scanLines(rest, indexer(byName));
  for (const inner of feedback) scanSuggestions(inner, indexer(suggested));
  const rejectedText = feedback.join('\n');
  return {
    lookup(name: string): unknown[] {
      const wanted = normaliseName(name);
      if (!wanted) return [];
      const advised = find(suggested, wanted);
      const candidates = [...advised, ...find(byName, wanted)];
      const fresh = candidates.filter((v) => advised.includes(v) || !mentioned(v, rejectedText));
      return [...new Set([...fresh, ...candidates])];
    },
  };
}
