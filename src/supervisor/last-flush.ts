/**
 * last-flush: the replicator's final sync at shutdown, whatever state it is in. Every
 * commit the database holds beyond its replica must be uploaded before the container goes
 * down, within LIFEBOAT_SYNC_GRACETIME:
 *   - running (starting or up): SIGTERM; it syncs for its share of the budget and exits 0
 *     once every replica holds every committed transaction (builtin.ts: syncBudget);
 *   - down, in restart backoff, crash-looping, never started (a stop during boot), or it
 *     did not confirm (wedged and killed, or failed): a one-shot `replicate -once` with what
 *     is left of the budget — a fresh process reads the database file itself.
 * The answer (true: synced) decides the exit code's "1 instead of 0".
 */
import { nowMs } from '../clock.js';
import type { Logger } from '../log.js';
import { flushCommand, syncBudget } from './builtin.js';
import { failed, runOneshot } from './oneshot.js';
import type { Exit } from './service-table.js';
import type { Service } from './service.js';
import { describeExit } from './signals.js';

/** MIN_FLUSH_MS is the least budget worth starting a one-shot flush with (Node start, open, upload). */
export const MIN_FLUSH_MS = 300;

/** FLUSH_NAME prefixes the one-shot flush's output lines. */
export const FLUSH_NAME = 'flush';

/** LastFlushOptions: the stop budget, the config, output, and how long a lost exit is waited for. */
export interface LastFlushOptions {
  log: Logger;
  prefix: boolean;
  graceMs: number;
  configPath: string;
  flags?: string[];
  /** lostExitMs: after the kill, how long an exit may take to be reported before we go on. */
  lostExitMs: number;
}

/** lastFlush stops `replicator` (if any) with its final sync, or flushes in a one-shot run; true when synced. */
export async function lastFlush(replicator: Service | undefined, opts: LastFlushOptions): Promise<boolean> {
  const deadline = nowMs() + opts.graceMs;
  const phase = replicator?.state.phase ?? 'down';
  if (replicator && (phase === 'starting' || phase === 'up')) {
    if (await stopRunning(replicator, opts)) return true;
  } else {
    // Not running: keep it from restarting now, then flush without it.
    const why = phase === 'backoff' ? 'in restart backoff' : phase === 'failed' ? 'failed' : 'not started';
    const unhealthy = replicator?.state.unhealthy ? { unhealthy: true } : {};
    opts.log.warn(`replicator ${why}: final sync by a one-shot run`, { timeout_ms: opts.graceMs, ...unhealthy });
    await replicator?.stop();
  }
  return flushOnce(Math.floor(deadline - nowMs()), opts);
}

/** stopRunning sends the replicator its stop; true when it exited 0 (its final sync completed). */
async function stopRunning(replicator: Service, opts: LastFlushOptions): Promise<boolean> {
  const budget = syncBudget(opts.graceMs);
  opts.log.info('stopping replicator: final sync', { timeout_ms: budget.replicatorTimeout });
  const exit = await within(replicator.stop(), budget.killAfter + opts.lostExitMs);
  if (exit === 'late') {
    opts.log.error('replicator did not report its exit after SIGKILL: final sync not confirmed');
    return false;
  }
  if (exit && exit.code === 0 && exit.signal === null) {
    opts.log.info('replicator stopped: final sync complete');
    return true;
  }
  opts.log.error('replicator stopped: final sync not complete', exit ? describeExit(exit) : {});
  return false;
}

/** flushOnce runs `replicate -once` bounded by `ms`; true when it exited 0. */
async function flushOnce(ms: number, opts: LastFlushOptions): Promise<boolean> {
  if (ms < MIN_FLUSH_MS) {
    opts.log.error('no time left for a one-shot final sync: the replica may miss the last transactions', { left_ms: ms });
    return false;
  }
  opts.log.info('one-shot final sync', { timeout_ms: ms });
  const r = await runOneshot(flushCommand(opts.configPath, ms, opts.flags), { name: FLUSH_NAME, prefix: opts.prefix, timeoutMs: ms });
  if (!failed(r)) {
    opts.log.info('one-shot final sync complete');
    return true;
  }
  const how = r.error ? { error: r.error } : describeExit(r);
  opts.log.error('one-shot final sync did not complete: the replica may miss the last transactions', { timed_out: r.timedOut || undefined, ...how });
  return false;
}

/** within waits for `p` at most `ms`; 'late' when the time ran out. */
async function within(p: Promise<Exit | undefined>, ms: number): Promise<Exit | undefined | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
