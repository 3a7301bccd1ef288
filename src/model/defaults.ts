/**
 * What a model client defaults to, apart from the client itself
 * (src/model/client.ts), so definitions, checks and the CLI read them without
 * loading the SDK.
 */

export const DEFAULT_MODEL = 'claude-sonnet-4-6';
export const DEFAULT_MAX_TOKENS = 1024;
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Does the environment name a model server or a credential for one (so no emulator is needed)? */
export function environmentHasModel(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env['ANTHROPIC_BASE_URL'] || env['ANTHROPIC_API_KEY'] || env['ANTHROPIC_AUTH_TOKEN']);
}
