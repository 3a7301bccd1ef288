/**
 * The installed package the CLI belongs to: its `package.json` and its
 * `schema/`, at the package root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

export function packageInfo(): PackageInfo {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as PackageInfo;
  return { name: pkg.name, version: pkg.version };
}

/** The JSON Schema of the definition format, as shipped in the package (`stepwise schema` prints the same). */
export const schemaFile: string = join(packageRoot, 'schema', 'workflow.schema.json');
