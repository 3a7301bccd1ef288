/**
 * A `fetch` for the Anthropic client that counts what an arm sends: HTTP
 * requests to `/v1/messages` (retries included) and the successful replies.
 */
export interface CallCounter {
  requests: number;
  replies: number;
}

export function countingFetch(counter: CallCounter): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const isMessages = new URL(url).pathname.replace(/\/+$/, '') === '/v1/messages';
    if (isMessages) counter.requests++;
    const response = await fetch(input, init);
    if (isMessages && response.ok) counter.replies++;
    return response;
  };
}
