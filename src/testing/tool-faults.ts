/**
 * Tool-side fault injection for tests and the benchmark: wrappers that turn a
 * working tool into one whose external API fails, is slow, or is down for a
 * while. Time goes through a {@link Clock}, so a `ManualClock` makes them
 * instant and reproducible. Every wrapper keeps the tool's name, description
 * and input schema, and counts its calls.
 */
import type { Clock } from '../engine/clock.js';
import type { AnyTool, ToolContext } from '../tools/define.js';
import { seededRandom } from '../util/random.js';

/** A wrapped tool with a count of the calls it received (failed ones included). */
export type FaultyTool = AnyTool & { readonly calls: () => number };

/** The error a faulty tool throws; `retryable` is read by the step (default true). */
export class ToolFault extends Error {
  override name = 'ToolFault';
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
  }
}

function wrap(tool: AnyTool, run: (input: unknown, context: ToolContext, call: number) => Promise<unknown>): FaultyTool {
  let calls = 0;
  return {
    ...tool,
    run: (input: unknown, context: ToolContext) => run(input, context, ++calls),
    calls: () => calls,
  };
}

/**
 * A tool whose first `failures` calls throw, then works.
 *
 * @example
 * const vendor = failingTool(checkVendor, { failures: 2 }); // fails twice, then answers
 */
export function failingTool(tool: AnyTool, options: { failures: number; message?: string; retryable?: boolean }): FaultyTool {
  return wrap(tool, async (input, context, call) => {
    if (call <= options.failures) throw new ToolFault(options.message ?? `upstream error (call ${call} of ${options.failures} failing)`, options.retryable ?? true);
    return tool.run(input, context);
  });
}

/**
 * A tool that takes `ms` of the clock's time per call (an abort cuts it short).
 *
 * @example
 * const slow = slowTool(checkVendor, { ms: 5_000, clock }); // with ManualClock({ autoAdvance: true }): no real wait
 */
export function slowTool(tool: AnyTool, options: { ms: number; clock: Clock }): FaultyTool {
  return wrap(tool, async (input, context) => {
    await options.clock.sleep(options.ms, context.signal);
    if (context.signal.aborted) throw new ToolFault(`${tool.name} was aborted`);
    return tool.run(input, context);
  });
}

/**
 * A tool that is down (every call throws) from `from` until `until` on the
 * clock, ms since epoch, and works outside that window.
 *
 * @example
 * const down = downTool(checkVendor, { from: clock.now(), until: clock.now() + 60_000, clock });
 */
export function downTool(tool: AnyTool, options: { from: number; until: number; clock: Clock; message?: string }): FaultyTool {
  return wrap(tool, async (input, context) => {
    const now = options.clock.now();
    if (now >= options.from && now < options.until) {
      throw new ToolFault(options.message ?? `service unavailable until ${new Date(options.until).toISOString()}`);
    }
    return tool.run(input, context);
  });
}

/**
 * A tool whose calls fail at random with probability `rate`, reproducibly for
 * a seed (each call draws from the seed and its idempotency key).
 *
 * @example
 * const flaky = flakyTool(checkVendor, { rate: 0.1, seed: 7 });
 */
export function flakyTool(tool: AnyTool, options: { rate: number; seed?: number }): FaultyTool {
  return wrap(tool, async (input, context) => {
    const draw = seededRandom(`${options.seed ?? 1}:${tool.name}:${context.idempotencyKey}`)();
    if (draw < options.rate) throw new ToolFault(`transient upstream error (${tool.name})`);
    return tool.run(input, context);
  });
}
