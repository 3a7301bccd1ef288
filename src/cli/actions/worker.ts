/**
 * `worker`: work runs from a shared store with leases until told to stop
 * (SIGTERM/SIGINT drain: steps in flight finish and commit, leases are
 * released).
 */
import { createEngine } from '../../engine/engine.js';
import type { RunOptions } from '../../run/types.js';
import { StepwiseError } from '../../errors.js';
import { parseDuration } from '../../util/duration.js';
import { log, withStore, type CommonOptions } from '../context.js';
import { serverOptions } from '../run-options.js';
import { parseIntArg } from '../io.js';
import { openModelServer, type ModelServer } from '../model-server.js';
import type { ModelOptions } from '../../model/client.js';
import { createProgress } from '../progress.js';
import { count } from '../../util/plural.js';
import { messageOf } from '../../util/error-message.js';

export interface WorkerFlags extends CommonOptions {
  concurrency?: string;
  exitWhenIdle?: boolean;
  lease?: string;
  poll?: string;
  rpm?: string;
  tpm?: string;
}

/** One built-in emulator per (seed, faults) the worker's runs were started with, started on first use. */
function emulatorsPerRun(worker: { seed: number | undefined; faults: string | undefined; timeout: string | undefined; maxRetries: number | undefined }) {
  const servers = new Map<string, Promise<ModelServer>>();
  return {
    async modelFor(run: RunOptions): Promise<ModelOptions | undefined> {
      const seed = worker.seed ?? run.seed ?? 1;
      const faults = worker.faults ?? run.faults;
      const key = JSON.stringify([seed, faults ?? null]);
      if (key === JSON.stringify([worker.seed ?? 1, worker.faults ?? null])) return undefined; // the worker's own server
      let server = servers.get(key);
      if (!server) {
        server = openModelServer({ seed, faults, timeout: worker.timeout, maxRetries: worker.maxRetries, emulator: true, log });
        servers.set(key, server);
      }
      return (await server).model;
    },
    async close(): Promise<void> {
      await Promise.all([...servers.values()].map(async (s) => (await s).close()));
    },
  };
}

export async function action(opts: WorkerFlags, setExit: (code: number) => void): Promise<void> {
  const concurrency = parseIntArg(opts.concurrency, '--concurrency') ?? 4;
  if (concurrency < 1) throw new StepwiseError('usage', '--concurrency must be at least 1');
  const leaseMs = parseDuration(opts.lease ?? '30s');
  const rpm = parseIntArg(opts.rpm, '--rpm');
  const tpm = parseIntArg(opts.tpm, '--tpm');
  await withStore(opts.store, async (store) => {
    const flags = serverOptions(opts);
    // A worker drives real runs: the emulator only when asked for.
    const server = await openModelServer({ ...flags, requireModel: 'stepwise worker', log });
    // Against the built-in emulator a run keeps the seed and fault spec it was started with, unless the worker names its own.
    const perRun = emulatorsPerRun(flags);
    const drain = new AbortController();
    const onSignal = (signal: string) => {
      if (drain.signal.aborted) return;
      log(`stepwise worker: ${signal}, draining (finishing steps in flight, releasing leases)`);
      drain.abort();
    };
    process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
    try {
      const engine = createEngine({
        store,
        model: server.model,
        ...(server.simulated ? { modelForRun: (run: RunOptions) => perRun.modelFor(run) } : {}),
        leaseMs,
        ...(rpm !== undefined || tpm !== undefined ? { rateLimit: { ...(rpm ? { requestsPerMinute: rpm } : {}), ...(tpm ? { tokensPerMinute: tpm } : {}) } } : {}),
      });
      log(`stepwise worker: working runs from the ${store.kind} store (concurrency ${concurrency}, lease ${leaseMs} ms)`);
      const progress = createProgress();
      const settled = new Map<string, number>();
      engine.subscribe((view) => {
        if (view.status !== 'running') {
          progress.line(`${view.runId} ${view.workflow} ${view.status}`);
          settled.set(view.status, (settled.get(view.status) ?? 0) + 1);
        }
        const totals = [...settled].map(([status, n]) => `${n} ${status}`).join(', ');
        progress.status(`working · last ${view.runId.slice(0, 8)} ${view.status} · ${totals || 'nothing settled yet'}`);
      });
      const summary = await engine.work({
        concurrency,
        leaseMs,
        pollMs: parseDuration(opts.poll ?? '250ms'),
        signal: drain.signal,
        ...(opts.exitWhenIdle ? { exitWhenIdle: true } : {}),
        // No run id: the claim itself failed (the store is down or full), not a run.
        onError: (runId, error) => log(`stepwise worker: ${runId ? `run ${runId}` : 'claiming runs'}: ${messageOf(error)}`),
      });
      progress.done();
      log(`stepwise worker ${summary.owner}: ${count(summary.claimed, 'claim')}, ${count(summary.errors, 'error')}${summary.lost ? `, ${count(summary.lost, 'run')} taken over mid-step` : ''}`);
      setExit(0);
    } finally {
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      await perRun.close();
      await server.close();
    }
  });
}
