import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { traceStep, traceToolCall } from '../../src/observe/tracing.js';

const usage = { inputTokens: 1, outputTokens: 2, usd: 0 };
const step = { runId: 'r1', stepId: 'pay', kind: 'tool', visit: 1, attempt: 1 };

afterAll(() => trace.disable());

describe('spans without a registered tracer provider', () => {
  it('are not started: the callback runs with a span that records nothing; a provider registered later gets every span', async () => {
    let seen: { recording: boolean; active: unknown } | null = null;
    const outcome = await traceStep(step, () =>
      traceToolCall('pay', {}, async (span) => {
        seen = { recording: span.isRecording(), active: trace.getActiveSpan() };
        return { ok: true, usage };
      }),
    );
    expect(outcome).toEqual({ ok: true, usage });
    expect(seen).toEqual({ recording: false, active: undefined });
    await expect(traceToolCall('pay', {}, () => { throw new Error('thrown before any await'); })).rejects.toThrow('thrown before any await');

    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    await traceStep(step, () => traceToolCall('pay', {}, async (span) => ({ ok: span.isRecording(), usage })));
    expect(exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(['execute_tool pay', 'stepwise.step pay']);
  });
});
