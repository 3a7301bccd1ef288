import { generateScenarios } from '/work/wt/bench14/src/bench/scenarios.ts';
import { parkedRunsMemory } from '/work/wt/bench14/src/bench/memory.ts';
const s = generateScenarios(1, 10).find((x) => x.steps.length === 5)!;
console.time('sqlite'); console.log(await parkedRunsMemory(s, Number(process.argv[2]), 'sqlite')); console.timeEnd('sqlite');
