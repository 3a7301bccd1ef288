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

/**
 * Indexes the values in a prompt text.
 * @example
 * collectPromptValues('Vendor ID: V-1001').lookup('vendorId'); // ['V-1001']
 */
export function collectPromptValues(text: string): PromptValues {
  const byName = new Map<string, unknown[]>();
  const add = (key: string, value: unknown): void => {
    const name = normaliseName(key);
    if (!name) return;
    const list = byName.get(name);
    if (list) list.push(value);
    else byName.set(name, [value]);
  };
  scanJson(text, add);
  scanLines(text, add);
  return {
    lookup(name: string): unknown[] {
      const wanted = normaliseName(name);
      if (!wanted) return [];
      const exact = byName.get(wanted) ?? [];
      const close: unknown[] = [];
      for (const [key, values] of byName) {
        if (key === wanted || Math.min(key.length, wanted.length) < 4) continue;
        if (key.endsWith(wanted) || wanted.endsWith(key)) close.push(...values);
      }
      return [...exact, ...close];
    },
  };
}
