/** One executor per work step kind. */
import type { StepKind } from '../definition/schema.js';
import { analyzeStep } from './analyze.js';
import { claudeStep } from './claude.js';
import { toolStep } from './tool.js';
import type { StepExecutor } from './types.js';

export const executors: Partial<Record<StepKind, StepExecutor>> = {
  claude: claudeStep,
  analyze: analyzeStep,
  tool: toolStep,
};

export type { StepEnv, StepExecutor, StepOutcome, PreparedStep } from './types.js';
