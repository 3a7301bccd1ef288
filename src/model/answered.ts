/**
 * Whether the model server answered a request with a success status, for the
 * requests whose body then never arrived whole (cut mid-body, stalled past the
 * deadline, not JSON): the server made a reply and bills it, so the call is
 * charged as one whose reply lacks usage is, not as one that never reached it.
 * The SDK's fetch runs inside the async context of the `messages.create` call,
 * so a mark set around that call is what the fetch below sees.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Set once a success status arrived for the request made under it. */
export interface AnswerMark {
  answered: boolean;
}

const marks = new AsyncLocalStorage<AnswerMark>();

/**
 * `work` (the SDK call) with `mark` set for the fetches it makes.
 * @example
 * const mark = { answered: false };
 * await underMark(mark, () => client.messages.create(params)).catch(() => mark.answered); // true: a 200 came, its body did not
 */
export function underMark<T>(mark: AnswerMark, work: () => T): T {
  return marks.run(mark, work);
}

/** The fetch the SDK client is given: the global one, marking a success status for the request under a mark. */
export function markingFetch(base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.ok) {
      const mark = marks.getStore();
      if (mark) mark.answered = true;
    }
    return response;
  };
}
