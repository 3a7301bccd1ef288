/**
 * A run's actor to and from its stored snapshot, with the context kept as the
 * data it is. XState's own `getPersistedSnapshot` walks the whole context for
 * actor references and replaces any object holding `sessionId`, `send` and
 * `ref` with a placeholder, and restoring replaces any object holding
 * `xstate$$type: 1` with a child actor: a tool output of either shape was
 * silently destroyed. Stepwise machines spawn no actors, so the context is
 * stored as it is (no walk per commit) and restored with such objects put back.
 */
import { createActor, type Actor, type AnyActorLogic, type AnyMachineSnapshot, type ActorOptions } from 'xstate';

/** XState's marker of a persisted actor reference (`$$ACTOR_TYPE`). */
const ACTOR_TYPE = 1;

/**
 * The persisted form of `snapshot`: what `getPersistedSnapshot()` gives, with
 * the context untouched. A snapshot with child actors or history (which
 * Stepwise machines never have) goes through XState's own.
 */
export function persistedSnapshot(actor: { getSnapshot(): unknown }): unknown {
  const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
  if (Object.keys(snapshot.children).length > 0 || Object.keys(snapshot.historyValue ?? {}).length > 0) return snapshot.machine.getPersistedSnapshot(snapshot);
  // The snapshot's own fields but those (a loop: object rest with this many names is far slower in V8), in their order.
  const json: Record<string, unknown> = {};
  const fields = snapshot as AnyMachineSnapshot & Record<string, unknown>;
  for (const key in fields) if (!notPersisted.has(key)) json[key] = key === 'historyValue' ? {} : fields[key];
  json['context'] = snapshot.context;
  json['children'] = {};
  json['historyValue'] = {};
  return json;
}

/** The fields of a machine snapshot that are not data, and those written separately (`context`, `children`). */
const notPersisted: ReadonlySet<string> = new Set(['_nodes', 'tags', 'machine', 'children', 'context', 'can', 'hasTag', 'matches', 'getMeta', 'toJSON']);

interface Marked {
  readonly holder: Record<string, unknown>;
  readonly key: string;
  readonly value: unknown;
}

/** The objects of `context` XState would take for persisted actor references, with where they sit. */
function markedObjects(context: unknown): Marked[] {
  const found: Marked[] = [];
  const seen = new Set<object>();
  const stack: unknown[] = [context];
  while (stack.length > 0) {
    const part = stack.pop();
    if (!part || typeof part !== 'object' || seen.has(part)) continue;
    seen.add(part);
    const holder = part as Record<string, unknown>;
    for (const key in holder) {
      const value = holder[key];
      if (!value || typeof value !== 'object') continue;
      if ('xstate$$type' in value && (value as { xstate$$type: unknown }).xstate$$type === ACTOR_TYPE) found.push({ holder, key, value });
      else stack.push(value);
    }
  }
  return found;
}

/** What `restore` makes of a stored snapshot, with the context objects that look like persisted actor references put back. */
export function restoreMarked<T>(snapshot: unknown, restore: (snapshot: unknown) => T): T {
  const marked = markedObjects((snapshot as { context?: unknown } | null)?.context);
  const restored = restore(snapshot);
  for (const { holder, key, value } of marked) holder[key] = value;
  return restored;
}

/** Restores an actor of `logic` from a stored snapshot, keeping context objects that look like persisted actor references. */
export function restoreActor<TLogic extends AnyActorLogic>(logic: TLogic, snapshot: unknown, options: Omit<ActorOptions<TLogic>, 'snapshot'> = {}): Actor<TLogic> {
  return restoreMarked(snapshot, (s) => createActor(logic, { ...options, snapshot: s } as ActorOptions<TLogic>));
}
