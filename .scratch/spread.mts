import { generateScenarios } from '/work/wt/bench14/src/bench/scenarios.ts';
import { runStepwise } from '/work/wt/bench14/src/bench/arms/stepwise.ts';
import { startEmulator } from '/work/wt/bench14/src/emulator/server.ts';
import { parseFaults } from '/work/wt/bench14/src/emulator/faults.ts';
import { createMemoryStore } from '/work/wt/bench14/src/store/memory.ts';
const profile = process.argv[2] ?? 'flaky';
const s = generateScenarios(1, 200).filter((x) => x.steps.length === 5);
const emu = await startEmulator({ seed: 1, faults: parseFaults(profile) });
const store = createMemoryStore();
const rows = [];
for (const sc of s) { const o = await runStepwise(sc, store, { baseURL: emu.url }); rows.push({ t: sc.template, model: sc.steps.filter((x) => x.needsModel).length, tokens: o.inputTokens + o.outputTokens, calls: o.modelCalls, http: o.httpRequests }); }
await emu.close();
rows.sort((a, b) => a.tokens - b.tokens);
console.log(profile, 'min', rows[0], 'max', rows[rows.length - 1]);
const noRetry = rows.filter((r) => r.calls === r.model && r.http === r.model);
console.log('without any retry: n', noRetry.length, 'min', noRetry[0], 'max', noRetry[noRetry.length - 1]);
const byModel = {}; for (const r of noRetry) (byModel[r.model] ??= []).push(r.tokens);
for (const [k, v] of Object.entries(byModel)) console.log('model steps', k, 'n', v.length, 'min', Math.min(...v), 'max', Math.max(...v));
