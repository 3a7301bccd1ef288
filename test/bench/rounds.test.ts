/**
 * Interleaved measurement (src/bench/rounds.ts): the order the arms run in, the
 * pass numbers they are given, closing them whatever happens, and the paired
 * ratios' arithmetic, and an arm run in a process of its own (the built
 * dist/bench/arm-process.js). No timing: the figures of the ratio tests are given.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnArm } from '../../src/bench/remote-arm.js';
import { generateScenarios } from '../../src/bench/scenarios.js';
import { SPAWN_BUDGET_MS } from '../budgets.js';
import { bestPass, median, pairedCpu, pairedSpeed, rounds, WARM_UP_ROUNDS, type MeasuredArm, type PassFigure } from '../../src/bench/rounds.js';

function recorder(log: string[], name: string, steps = 10, fail?: number): MeasuredArm & { closed: number } {
  const arm = {
    closed: 0,
    pass: async (pass: number) => {
      log.push(`${name}${pass}`);
      if (pass === fail) throw new Error(`${name} broke`);
      return steps;
    },
    close: () => {
      arm.closed++;
    },
  };
  return arm;
}

describe('rounds', () => {
  it('warms every arm up, then rotates which arm runs first each round, and returns each arm its passes in round order', async () => {
    const log: string[] = [];
    const arms = { a: recorder(log, 'a', 3), b: recorder(log, 'b', 5), c: recorder(log, 'c', 7) };
    const figures = await rounds(arms, 4);
    expect(WARM_UP_ROUNDS).toBe(3);
    expect(log).toEqual([
      ...['a-1', 'b-1', 'c-1', 'a-2', 'b-2', 'c-2', 'a-3', 'b-3', 'c-3'],
      ...['a0', 'b0', 'c0', 'b1', 'c1', 'a1', 'c2', 'a2', 'b2', 'a3', 'b3', 'c3'],
    ]);
    expect(figures.a.map((f) => f.steps)).toEqual([3, 3, 3, 3]);
    expect(figures.c.map((f) => f.steps)).toEqual([7, 7, 7, 7]);
    for (const f of [...figures.a, ...figures.b]) {
      expect(f.ms).toBeGreaterThanOrEqual(0);
      expect(f.cpuMs).toBeGreaterThanOrEqual(0);
    }
    expect([arms.a.closed, arms.b.closed, arms.c.closed]).toEqual([1, 1, 1]);
  });

  it('warms up no more rounds than it times', async () => {
    const log: string[] = [];
    await rounds({ a: recorder(log, 'a') }, 1);
    expect(log).toEqual(['a-1', 'a0']);
  });

  it('closes every arm when a pass throws, and the error reaches the caller', async () => {
    const log: string[] = [];
    const arms = { a: recorder(log, 'a'), b: recorder(log, 'b', 10, 1) };
    await expect(rounds(arms, 3)).rejects.toThrow('b broke');
    expect([arms.a.closed, arms.b.closed]).toEqual([1, 1]);
    expect(log).not.toContain('a2');
  });
});

const pass = (steps: number, ms: number, cpuMs: number): PassFigure => ({ steps, ms, cpuMs });

describe('paired ratios', () => {
  it('are the median of the rounds\' ratios, not the ratio of the best passes', () => {
    // Round by round a is half as fast as b; b's best pass (round 2) met a quiet moment that a's round 2 also met.
    const a = [pass(100, 200, 150), pass(100, 100, 90), pass(100, 400, 160)];
    const b = [pass(100, 100, 70), pass(100, 50, 45), pass(100, 200, 80)];
    expect(pairedSpeed(a, b)).toEqual({ median: 0.5, rounds: [0.5, 0.5, 0.5] });
    expect(pairedCpu(a, b)).toEqual({ median: 2, rounds: [2.143, 2, 2] });
    // The best passes alone, measured at different moments, would say something else: a's best against b's worst.
    expect(bestPass(a).steps / bestPass(a).ms / (b[2]!.steps / b[2]!.ms)).toBe(2);
  });

  it('refuse passes from different rounds', () => {
    expect(() => pairedSpeed([pass(1, 1, 1)], [])).toThrow('paired ratio of 1 and 0 passes');
  });
});

describe('bestPass and median', () => {
  it('takes the fastest pass and the least CPU per step of any pass', () => {
    const best = bestPass([pass(100, 300, 120), pass(100, 200, 150), pass(50, 200, 40)]);
    expect(best).toEqual({ steps: 100, ms: 200, cpuMs: 80 });
    expect(() => bestPass([])).toThrow('no timed passes');
  });

  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });
});

describe('an arm in a process of its own', () => {
  it('runs its passes there and reports the figures it measured; a broken task fails with its error', { timeout: SPAWN_BUDGET_MS }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rounds-arm-'));
    try {
      const scenarios = generateScenarios(1, 4);
      const scenariosFile = join(dir, 'scenarios.json');
      writeFileSync(scenariosFile, JSON.stringify(scenarios));
      const task = join(dir, 'limit.json');
      writeFileSync(task, JSON.stringify({ engine: 'limit', synchronous: 'NORMAL', inFlight: 1, scenariosFile }));
      const arm = await spawnArm(task);
      const figures = await rounds({ limit: arm, local: recorder([], 'local', 1) }, 2);
      const steps = scenarios.reduce((sum, s) => sum + s.steps.length, 0);
      expect(figures.limit.map((f) => f.steps)).toEqual([steps, steps]);
      for (const f of figures.limit) expect(f.cpuMs).toBeGreaterThan(0);

      const broken = join(dir, 'broken.json');
      writeFileSync(broken, JSON.stringify({ engine: 'nothing', inFlight: 1, scenariosFile }));
      await expect(spawnArm(broken)).rejects.toThrow('no overhead arm for engine "nothing"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
