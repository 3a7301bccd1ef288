/**
 * The installed package the CLI belongs to: its `package.json` and its
 * `schema/`, two levels up from `src/cli/` as from `dist/cli/`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

export function packageInfo(): PackageInfo {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageInfo;
  return { name: pkg.name, version: pkg.version };
}

/** The JSON Schema of the definition format, as shipped in the package (`stepwise schema` prints the same). */
export const schemaFile: string = fileURLToPath(new URL('../../schema/workflow.schema.json', import.meta.url));
