/**
 * Short, plausible generated values: strings by `format` and by property name,
 * and filler words. Everything is drawn from the caller's seeded random.
 */
import type { Random } from '../util/random.js';

/** Marks free text the emulator invented, so nobody takes it for a model's words. */
export const SIMULATED = '[simulated]';

const words = ['alpha', 'amber', 'north', 'river', 'cedar', 'delta', 'harbor', 'maple', 'summit', 'atlas', 'orbit', 'pine', 'quartz', 'ember', 'lumen'];
const names = ['Ada Park', 'Lena Ortiz', 'Sam Patel', 'Mira Chen', 'Jon Berg', 'Nia Okafor'];
const companies = ['Acme Supply', 'Northwind Ltd', 'Globex GmbH', 'Initech', 'Umbrella Parts'];
const statuses = ['pending', 'active', 'approved', 'open'];

export function pick<T>(list: readonly T[], random: Random): T {
  return list[Math.floor(random() * list.length)] as T;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function hex(random: Random, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** A random id-like hex string (for message and tool-use ids). */
export function randomId(random: Random, length = 24): string {
  return hex(random, length);
}

function date(random: Random): string {
  return `202${Math.floor(random() * 6)}-${pad(1 + Math.floor(random() * 12), 2)}-${pad(1 + Math.floor(random() * 28), 2)}`;
}

/** A value for a string `format`, or undefined for formats we don't know. */
export function stringForFormat(format: string, random: Random): string | undefined {
  switch (format) {
    case 'date': return date(random);
    case 'date-time': return `${date(random)}T${pad(Math.floor(random() * 24), 2)}:${pad(Math.floor(random() * 60), 2)}:00Z`;
    case 'time': return `${pad(Math.floor(random() * 24), 2)}:${pad(Math.floor(random() * 60), 2)}:00Z`;
    case 'email': return `${pick(words, random)}@example.com`;
    case 'uri':
    case 'url': return `https://example.com/${pick(words, random)}`;
    case 'uuid': {
      const h = hex(random, 32);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
    }
    case 'ipv4': return `10.0.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
    case 'hostname': return `${pick(words, random)}.example.com`;
    default: return undefined;
  }
}

/** A short string suited to a property name (`vendorId`, `email`, `status` ...). */
export function stringForName(name: string | undefined, random: Random): string {
  const n = (name ?? '').toLowerCase();
  if (n.includes('email')) return stringForFormat('email', random) ?? '';
  if (/url|uri|link|website/.test(n)) return stringForFormat('uri', random) ?? '';
  if (/date|day/.test(n)) return stringForFormat('date', random) ?? '';
  if (/(^|_|[a-z])id$|ids?$/.test(n) && n.endsWith('id')) return `${(name ?? 'X').slice(0, 1).toUpperCase()}-${1000 + Math.floor(random() * 9000)}`;
  if (/vendor|supplier|company|customer|org/.test(n)) return pick(companies, random);
  if (/name|author|owner|assignee|approver/.test(n)) return pick(names, random);
  if (n.includes('currency')) return pick(['USD', 'EUR', 'GBP'], random);
  if (n.includes('status') || n.includes('state')) return pick(statuses, random);
  if (n.includes('phone')) return `+1-555-${pad(Math.floor(random() * 10000), 4)}`;
  if (/reason|summary|description|note|comment|text|message/.test(n)) return `${SIMULATED} ${pick(words, random)} ${pick(words, random)}`;
  return pick(words, random);
}

/** Brings a string to a length in [min, max] by padding with letters or cutting. */
export function fitLength(text: string, min: number, max: number, random: Random): string {
  let chars = [...text];
  while (chars.length < min) chars.push(...pick(words, random));
  if (chars.length > max) chars = chars.slice(0, Math.max(0, max));
  while (chars.length < min) chars.push('x');
  return chars.join('');
}
