import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fillFromSchema } from '../../src/emulator/index.js';
import { collectPromptValues } from '../../src/emulator/prompt-values.js';
import { seededRandom, type Random } from '../../src/util/random.js';
import { Ajv } from './helpers.js';

const formatChecks: Record<string, RegExp> = {
  date: /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z\d+.-]*:\/\/\S+$/i,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

function makeAjv() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const [name, re] of Object.entries(formatChecks)) ajv.addFormat(name, re);
  return ajv;
}

const prompt = [
  'Invoice from Acme Supply',
  'Vendor ID: V-1001',
  'Total: 12,500.00',
  'Status = approved',
  'Count: 3',
  'Tags: urgent, paper',
  '{"name": "Ada Park", "email": "ada@example.com", "quantity": 4, "active": true, "code": "X9"}',
].join('\n');

/** A seeded generator of JSON Schemas of the shapes zod emits and people write. */
class SchemaGen {
  private defs: Record<string, unknown> = {};
  constructor(private readonly random: Random) {}

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }
  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  root(): Record<string, unknown> {
    this.defs = {};
    const schema = this.object(0);
    return Object.keys(this.defs).length ? { ...schema, $defs: this.defs } : schema;
  }

  private node(depth: number): Record<string, unknown> {
    const kinds = depth >= 3 ? ['string', 'number', 'integer', 'boolean', 'enum'] : ['string', 'number', 'integer', 'boolean', 'enum', 'object', 'array', 'anyOf', 'oneOf', 'nullable', 'const', 'ref', 'allOf'];
    switch (this.pick(kinds)) {
      case 'string': return this.string();
      case 'number': return this.number(false);
      case 'integer': return this.number(true);
      case 'boolean': return { type: 'boolean', ...(this.chance(0.2) ? { default: false } : {}) };
      case 'enum': return { enum: this.pick([['a', 'b', 'c'], ['USD', 'EUR'], [1, 2, 3], ['x', 2, null], ['approved', 'rejected']]) };
      case 'object': return this.object(depth + 1);
      case 'array': return this.array(depth + 1);
      case 'anyOf': return { anyOf: [this.node(depth + 1), this.node(depth + 1), ...(this.chance(0.3) ? [{ type: 'null' }] : [])] };
      case 'oneOf': return { oneOf: [this.string(), { type: 'integer', minimum: 0 }, { type: 'boolean' }].slice(0, this.int(2, 3)) };
      case 'nullable': {
        const inner = this.pick([this.string(), this.number(false), this.number(true)]);
        return { ...inner, type: [inner['type'] as string, 'null'] };
      }
      case 'const': return { const: this.pick(['fixed', 42, true, null]) };
      case 'ref': {
        const name = `Def${Object.keys(this.defs).length}`;
        this.defs[name] = {};
        this.defs[name] = this.node(depth + 1);
        return { $ref: `#/$defs/${name}` };
      }
      default: {
        const { additionalProperties: _open, minProperties: _min, ...base } = this.object(depth + 1);
        return { allOf: [base, { type: 'object', properties: { extraFlag: { type: 'boolean' } }, required: ['extraFlag'] }] };
      }
    }
  }

  private string(): Record<string, unknown> {
    const s: Record<string, unknown> = { type: 'string' };
    const r = this.random();
    if (r < 0.25) s['format'] = this.pick(Object.keys(formatChecks));
    else if (r < 0.45) s['pattern'] = this.pick(['^[A-Z]{3}-\\d{4}$', '^\\d{5}(-\\d{4})?$', '^[a-z]+(_[a-z]+)*$', '^(red|green|blue)$', '[0-9]', '^INV-[0-9A-F]{6}$', '^\\w+@\\w+\\.com$']);
    else {
      if (this.chance(0.5)) s['minLength'] = this.int(0, 8);
      if (this.chance(0.5)) s['maxLength'] = ((s['minLength'] as number | undefined) ?? 0) + this.int(0, 20);
    }
    return s;
  }

  private number(integer: boolean): Record<string, unknown> {
    const s: Record<string, unknown> = { type: integer ? 'integer' : 'number' };
    const lo = this.int(-50, 50);
    if (this.chance(0.5)) s[this.chance(0.3) ? 'exclusiveMinimum' : 'minimum'] = lo;
    if (this.chance(0.5)) s[this.chance(0.3) ? 'exclusiveMaximum' : 'maximum'] = lo + this.int(10, 5000);
    if (this.chance(0.25)) s['multipleOf'] = this.pick(integer ? [1, 2, 5, 10] : [0.5, 0.25, 2, 5]);
    return s;
  }

  private object(depth: number): Record<string, unknown> {
    const names = ['vendorId', 'total', 'status', 'count', 'tags', 'name', 'email', 'quantity', 'active', 'code', 'items', 'note', 'due_date', 'address', 'id'];
    const properties: Record<string, unknown> = {};
    const n = this.int(0, 5);
    for (let i = 0; i < n; i++) properties[this.pick(names)] = this.node(depth);
    const keys = Object.keys(properties);
    const s: Record<string, unknown> = { type: 'object', properties };
    const required = keys.filter(() => this.chance(0.6));
    if (required.length) s['required'] = required;
    if (this.chance(0.4)) s['additionalProperties'] = false;
    else if (this.chance(0.2)) s['additionalProperties'] = { type: 'string' };
    if (this.chance(0.1) && s['additionalProperties'] !== false) s['minProperties'] = keys.length + 1;
    return s;
  }

  private array(depth: number): Record<string, unknown> {
    const s: Record<string, unknown> = { type: 'array' };
    if (this.chance(0.15)) {
      s['prefixItems'] = [this.string(), this.number(true)];
      s['items'] = false;
      return s;
    }
    if (this.chance(0.2)) {
      s['items'] = { type: 'string', minLength: 3 };
      s['uniqueItems'] = true;
    } else s['items'] = this.node(depth);
    if (this.chance(0.5)) s['minItems'] = this.int(0, 3);
    if (this.chance(0.4)) s['maxItems'] = ((s['minItems'] as number | undefined) ?? 0) + this.int(0, 3);
    return s;
  }
}

describe('fillFromSchema', () => {
  it('fills 400 generated schemas with valid values (fuzz)', () => {
    const ajv = makeAjv();
    const gen = new SchemaGen(seededRandom('schema-fuzz'));
    const failures: string[] = [];
    for (let i = 0; i < 400; i++) {
      const schema = gen.root();
      const validate = ajv.compile(schema);
      for (const seed of [i, i + 1000]) {
        const value = fillFromSchema(schema, seed % 2 ? prompt : '', seededRandom(seed));
        if (!validate(value) && failures.length < 5) {
          failures.push(`${JSON.stringify(schema)}\n→ ${JSON.stringify(value)}\n${ajv.errorsText(validate.errors)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('fills schemas made by z.toJSONSchema', () => {
    const ajv = makeAjv();
    const Address = z.object({ street: z.string().min(1), city: z.string(), zip: z.string().regex(/^\d{5}$/) });
    const schemas = [
      z.object({ vendorId: z.string(), total: z.number().positive(), currency: z.enum(['USD', 'EUR']).default('USD'), due: z.iso.date().optional() }),
      z.object({ id: z.uuid(), email: z.email(), site: z.url().optional(), at: z.iso.datetime(), tags: z.array(z.string()).min(1).max(3) }),
      z.object({ lines: z.array(z.object({ sku: z.string().regex(/^SKU-\d{3}$/), qty: z.int().min(1).max(99), price: z.number().multipleOf(0.5) })).nonempty() }),
      z.object({ kind: z.discriminatedUnion('type', [z.object({ type: z.literal('a'), a: z.string() }), z.object({ type: z.literal('b'), b: z.number() })]) }),
      z.object({ note: z.string().nullable(), maybe: z.union([z.string(), z.number()]).optional(), addr: Address, billing: Address.optional() }),
      z.object({ pair: z.tuple([z.string(), z.number()]), meta: z.record(z.string(), z.number()), flag: z.boolean().default(true) }).strict(),
      z.object({ score: z.number().gt(0).lt(1), count: z.int().nonnegative().lte(10), name: z.string().min(2).max(4) }),
    ];
    for (const [index, zodSchema] of schemas.entries()) {
      const json = z.toJSONSchema(zodSchema, { io: 'input' }) as Record<string, unknown>;
      const validate = ajv.compile(json);
      for (let seed = 0; seed < 10; seed++) {
        const value = fillFromSchema(json, prompt, seededRandom(seed));
        expect(validate(value), `schema ${index}: ${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`).toBe(true);
        expect(zodSchema.safeParse(value).success, `zod ${index}: ${JSON.stringify(value)}`).toBe(true);
      }
    }
  });

  it('fills recursive schemas', () => {
    type Node = { label: string; children?: Node[] | undefined };
    const Tree: z.ZodType<Node> = z.lazy(() => z.object({ label: z.string(), children: z.array(Tree).optional() }));
    const json = z.toJSONSchema(Tree, { io: 'input' }) as Record<string, unknown>;
    const validate = makeAjv().compile(json);
    expect(validate(fillFromSchema(json, '', seededRandom(3)))).toBe(true);
  });

  it('marks invented free text as simulated', () => {
    const schema = { type: 'object', properties: { summary: { type: 'string' }, note: { type: 'string' } }, required: ['summary', 'note'] };
    for (let seed = 1; seed < 20; seed++) {
      const value = fillFromSchema(schema, '', seededRandom(seed)) as { summary: string; note: string };
      expect(value.summary).toMatch(/^\[simulated\] \w+ \w+$/);
      expect(value.note).toMatch(/^\[simulated\] /);
    }
  });

  it('takes values from the prompt by normalised name, coerced and checked', () => {
    const schema = {
      type: 'object',
      properties: {
        vendorId: { type: 'string' },
        total: { type: 'number' },
        status: { type: 'string', enum: ['approved', 'rejected'] },
        tags: { type: 'array', items: { type: 'string' } },
        quantity: { type: 'integer' },
        email: { type: 'string', format: 'email' },
        count: { type: 'string', maxLength: 0 },
      },
      required: ['vendorId', 'total', 'status', 'tags', 'quantity', 'email', 'count'],
    };
    const value = fillFromSchema(schema, prompt, seededRandom(1));
    expect(value).toEqual({ vendorId: 'V-1001', total: 12500, status: 'approved', tags: ['urgent', 'paper'], quantity: 4, email: 'ada@example.com', count: '' });
  });

  it('is deterministic for a given random', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'array', items: { type: 'number' } } } };
    expect(fillFromSchema(schema, '', seededRandom(9))).toEqual(fillFromSchema(schema, '', seededRandom(9)));
  });
});

describe('reading feedback on a rejected answer', () => {
  const schema = z.toJSONSchema(z.object({ vendorId: z.string().regex(/^V-\d{4}$/), memo: z.string() })) as Record<string, unknown>;

  it('uses the values the feedback lists as known, and only those values where its label names the property', () => {
    const prompt = [
      'Vendor ID: V-0042',
      'Memo: rush order',
      '<previous_attempt_rejected>',
      'The tool failed: create_po: unknown vendor id V-0042; known vendor ids: V-1001, V-1002',
      '</previous_attempt_rejected>',
    ].join('\n');
    expect(collectPromptValues(prompt).lookup('vendorId')).toEqual(['V-1001', 'V-1002', 'V-0042']);
    expect(fillFromSchema(schema, prompt, seededRandom(1))).toEqual({ vendorId: 'V-1001', memo: 'rush order' });
  });

  it('tries a candidate the feedback names after every other one, and keeps it when nothing else fits', () => {
    const context = '{"vendors": [{"vendorId": "V-0042"}, {"vendorId": "V-2001"}]}';
    const rejected = `${context}\n<previous_attempt_rejected>\nThe tool failed: vendor V-0042 is blocked\n</previous_attempt_rejected>`;
    expect(collectPromptValues(context).lookup('vendorId')).toEqual(['V-0042', 'V-2001']);
    expect(collectPromptValues(rejected).lookup('vendorId')).toEqual(['V-2001', 'V-0042']);
    expect(collectPromptValues('Vendor ID: V-0042\n<error>vendor V-0042 is blocked</error>').lookup('vendorId')).toEqual(['V-0042']);
  });

  it('does not take the lines of an invalid-input message as values', () => {
    const prompt = 'Memo: rush order\n<previous_attempt_rejected>\nthe input was invalid: memo: Too long; vendorId: Invalid string\n</previous_attempt_rejected>';
    expect(collectPromptValues(prompt).lookup('memo')).toEqual(['rush order']);
    expect(collectPromptValues(prompt).lookup('vendorId')).toEqual([]);
  });
});
