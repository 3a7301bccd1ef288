#!/usr/bin/env node
// Rewrites the README's benchmark table (between its markers) from bench/results/latest.json. Needs dist (npm run build).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBenchTable } from '../dist/bench/readme.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readmePath = join(root, 'README.md');
const result = JSON.parse(readFileSync(join(root, 'bench/results/latest.json'), 'utf8'));
const before = readFileSync(readmePath, 'utf8');
const after = withBenchTable(before, result);
if (after !== before) writeFileSync(readmePath, after);
process.stdout.write(after === before ? 'README bench table already up to date\n' : 'README bench table rewritten from bench/results/latest.json\n');
