/**
 * builtin: the seam with the replicator. The init runs it through our own CLI as child
 * processes, so the init stays small and a replicator crash cannot take it down:
 *   - restore on boot: `restore -if-db-not-exists -if-replica-exists` per missing database;
 *   - the replicator service: `replicate -notify-fd 3`, ready on a newline on fd 3, a final
 *     sync on SIGTERM (exit 0 only when every replica holds every committed transaction);
 *   - the last flush: `replicate -once` when the replicator is not there to sync (last-flush.ts).
 *
 * The stop budget (LIFEBOAT_SYNC_GRACETIME) is split by `syncBudget`: the running
 * replicator's own shutdown timeout first, a reserve for a one-shot flush after it.
 */
import { fs } from '../builtin.js';
import { nowMs } from '../clock.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParsedText } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { checkWriterLock } from '../replicator/writer-lock.js';
import type { Knobs } from './knobs.js';
import { failed, runOneshot } from './oneshot.js';
import type { ServiceDef } from './service-dir.js';
import { describeExit } from './signals.js';

/** MAIN_JS is the CLI entry point, beside this module's directory (dist/ and the image alike). */
export const MAIN_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/main.js');

/** REPLICATOR_NAME names the built-in replicator service (and its output prefix). */
export const REPLICATOR_NAME = 'replicate';

/** REPLICATOR_NOTIFY_FD is the fd on which the replicator reports readiness. */
export const REPLICATOR_NOTIFY_FD = 3;

/** cliCommand is argv running `lifeboat <args>` with this Node. */
export function cliCommand(...args: string[]): string[] {
  return [process.execPath, MAIN_JS, ...args];
}

/**
 * REPLICATOR_NODE_FLAGS are the V8 flags of the long-running replicator: a young generation
 * of 1 MB (V8's default grows to 16 MB per semi-space) keeps its steady resident size about
 * 10 MB lower while a writer commits, at no measured CPU cost — its work moves Buffers, not
 * short-lived JavaScript objects (docs/benchmarks.md). Set per process: V8 reads it at start.
 */
export const REPLICATOR_NODE_FLAGS = ['--max-semi-space-size=1'];

/** EXIT_SLACK is what a replicate process may take to exit after its shutdown timeout (ms). */
export const EXIT_SLACK = 300;

/** FLUSH_RESERVE_MAX caps the part of the stop budget kept for a one-shot flush after the replicator. */
export const FLUSH_RESERVE_MAX = 1_500;

/** SyncBudget splits the stop budget: the replicator syncs for `replicatorTimeout`, is killed at `killAfter`. */
export interface SyncBudget {
  replicatorTimeout: number;
  killAfter: number;
}

/**
 * syncBudget splits `graceMs`: a quarter (at most FLUSH_RESERVE_MAX) is kept for a one-shot
 * flush should the replicator not answer; the rest is its own shutdown timeout, plus
 * EXIT_SLACK to exit before it is killed.
 */
export function syncBudget(graceMs: number): SyncBudget {
  const reserve = Math.min(FLUSH_RESERVE_MAX, Math.floor(graceMs / 4));
  const slack = Math.min(EXIT_SLACK, Math.floor(reserve / 2));
  const replicatorTimeout = Math.max(0, graceMs - reserve - slack);
  return { replicatorTimeout, killAfter: replicatorTimeout + slack };
}

/** replicatorDef is the built-in replicator as a service: stopped by SIGTERM, SIGKILL per syncBudget. */
export function replicatorDef(configPath: string, knobs: Knobs, flags: string[] = []): ServiceDef {
  const budget = syncBudget(knobs.syncGrace);
  const timeout = ['-shutdown-sync-timeout', `${budget.replicatorTimeout}ms`];
  return {
    name: REPLICATOR_NAME,
    // -addr=: the init serves the config's addr itself (init-endpoints.ts), so that it
    // answers while the replicator is down; the replicator answers on its control sockets.
    command: [process.execPath, ...REPLICATOR_NODE_FLAGS, MAIN_JS, 'replicate', '-config', configPath, ...flags, ...timeout, '-addr=', '-notify-fd', String(REPLICATOR_NOTIFY_FD)],
    cwd: process.cwd(),
    down: false,
    notificationFd: REPLICATOR_NOTIFY_FD,
    timeoutKill: budget.killAfter,
    timeoutFinish: 0,
    downSignal: 'SIGTERM',
    essential: false,
  };
}

/** flushCommand is `replicate -once` bounded to exit within `ms` (the rest of the stop budget). */
export function flushCommand(configPath: string, ms: number, flags: string[] = []): string[] {
  const timeout = Math.max(0, ms - EXIT_SLACK);
  return cliCommand('replicate', '-config', configPath, ...flags, '-once', '-shutdown-sync-timeout', `${timeout}ms`);
}

/** PARSED_CONFIG_FD is the descriptor on which `restore` reads the config the init parsed (`-config-fd`). */
const PARSED_CONFIG_FD = 3;

/** RestoreOptions carry the output setting and the init's stop signal. */
export interface RestoreOptions {
  log: Logger;
  prefix: boolean;
  abort: AbortSignal;
  /** flags are passed on to `restore` (e.g. `-no-expand-env`). */
  flags?: string[];
  /** onRestored is told of each database restored: how long it took (ms) and its size (bytes). */
  onRestored?: (dbPath: string, ms: number, bytes: number) => void;
  /** parsedConfig is the config as the init has it parsed (config/load.ts ParsedText): `restore` then needs no YAML parser. */
  parsedConfig?: ParsedText;
}

/**
 * restoreMissing restores every database of `config` whose file is missing, in parallel;
 * resolves undefined when all are restored or have no replica yet, else the failure.
 */
export async function restoreMissing(config: Config, configPath: string, opts: RestoreOptions): Promise<string | undefined> {
  const missing = config.dbs.filter((db) => !fs.existsSync(db.path));
  const failures = await Promise.all(missing.map((db) => restoreOne(db.path, configPath, opts)));
  return failures.find((f) => f !== undefined);
}

async function restoreOne(dbPath: string, configPath: string, opts: RestoreOptions): Promise<string | undefined> {
  opts.log.info('restoring database', { db: dbPath });
  const flags = [...(opts.flags ?? []), ...(opts.parsedConfig ? ['-config-fd', String(PARSED_CONFIG_FD)] : [])];
  const argv = cliCommand('restore', '-config', configPath, ...flags, '-if-db-not-exists', '-if-replica-exists', dbPath);
  const input = opts.parsedConfig && { fd: PARSED_CONFIG_FD, data: JSON.stringify(opts.parsedConfig) };
  const t0 = nowMs();
  const r = await runOneshot(argv, { name: 'restore', prefix: opts.prefix, abort: opts.abort, input });
  if (!failed(r)) {
    const bytes = fileSize(dbPath);
    if (bytes !== undefined) opts.onRestored?.(dbPath, nowMs() - t0, bytes);
    return undefined;
  }
  const how = r.error ?? Object.entries(describeExit(r)).map(([k, v]) => `${k} ${v}`).join(' ');
  return `restore ${dbPath}: ${how}`;
}

/** fileSize is the size of `p`, undefined when it does not exist (nothing was restored). */
function fileSize(p: string): number | undefined {
  try {
    return fs.statSync(p).size;
  } catch {
    return undefined;
  }
}

/**
 * otherWriter returns the failure when another process already replicates one of the
 * config's databases (a second init or `replicate` on them), else undefined: checked
 * before the restore, so a second init touches nothing.
 */
export function otherWriter(config: Config): string | undefined {
  for (const db of config.dbs) {
    try {
      checkWriterLock(db.path);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return undefined;
}
