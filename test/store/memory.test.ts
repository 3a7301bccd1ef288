/** The conformance suite against the in-memory store. */
import { createMemoryStore } from '../../src/store/memory.js';
import { storeSpec } from './spec.js';

storeSpec('memory', async () => {
  const store = createMemoryStore();
  return { store, destroy: () => store.close() };
});
