/**
 * The Messages API emulator: a local HTTP server the real Anthropic SDK talks
 * to through `baseURL`, playing a seeded, deterministic simulated model with
 * fault injection.
 */
export { startEmulator, type Emulator, type EmulatorOptions } from './server.js';
export { parseFaults, faultProfiles, faultNames, type FaultSpec, type FaultName, type FaultProfileName } from './faults.js';
export type { EmulatorStats } from './stats.js';
export { fillFromSchema } from './fill.js';
export { inputTokens, canonicalPrompt } from './request-tokens.js';
