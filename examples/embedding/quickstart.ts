import { readFileSync } from 'node:fs';
import { createEngine, loadDefinition, openStore } from 'stepwise-engine';
import { startEmulator } from 'stepwise-engine/testing';

// The model: Claude when ANTHROPIC_API_KEY is set; otherwise the emulator, a local
// simulated model (no key, no cost) that the CLI starts by itself but an engine does not.
const emulator = process.env.ANTHROPIC_API_KEY ? undefined : await startEmulator({ seed: 1 });
const model = emulator ? { baseURL: emulator.url, apiKey: 'emulator' } : {}; // {}: the SDK reads ANTHROPIC_API_KEY

const store = await openStore('sqlite:.stepwise/stepwise.db'); // the store the CLI uses by default
const engine = createEngine({ store, model });
// Subscribe before starting: listeners see the transitions that happen after they subscribe. A listener (or an
// `inspect` observer) that throws or rejects stops nothing: the run goes on, and a process warning says so once.
engine.subscribe((view) => console.log(`${view.runId} ${view.status} ${view.steps.at(-1)?.id ?? ''}`));

const definition = await loadDefinition('definitions/invoice-approval.yaml');
const { document } = JSON.parse(readFileSync('definitions/invoice-approval.input.json', 'utf8'));
let run = await engine.start(definition, { input: { document } });
if (run.status === 'waiting') run = await engine.send(run.runId, 'APPROVE', { by: 'cfo@example.com' });
console.log(run.status, JSON.stringify(run.output));

await store.close();
await emulator?.close();
