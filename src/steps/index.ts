/** The executors of the work kinds (each kind in src/kinds names its own). */
export { analyzeStep } from './analyze.js';
export { claudeStep } from './claude.js';
export { toolStep } from './tool.js';
export type { StepEnv, StepExecutor, StepOutcome, PreparedStep } from './types.js';
