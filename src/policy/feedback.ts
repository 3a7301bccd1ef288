/**
 * How much of a rejected attempt's error is fed back to the model on its
 * retry: the worst-case bound counts these caps, and the prompt builder cuts
 * the feedback to them.
 */

/** Characters of the invalid-input feedback (the validation errors) a retry's prompt holds at most. */
export const FEEDBACK_MAX_CHARS = 1000;

/** Characters of a tool error fed back on a retry at most (the tool-error feedback). */
export const TOOL_ERROR_FEEDBACK_CHARS = 1000;
