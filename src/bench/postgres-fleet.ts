/**
 * What the PostgreSQL arm's worker processes share with the arm that starts
 * them (./postgres.ts, ./postgres-process.ts): the message each process sends
 * back, the store wrapper that records claims, the
 * tools of the scenarios, and the CPU a server backend spent (read from
 * `/proc`, when the server runs on this machine).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Store } from '../store/types.js';
import type { AnyTool } from '../tools/define.js';
import { cachedTools } from './overhead.js';
import type { Scenario } from './scenarios.js';

/** What a process of the arm is told to do (a JSON file named on its command line). */
export type ProcessTask =
  | { readonly mode: 'work' | 'listen'; readonly url: string; readonly schema: string; readonly scenariosFile: string; readonly concurrency: number; readonly pollMs: number }
  | {
      readonly mode: 'raw';
      readonly url: string;
      readonly schema: string;
      readonly id: number;
      readonly count: number;
      /** `BEGIN; UPDATE; COMMIT` (three round trips) when false or absent; the `UPDATE` alone, its own transaction (one round trip, as a store commit is), when true. */
      readonly autocommit?: boolean;
    };

/** The last stdout line of a process of the arm. Times are epoch milliseconds with sub-millisecond precision ({@link epochMs}). */
export interface ProcessReport {
  readonly startedAt: number;
  readonly endedAt: number;
  /** CPU (user + system) of the process between `go` and the end, ms. */
  readonly cpuMs: number;
  /** CPU of the process's server backend over the same span, ms (clock-tick resolution); null when `/proc` does not show it. */
  readonly backendCpuMs: number | null;
  /** `work`: statements sent over the store's connection, by name (./postgres-meter.ts); `raw`: `{ transaction: count }`. */
  readonly calls: Record<string, number>;
  /** `work`: bytes the store's connection sent and received (the sockets' counts); `raw`: none. */
  readonly bytes?: { readonly sent: number; readonly received: number; readonly receivedBy?: Record<string, number> };
  /** Runs' first claims: [run id, epoch ms]. */
  readonly claimedAt: ReadonlyArray<readonly [string, number]>;
  readonly errors: number;
  /** A worker's CPU per step on the memory store, in the same process just before (its warm-up), ms. */
  readonly memoryCpuMsPerStep?: number;
  /** CPU of the process's threads over the same span as `cpuMs` ({@link threadCpuMeter}); null when `/proc` does not show them. */
  readonly threadCpuMs?: ThreadCpu | null;
}

/**
 * A process's CPU by thread, ms: its main thread (JavaScript, and whatever of the garbage collector and the
 * compiler runs there) and the others (V8's background compiler and garbage collector helpers, libuv's pool).
 */
export interface ThreadCpu {
  readonly main: number;
  readonly others: number;
}

/** Epoch milliseconds with sub-millisecond precision: comparable across processes on one machine. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** Records when each run was first claimed (statements and bytes are counted at the connection, ./postgres-meter.ts). */
export function recordingClaims(store: Store, claimedAt: Map<string, number>): Store {
  return {
    ...store,
    async claim(options) {
      const runs = await store.claim(options);
      const at = epochMs();
      for (const run of runs) if (!claimedAt.has(run.id)) claimedAt.set(run.id, at);
      return runs;
    },
  };
}

/** One tool per name for the workers (runs read from the store bring no tools): the results are fixed, as in the other overhead arms. */
export function toolsOf(scenarios: readonly Scenario[]): AnyTool[] {
  const byName = new Map<string, AnyTool>();
  for (const s of scenarios) for (const tool of cachedTools(s)) if (!byName.has(tool.name)) byName.set(tool.name, tool);
  return [...byName.values()];
}

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) so far of the process or thread whose `/proc` stat file is `path`, in ms; null when there is none. */
function statCpuMs(path: string): number | null {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) of a local process so far, in ms; null when `/proc` does not have it. */
const processCpuMs = (pid: number): number | null => statCpuMs(`/proc/${pid}/stat`);

/** This process's CPU so far by thread id, ms; null when `/proc` does not show its threads. */
function threadsCpuMs(): Map<number, number> | null {
  try {
    const byThread = new Map<number, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      const ms = statCpuMs(`/proc/self/task/${tid}/stat`);
      if (ms !== null) byThread.set(Number(tid), ms);
    }
    return byThread;
  } catch {
    return null;
  }
}

/**
 * A meter of this process's CPU by thread from now on (a thread started meanwhile counts from zero); the main
 * thread's id is the process id.
 * @example
 * const meter = threadCpuMeter(); // … work …
 * meter.spentMs(); // e.g. { main: 310, others: 420 }
 */
export function threadCpuMeter(): { spentMs(): ThreadCpu | null } {
  const start = threadsCpuMs();
  return {
    spentMs() {
      const now = threadsCpuMs();
      if (start === null || now === null) return null;
      let main = 0;
      let others = 0;
      for (const [tid, ms] of now) {
        const spent = ms - (start.get(tid) ?? 0);
        if (tid === process.pid) main += spent;
        else others += spent;
      }
      return { main, others };
    },
  };
}

/**
 * A meter of the CPU the server backends of the connections named `applicationName` spend (the store's pool and
 * its LISTEN connection alike), when the server runs on this machine; `client` only looks them up.
 * @example
 * const meter = await backendMeter(client, 'stepwise-bench-w-123'); // … work …
 * meter.spentMs(); // e.g. 420, or null for a remote server
 */
export async function backendMeter(client: pg.Client, applicationName: string): Promise<{ spentMs(): number | null }> {
  const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  const pids = rows.map((r) => r.pid);
  const total = (): number | null => {
    let sum = 0;
    for (const pid of pids) {
      const ms = processCpuMs(pid);
      if (ms === null) return null;
      sum += ms;
    }
    return pids.length > 0 ? sum : null;
  };
  const start = total();
  return {
    spentMs() {
      const now = total();
      return start === null || now === null ? null : now - start;
    },
  };
}

/** `url` with `application_name` set, so the backends serving it can be found. */
export function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

/** A client of its own on `url` for `use`, ended afterwards. */
export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Drops a bench schema and everything in it (none is fine). */
export function dropSchema(url: string, schema: string): Promise<unknown> {
  return withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}
