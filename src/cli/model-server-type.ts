/** What a CLI command talks to the model through: the model options, the emulator it started (if any), and how to stop it. */
import type { Emulator } from '../emulator/index.js';
import type { ModelOptions } from '../model/client.js';

export interface ModelServer {
  readonly model: ModelOptions;
  readonly emulator: Emulator | null;
  close(): Promise<void>;
}
