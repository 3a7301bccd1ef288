/**
 * Embedding Stepwise in a service, as the README's "Embedding" section shows:
 * start the invoice-approval workflow, watch its transitions, and approve it
 * when it waits. Run it with `npx tsx examples/embedding/approve.ts` (it
 * starts the built-in emulator, so no API key is needed).
 */
import { readFileSync } from 'node:fs';
import { createEngine, loadDefinition, openStore, type RunView } from '../../src/index.js';
import { startEmulator } from '../../src/testing.js';

export async function approveInvoice(storeSpec: string, document: string): Promise<{ run: RunView; seen: string[] }> {
  const emulator = await startEmulator({ seed: 1 });
  const store = await openStore(storeSpec);
  try {
    const engine = createEngine({ store, model: { baseURL: emulator.url, apiKey: 'emulator' } });
    const seen: string[] = [];
    engine.subscribe((view) => seen.push(`${view.steps.at(-1)?.id ?? '-'}:${view.status}`));
    const definition = await loadDefinition(new URL('../../definitions/invoice-approval.yaml', import.meta.url).pathname);
    let run = await engine.start(definition, { input: { document } });
    if (run.status === 'waiting') run = await engine.send(run.runId, 'APPROVE', { by: 'cfo@example.com' });
    return { run, seen };
  } finally {
    await store.close();
    await emulator.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const input = JSON.parse(readFileSync(new URL('../../definitions/invoice-approval.input.json', import.meta.url), 'utf8')) as { document: string };
  const { run, seen } = await approveInvoice('memory', input.document);
  console.log(seen.join('\n'));
  console.log(run.status, JSON.stringify(run.output));
}
