/**
 * Input tokens of a request: the one definition `/v1/messages` charges and
 * `/v1/messages/count_tokens` reports, shared with the engine's budget guard
 * (it lives in `src/model/tokens.ts`).
 */
export { stableStringify, canonicalPrompt, countRequestTokens as inputTokens, type ChargedFields } from '../model/tokens.js';
