/** What one arm reports for one scenario. */
export interface ScenarioOutcome {
  readonly scenario: string;
  readonly steps: number;
  readonly completed: boolean;
  /** Why it did not complete: a failure kind or a completion-check kind. */
  readonly failure: string | null;
  /** For arms that can stop and be resumed: could this failure be resumed? */
  readonly resumable: boolean | null;
  /** Every input token the requests carried, prompt-cache writes and reads included (src/bench/arms/sent-tokens.ts). */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Successful model replies. */
  readonly modelCalls: number;
  /** HTTP requests to /v1/messages, retries included. */
  readonly httpRequests: number;
}
