/**
 * The query layer: pure reads over a store (or `engine.store`) returning the
 * objects the CLI prints with `--json` — a run, a run's detail, its journal
 * and timeline, lists of runs, stats. The CLI and an HTTP server both call
 * these; neither reads the store itself.
 */
export type { RunReader } from './reader.js';
export { MIN_RUN_ID_PREFIX, findRun, getRun, runJson, type RunJson } from './run.js';
export { checkStatuses, listRuns, runSummaries, type RunListRow, type RunSummary } from './list.js';
export { runJournal } from './journal.js';
export { runTimeline } from './timeline.js';
export { showRun, type RunDetail } from './show.js';
export { cacheByStep, renderCache, type StepCache } from './cache.js';
export { runStats } from './stats.js';
export { inbox, inboxEntries, type InboxEntry, type InboxFilter } from './inbox.js';
