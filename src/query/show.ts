/** Everything `show` prints about one run: the object of `show --json`. */
import { runView } from '../engine/waiting-view.js';
import { buildTimeline, type Timeline } from '../observe/timeline.js';
import type { JournalEntry, ParentLink, RunRecord } from '../run/types.js';
import type { RunReader } from './reader.js';
import { cacheByStep, type StepCache } from './cache.js';
import { findRun, iso, runJson, type RunJson } from './run.js';
import { waitingOn, type WaitingOn } from './waiting-on.js';

export interface RunDetail extends RunJson {
  /** The definition the run started with: its content hash and the file it came from. */
  readonly definition: { readonly version: string; readonly source: string | null };
  readonly timeline: Timeline;
  /** Prompt-cache figures and hit rate of each step that called the model. */
  readonly cache: StepCache[];
  /** The journal, each entry with `atIso` beside its `at`. */
  readonly journal: Array<JournalEntry & { readonly atIso: string }>;
  /** The child runs it started (`workflow` and `map` steps), oldest first. */
  readonly children: ChildSummary[];
  /** For a child run: the run and step that started it. */
  readonly parent: ParentLink | null;
  /** The child runs this run waits on (at a `wait` of theirs), with the events each accepts; empty when it waits on none. */
  readonly waitingOn: WaitingOn[];
}

/** One child run as `show` lists it. */
export interface ChildSummary {
  readonly id: string;
  readonly workflow: string;
  readonly status: RunRecord['status'];
  /** The parent's step that started it. */
  readonly step: string;
  /** A map item's index. */
  readonly index?: number;
}

/** The run object plus its definition, timeline and journal, by id or id prefix (see `findRun`); throws `RunNotFoundError` when the run does not exist. */
export async function showRun(reader: RunReader, runId: string): Promise<RunDetail> {
  const record = await findRun(reader, runId);
  const journal = await reader.journal(record.id);
  const children = (await reader.list({ parentId: record.id })).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  return {
    ...runJson(await runView(reader, record)),
    definition: { version: record.version, source: record.definition.source },
    timeline: buildTimeline(journal, record.failure),
    cache: cacheByStep(journal),
    journal: journal.map((entry) => ({ ...entry, atIso: iso(entry.at) })),
    children: children.map((c) => ({
      id: c.id,
      workflow: c.workflow,
      status: c.status,
      step: c.options.parent?.step ?? '',
      ...(c.options.parent?.index !== undefined ? { index: c.options.parent.index } : {}),
    })),
    parent: record.options.parent ?? null,
    waitingOn: await waitingOn(reader, record, children),
  };
}
