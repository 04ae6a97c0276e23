/**
 * wake: when to look at a database again. While it is quiet, an fs.watch on its directory
 * wakes a sync as soon as the WAL changes (the first commit after a quiet period goes out
 * at once). While it is busy, polling takes over: every write to a watched directory costs
 * the writing process an inotify event in the kernel — measured here at about 15% of a hot
 * writer's throughput — so the watch is dropped until the database has been quiet for
 * QUIET_MS, then re-armed, with one look right away for what changed in between.
 *
 * How often a busy database is looked at follows its replicas' sync-interval (busyPollMs):
 * every 10 ms for a file replica that uploads each commit at once, every 250 ms for S3's
 * default of 1 s — each look has a fixed cost, so at 100 commits/s a 10 ms poll under a
 * 1 s sync-interval spent 10× the CPU for uploads that wait anyway (docs/benchmarks.md).
 * An upload the sync-interval held back gets a look of its own just before it starts
 * (Replica.beforeDeferredSync), so the slower poll does not delay what it carries.
 */
import type { FSWatcher } from 'node:fs';
import { fs } from '../builtin.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

/** POLL_MS is how often a busy database is looked at. */
export const POLL_MS = 10;

/** MAX_BUSY_POLL_MS caps the interval between looks at a busy database. */
export const MAX_BUSY_POLL_MS = 250;

/**
 * busyPollMs is how often a busy database whose replicas sync every `syncIntervals` ms is
 * looked at: a quarter of the shortest, between POLL_MS and MAX_BUSY_POLL_MS. The WAL grows
 * for at most that long between looks (past `min-checkpoint-page-count`, a checkpoint waits
 * for the next look; the app's own checkpoints get a look ahead of them, checkpointer.ts).
 */
export function busyPollMs(syncIntervals: readonly number[]): number {
  const shortest = Math.min(...syncIntervals);
  return Math.min(MAX_BUSY_POLL_MS, Math.max(POLL_MS, Math.floor(shortest / 4)));
}

/** QUIET_MS is how long a database must see no change before the watch comes back. */
export const QUIET_MS = 50;

/** WakerOptions: the directory to watch, the file names that matter, how often to poll while busy, and what to call. */
export interface WakerOptions {
  dir: string;
  pollMs: number;
  names: ReadonlySet<string>;
  onWake: () => void;
  log: Logger;
}

/** Waker switches between watching (quiet) and polling (busy) for one database. */
export class Waker {
  private readonly opts: WakerOptions;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private lastChange = 0;
  private stopped = false;

  constructor(opts: WakerOptions) {
    this.opts = opts;
  }

  /** start arms the watch. */
  start(): void {
    this.watch();
  }

  /** observed is told after each sync whether the database changed; it picks watching or polling. */
  observed(changed: boolean): void {
    if (this.stopped) return;
    const now = Date.now();
    if (changed) {
      this.lastChange = now;
      if (!this.poller) this.poll();
      return;
    }
    if (this.poller && now - this.lastChange >= QUIET_MS) {
      clearInterval(this.poller);
      this.poller = undefined;
      this.watch();
      this.opts.onWake();
    }
  }

  /** soon asks for one extra look in `ms` (replacing an earlier such request). */
  soon(ms: number): void {
    if (this.stopped) return;
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      this.opts.onWake();
    }, ms);
  }

  /** stop ends watching and polling. */
  stop(): void {
    this.stopped = true;
    this.unwatch();
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
  }

  private poll(): void {
    this.unwatch();
    this.poller = setInterval(this.opts.onWake, this.opts.pollMs);
  }

  private watch(): void {
    if (this.watcher || this.stopped) return;
    const { dir, names, onWake, log } = this.opts;
    try {
      this.watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(String(name))) onWake();
      });
      this.watcher.on('error', (err) => {
        log.warn('watch failed, polling each monitor-interval', { error: errorMessage(err) });
        this.unwatch();
      });
    } catch (err) {
      log.warn('cannot watch directory, polling each monitor-interval', { dir, error: errorMessage(err) });
    }
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
