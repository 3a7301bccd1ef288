/**
 * Generates strings matching simple regular expressions (the kind found in
 * JSON Schema `pattern`): literals, classes, `\d \w \s`, groups, alternation
 * and quantifiers. Anything fancier (lookaround, backreferences) is refused,
 * and the caller falls back.
 */
import type { Random } from '../util/random.js';

type Node =
  | { kind: 'chars'; chars: string[] }
  | { kind: 'alt'; options: Node[][] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
const digits = printable.filter((c) => c >= '0' && c <= '9');
const word = printable.filter((c) => /\w/.test(c));
const space = [' ', '\t'];

class Unsupported extends Error {}

function escapeClass(c: string): string[] | undefined {
  switch (c) {
    case 'd': return digits;
    case 'D': return printable.filter((x) => !digits.includes(x));
    case 'w': return word;
    case 'W': return printable.filter((x) => !word.includes(x));
    case 's': return space;
    case 'S': return printable.filter((x) => x !== ' ');
    case 'n': return ['\n'];
    case 't': return ['\t'];
    case 'r': return ['\r'];
    default:
      if (/[bBkpPu1-9]/.test(c)) throw new Unsupported(c);
      return [c];
  }
}

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length) throw new Unsupported('trailing');
    return node;
  }

  private alternation(): Node {
    const options: Node[][] = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      options.push(this.sequence());
    }
    return { kind: 'alt', options };
  }

  private sequence(): Node[] {
    const seq: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      if (atom) seq.push(this.quantifier(atom));
    }
    return seq;
  }

  private atom(): Node | undefined {
    const c = this.src[this.i++] ?? '';
    if (c === '^' || c === '$') return undefined;
    if (c === '.') return { kind: 'chars', chars: printable };
    if (c === '\\') return { kind: 'chars', chars: escapeClass(this.src[this.i++] ?? '\\') ?? [] };
    if (c === '[') return this.charClass();
    if (c === '(') {
      if (this.src[this.i] === '?') {
        if (this.src[this.i + 1] !== ':') throw new Unsupported('group');
        this.i += 2;
      }
      const inner = this.alternation();
      if (this.src[this.i++] !== ')') throw new Unsupported('paren');
      return inner;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{' || c === ')') throw new Unsupported(c);
    return { kind: 'chars', chars: [c] };
  }

  private charClass(): Node {
    const negate = this.src[this.i] === '^';
    if (negate) this.i++;
    const set = new Set<string>();
    let first = true;
    while (this.i < this.src.length && (this.src[this.i] !== ']' || first)) {
      first = false;
      let c = this.src[this.i++] ?? '';
      let list: string[] | undefined;
      if (c === '\\') {
        const e = this.src[this.i++] ?? '';
        list = escapeClass(e);
        if (list && list.length === 1) c = list[0] ?? '';
        else {
          for (const x of list ?? []) set.add(x);
          continue;
        }
      }
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.i + 1 < this.src.length) {
        this.i++;
        let end = this.src[this.i++] ?? '';
        if (end === '\\') end = escapeClass(this.src[this.i++] ?? '')?.[0] ?? '';
        for (let code = c.charCodeAt(0); code <= end.charCodeAt(0); code++) set.add(String.fromCharCode(code));
      } else set.add(c);
    }
    if (this.src[this.i++] !== ']') throw new Unsupported('class');
    const chars = negate ? printable.filter((x) => !set.has(x)) : [...set];
    return { kind: 'chars', chars };
  }

  private quantifier(node: Node): Node {
    const c = this.src[this.i];
    let min = 1;
    let max = 1;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return node;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Infinity;
      this.i += m[0].length - 1;
    } else return node;
    this.i++;
    if (this.src[this.i] === '?' || this.src[this.i] === '+') this.i++;
    return { kind: 'repeat', node, min, max };
  }
}

function generate(node: Node, random: Random, extra: number, out: string[]): void {
  if (node.kind === 'chars') {
    if (node.chars.length === 0) throw new Unsupported('empty class');
    out.push(node.chars[Math.floor(random() * node.chars.length)] ?? '');
  } else if (node.kind === 'alt') {
    const option = node.options[Math.floor(random() * node.options.length)] ?? [];
    for (const part of option) generate(part, random, extra, out);
  } else {
    const span = Math.min(node.max - node.min, extra);
    const count = node.min + Math.floor(random() * (span + 1));
    for (let k = 0; k < count; k++) generate(node.node, random, extra, out);
  }
}

/**
 * A string matching `pattern` with a length in [minLength, maxLength], or
 * undefined when the pattern is unsupported or no attempt fits.
 * @example
 * stringForPattern('^INV-\\d{4}$', seededRandom(1)); // e.g. 'INV-4821'
 */
export function stringForPattern(pattern: string, random: Random, minLength = 0, maxLength = Infinity): string | undefined {
  let re: RegExp;
  let tree: Node;
  try {
    re = new RegExp(pattern, 'u');
    tree = new Parser(pattern).parse();
  } catch {
    return undefined;
  }
  const fits = (s: string): boolean => re.test(s) && [...s].length >= minLength && [...s].length <= maxLength;
  for (let attempt = 0; attempt < 24; attempt++) {
    const out: string[] = [];
    const extra = attempt < 8 ? 3 : attempt < 16 ? Math.max(1, minLength) : 0;
    try {
      generate(tree, random, extra, out);
    } catch {
      return undefined;
    }
    let s = out.join('');
    if (fits(s)) return s;
    while ([...s].length < minLength && re.test(s + 'a')) s += 'a';
    while ([...s].length < minLength && re.test('a' + s)) s = 'a' + s;
    if (fits(s)) return s;
  }
  return undefined;
}
