/** What the queries read runs through: any {@link Store}, or an engine's `engine.store`. */
import type { Store } from '../store/types.js';

export type RunReader = Pick<Store, 'get' | 'list' | 'journal'>;
