/**
 * The message of anything thrown. Code the engine runs (tools, tool modules, hooks) may throw what is not an
 * Error, and reading it may throw again: `String()` throws for some values (an object whose `toString` is not a
 * function, an object with no prototype), an Error's `message` may be a getter that throws or not a string, a
 * Proxy's every trap may throw. Such a value is described by its JSON text, else by its tag, else by what was
 * thrown while reading it; never by a second exception.
 *
 * @example
 * messageOf(new Error('boom')); // 'boom'
 * messageOf({ toString: 5, weird: true }); // '{"toString":5,"weird":true}'
 */
export function messageOf(error: unknown): string {
  try {
    return describe(error);
  } catch (inner) {
    try {
      return `a thrown value that could not be read: ${describe(inner)}`;
    } catch {
      return 'a thrown value that could not be read';
    }
  }
}

/** The message of `error`; may throw when reading it throws. */
function describe(error: unknown): string {
  if (isErrorLike(error)) {
    const message: unknown = error.message;
    if (typeof message === 'string') return message;
    // A message that is not a string (an object a library put there): its JSON text says more than `[object Object]`.
    const json = jsonOf(message);
    if (json !== null) return json;
  }
  try {
    return String(error);
  } catch {
    return jsonOf(error) ?? Object.prototype.toString.call(error);
  }
}

/**
 * An Error, or a plain object thrown in its place that carries a string `message` (`throw { message, retryable }`,
 * as some libraries and hand-written tools do). Reading `message` may throw: the caller is guarded.
 */
export function isErrorLike(error: unknown): error is { readonly message: unknown } {
  if (error instanceof Error) return true;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

function jsonOf(value: unknown): string | null {
  try {
    const json = JSON.stringify(value);
    return typeof json === 'string' ? json : null;
  } catch {
    return null;
  }
}

/** How many causes {@link causesOf} reads down an error's chain. */
const MAX_CAUSES = 4;

/**
 * What an error's `cause` chain says, below the error itself: each cause's message, with its `code` when the message
 * does not hold it, joined by ": "; '' when there is none. A library's generic error (the SDK's "Connection error.",
 * undici's "terminated") keeps the reason there (`connect ECONNREFUSED …`, `other side closed`). Never throws.
 *
 * @example
 * causesOf(new Error('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }));
 * // 'other side closed (UND_ERR_SOCKET)'
 */
export function causesOf(error: unknown): string {
  const parts: string[] = [];
  try {
    let cause = causeOf(error);
    for (let depth = 0; cause !== undefined && cause !== null && depth < MAX_CAUSES; depth++) {
      const message = messageOf(cause);
      const code = typeof cause === 'object' ? (cause as { code?: unknown }).code : undefined;
      parts.push(typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
      cause = causeOf(cause);
    }
  } catch {
    // A cause that throws when read ends the chain.
  }
  return parts.join(': ');
}

function causeOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { cause?: unknown }).cause : undefined;
}
