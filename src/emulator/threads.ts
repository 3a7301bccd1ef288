/**
 * Server-side message threads, as the SDK's tool runner uses them by default:
 * a turn sent with `thread: {type: 'create'}` is remembered; a later turn with
 * `thread: {type: 'continue', previous_message_id}` carries only its new
 * messages, and the emulator rebuilds the whole conversation from memory.
 * Threads live in memory only, oldest forgotten first.
 */
import { isObject } from './json-schema.js';

type Body = Record<string, unknown>;

/** A body with its thread resolved to the full conversation, or an error message. */
export type Resolved = { ok: true; body: Body; threaded: boolean } | { ok: false; message: string };

/** Remembers threaded conversations by the id of their latest reply. */
export class ThreadStore {
  private readonly turns = new Map<string, Body>();

  constructor(private readonly capacity = 20_000) {}

  /**
   * The full request a (possibly threaded) body stands for, without `thread`.
   * @example
   * const resolved = threads.resolve(JSON.parse(text));
   */
  resolve(body: unknown): Resolved {
    if (!isObject(body) || body['thread'] === undefined || body['thread'] === null) return { ok: true, body: body as Body, threaded: false };
    const { thread, ...rest } = body;
    if (!isObject(thread)) return { ok: false, message: 'thread: Input should be an object' };
    if (thread['type'] === 'create') return { ok: true, body: rest, threaded: true };
    if (thread['type'] !== 'continue') return { ok: false, message: 'thread.type: Input should be "create" or "continue"' };
    const previousId = thread['previous_message_id'];
    const previous = typeof previousId === 'string' ? this.turns.get(previousId) : undefined;
    if (!previous) {
      return { ok: false, message: `thread.previous_message_id: no message "${String(previousId)}" to continue (the emulator keeps threads in memory only)` };
    }
    const newMessages = Array.isArray(rest['messages']) ? rest['messages'] : [];
    const history = Array.isArray(previous['messages']) ? previous['messages'] : [];
    return { ok: true, body: { ...previous, ...rest, messages: [...history, ...newMessages] }, threaded: true };
  }

  /** Remembers a threaded turn: its full request plus the reply, keyed by the reply id. */
  record(replyId: string, body: Body, reply: readonly unknown[]): void {
    const history = Array.isArray(body['messages']) ? body['messages'] : [];
    this.turns.set(replyId, { ...body, messages: [...history, { role: 'assistant', content: reply }] });
    if (this.turns.size > this.capacity) {
      const oldest = this.turns.keys().next();
      if (!oldest.done) this.turns.delete(oldest.value);
    }
  }
}
