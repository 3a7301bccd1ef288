/** The HTTP API: `createServer(engine, options)`, what `stepwise serve` runs. */
export { createServer, type ServerOptions, type StepwiseServer } from './app.js';
export type { ApiToken } from './auth.js';
export { definitionCatalog, type DefinitionCatalog } from './definitions.js';
export type { ListenOptions, ListeningServer } from './listen.js';
export { isLoopback } from './loopback.js';
