/**
 * status: the replicator's state as one JSON document (schema version 1, docs/health.md) —
 * per database its position, per replica its position, lag, last sync and last error —
 * with the health verdict: healthy while every replica is within `health.max-lag`. Served
 * as `/status` and `/healthz` (the control socket, `addr`), printed by `lifeboat status`.
 */
import type { LagPoint } from './lag-history.js';
import { comparePos, type Pos } from './pos.js';
import type { DbRunner } from './replicator.js';

/** STATUS_VERSION is the schema version of StatusDoc (`version`). */
export const STATUS_VERSION = 1;

/** ReplicatorState is what answered, or why nothing did: `running` (the replicator), else as the init or `status` saw it. */
export type ReplicatorState = 'running' | 'starting' | 'down' | 'crash-loop' | 'not-running';

/** PosJSON is a position: generation, WAL index and byte offset (numbers; `lifeboat status` prints them in hex). */
export interface PosJSON {
  generation: string;
  index: number;
  offset: number;
}

/** ReplicaStatus is one replica of one database. */
export interface ReplicaStatus {
  name: string;
  /** position is what the replica holds (restorable), null when not known. */
  position: PosJSON | null;
  /** lag_ms is the replica's lag (docs/health.md); null when not known (read from the replica, no replicator running). */
  lag_ms: number | null;
  /** caught_up: the replica holds the database's position. */
  caught_up: boolean;
  /** last_sync is when an upload last left the replica caught up (RFC 3339), or the newest file's time on the replica. */
  last_sync: string | null;
  last_error: string | null;
  last_error_at: string | null;
  /** failing: the last upload attempt failed (retries go on). */
  failing: boolean;
  sync_errors: number;
  /** lag_history is the lag over the last hour, `[unix_ms, lag_ms]` oldest first, the last point now (only asked with `?history=1`). */
  lag_history?: LagPoint[];
}

/** DbStatus is one database. */
export interface DbStatus {
  path: string;
  /** state: `open` (replicating), `waiting` (no database file yet), `closed`, or `unknown` (no replicator answered). */
  state: 'open' | 'waiting' | 'closed' | 'unknown';
  /** position is the database's position in its shadow WAL, null when not known. */
  position: PosJSON | null;
  replicas: ReplicaStatus[];
}

/** ServiceStatus is one service the init supervises (the init's document only). */
export interface ServiceStatus {
  name: string;
  /** state is its phase: down, starting, up, stopping, finishing, backoff, failed or stopped (service-table.ts). */
  state: string;
  /** pid is its running process, null when none runs. */
  pid: number | null;
  /** uptime_ms is the time since its current run started, null when none runs. */
  uptime_ms: number | null;
  /** restarts counts its restarts after an exit since the init started. */
  restarts: number;
  /** last_exit is how its last run ended (`code 1`, `signal SIGKILL`), null before any ended. */
  last_exit: string | null;
  /** unhealthy: it is in a crash loop. */
  unhealthy: boolean;
}

/** StatusDoc is the whole document. */
export interface StatusDoc {
  version: typeof STATUS_VERSION;
  /** source: `replicator` (a running replicator answered) or `replica` (read from the replicas: none answered). */
  source: 'replicator' | 'replica';
  replicator: ReplicatorState;
  /** pid is the answering replicator's process id. */
  pid?: number;
  time: string;
  /** uptime_ms is how long the process serving the document has run (the init under `lifeboat init`). */
  uptime_ms?: number;
  healthy: boolean;
  max_lag_ms: number;
  /** problems says why it is unhealthy, one line each (empty when healthy). */
  problems: string[];
  databases: DbStatus[];
  /** services are the init's services, the replicator first (the init's document only). */
  services?: ServiceStatus[];
  /** recent_log is the last lines the serving process logged, oldest first (only asked with `?history=1`). */
  recent_log?: string[];
}

/** emptyReplica is a replica of which nothing is known. */
export function emptyReplica(name: string): ReplicaStatus {
  return { name, position: null, lag_ms: null, caught_up: false, last_sync: null, last_error: null, last_error_at: null, failing: false, sync_errors: 0 };
}

/** posJSON copies a position (undefined → null). */
export function posJSON(p: Pos | undefined): PosJSON | null {
  return p ? { generation: p.generation, index: p.index, offset: p.offset } : null;
}

/** isoTime renders ms since the epoch as RFC 3339 (undefined → null). */
function isoTime(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * buildStatus is the running replicator's document at `now`, judged against `maxLag` (ms);
 * with `history`, each replica's lag over the last hour too.
 */
export function buildStatus(runners: readonly DbRunner[], maxLag: number, now = Date.now(), history = false): StatusDoc {
  const databases = runners.map((runner): DbStatus => {
    const at = runner.db.pos();
    return {
      path: runner.db.path,
      state: runner.db.state,
      position: posJSON(at),
      replicas: runner.replicas.map((r): ReplicaStatus => {
        const held = runner.heldBy(r);
        const lag = runner.db.state === 'open' ? runner.lag(r, now) : 0;
        return {
          name: r.name,
          position: posJSON(held),
          lag_ms: lag,
          caught_up: at !== undefined && held !== undefined && held.generation === at.generation && comparePos(held, at) >= 0,
          last_sync: isoTime(r.stats.caughtUpAt),
          last_error: r.stats.lastError?.message ?? null,
          last_error_at: isoTime(r.stats.lastError?.at),
          failing: r.stats.failing,
          sync_errors: r.stats.syncErrors,
          ...(history ? { lag_history: runner.lagHistory(r).history(now, lag) } : {}),
        };
      }),
    };
  });
  const time = new Date(now).toISOString();
  const uptime = Math.round(process.uptime() * 1000);
  return judge({ version: STATUS_VERSION, source: 'replicator', replicator: 'running', pid: process.pid, time, uptime_ms: uptime, max_lag_ms: maxLag, databases });
}

/** wantsHistory: the request asks for the lag history and the last log lines (`/status?history=1`). */
export function wantsHistory(query: URLSearchParams): boolean {
  return query.get('history') === '1';
}

/** Unjudged is a document before its verdict. */
export type Unjudged = Omit<StatusDoc, 'healthy' | 'problems'> & { problems?: string[] };

/**
 * judge adds the verdict: each replica whose lag exceeds `max_lag_ms` is a problem (naming
 * the database, the replica, its lag and its last error), after any `problems` given (the
 * replicator down, in a crash loop, not answering). Healthy when there are none. Pure.
 */
export function judge(doc: Unjudged): StatusDoc {
  const problems = [...(doc.problems ?? [])];
  for (const db of doc.databases) {
    for (const r of db.replicas) {
      if (r.lag_ms === null || r.lag_ms <= doc.max_lag_ms) continue;
      const error = r.last_error && r.failing ? `; last error: ${r.last_error}` : '';
      problems.push(`${db.path} replica ${r.name}: ${seconds(r.lag_ms)} behind (max-lag ${seconds(doc.max_lag_ms)})${error}`);
    }
  }
  const { databases, ...head } = doc;
  return { ...head, healthy: problems.length === 0, problems, databases };
}

/** seconds renders ms as seconds with one decimal (`31.2s`). */
export function seconds(ms: number): string {
  return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
}
