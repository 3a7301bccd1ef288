/**
 * The longest delay `setTimeout` takes (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms. Whatever
 * arms a timer (the system clock's sleep, a model call's deadline) caps its delay here.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
