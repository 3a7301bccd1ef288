/** `bench`: the stateless-vs-Stepwise head-to-head, engine overhead and memory, in one run; CLI start-up, the HTTP API and composition on their own. */
import type { Command } from 'commander';
import type { BenchFlags } from '../actions/bench.js';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark: SDK tool runner vs Stepwise on the emulator, engine overhead vs LangGraph.js and the raw limit')
    .option('--scenarios <n>', 'generated workflows', '200')
    .option('--profile <name>', 'emulator fault profile or spec (none, flaky, hostile, name=value,…)', 'flaky')
    .option('--seed <n>', 'seed of the scenarios and the emulator', '1')
    .option('--passes <n>', 'timed passes over the scenarios per overhead measurement (the best one counts; as many untimed warm-up passes first, at most 3)', '5')
    .option('--parked <n>', 'runs parked at a wait step for the memory measure (0 skips it)', '10000')
    .option('--concurrency <n>', 'scenarios run at once in the model arms', '4')
    .option('--out <dir>', 'where latest.json and latest.svg go', 'bench/results')
    .option('--no-langgraph', 'skip the LangGraph.js overhead arm')
    .option('--startup', 'only measure CLI start-up (median process time per command), into latest.json under "startup"')
    .option('--runs <n>', 'processes per command of --startup (the median counts)', '7')
    .option('--server', 'only measure the HTTP API in-process (requests/s, runs started/s, event-to-SSE latency), into latest.json under "server"')
    .option('--clients <n>', 'concurrent clients of --server', '50')
    .option('--ablation', 'only run the all-claude arm in variants, the effect of each issue-16 item, into latest.json under "ablation"')
    .option('--ablation-scenarios <n>', 'scenarios of the ablation (0 skips it in a full run)', '40')
    .option('--composition', 'only measure composition: map wall time against sequential items, CPU per map item, prompt caching across a map, into latest.json under "composition"')
    .option('--tokens', 'only run the model arms (stateless, Stepwise, all-claude) on --scenarios, --profile and --seed: the token head-to-head, its targets and the cheapest and dearest 5-step workflows, into latest.json under "tokens"')
    .option('--postgres', 'only run the PostgreSQL arm (1, 2 and 4 worker processes against raw transactions from as many processes), into latest.json under "postgres", its targets replaced')
    .option('--json', 'print the result as JSON on the last stdout line')
    .action(async (opts: BenchFlags) => (await import('../actions/bench.js')).action(opts));
}
