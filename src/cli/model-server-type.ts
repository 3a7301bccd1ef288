/** What a CLI command talks to the model through: the model options, whether it is the built-in emulator, and how to stop it. */
import type { ModelOptions } from '../model/client.js';

export interface ModelServer {
  readonly model: ModelOptions;
  /** The built-in emulator (started on the first model request). */
  readonly simulated: boolean;
  /** The transport of `model.client`, when it has its own (the emulator's, started on first use); wrappers such as `--record` keep it. */
  readonly fetch?: typeof globalThis.fetch;
  close(): Promise<void>;
}
