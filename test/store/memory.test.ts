/** The conformance suite against the in-memory store. */
import * as vitest from 'vitest';
import { createMemoryStore } from '../../src/store/memory.js';
import { storeSpec } from '../../src/testing.js';

storeSpec(vitest, 'memory', async () => {
  const store = createMemoryStore();
  return { store, destroy: () => store.close() };
});
