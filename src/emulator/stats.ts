/**
 * Counters of what the emulator answered: outcomes, faults, stop reasons and
 * the tokens it charged.
 */

/** A snapshot of the emulator's counters. */
export interface EmulatorStats {
  /** Every HTTP request received. */
  readonly requests: number;
  /** `POST /v1/messages` requests. */
  readonly messages: number;
  /** `POST /v1/messages/count_tokens` requests. */
  readonly countTokens: number;
  /** One outcome per request: `ok`, `invalid_request`, `not_found`, or the HTTP fault that answered. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Every fault that shaped an answer, HTTP or content. */
  readonly faults: Readonly<Record<string, number>>;
  /** Stop reasons of successful replies. */
  readonly stopReasons: Readonly<Record<string, number>>;
  /** Tokens charged on successful `/v1/messages` replies. */
  readonly inputTokens: number;
  readonly outputTokens: number;
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** The mutable counters behind {@link EmulatorStats}; one per emulator. */
export class StatsRecorder {
  private requests = 0;
  private messages = 0;
  private countTokens = 0;
  private readonly outcomes: Record<string, number> = {};
  private readonly faults: Record<string, number> = {};
  private readonly stopReasons: Record<string, number> = {};
  private inputTokens = 0;
  private outputTokens = 0;

  request(route: 'messages' | 'count_tokens' | 'other'): void {
    this.requests++;
    if (route === 'messages') this.messages++;
    if (route === 'count_tokens') this.countTokens++;
  }

  outcome(name: string): void {
    bump(this.outcomes, name);
  }

  fault(name: string): void {
    bump(this.faults, name);
  }

  reply(stopReason: string, inputTokens: number, outputTokens: number): void {
    bump(this.stopReasons, stopReason);
    this.inputTokens += inputTokens;
    this.outputTokens += outputTokens;
  }

  snapshot(): EmulatorStats {
    return {
      requests: this.requests,
      messages: this.messages,
      countTokens: this.countTokens,
      outcomes: { ...this.outcomes },
      faults: { ...this.faults },
      stopReasons: { ...this.stopReasons },
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
    };
  }
}
