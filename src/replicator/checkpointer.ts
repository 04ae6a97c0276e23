/**
 * checkpointer: how one opened database checkpoints — when (the spec's rules in
 * checkpoint.ts, plus stepping aside for a busy app's own checkpoint, timed by the WAL's
 * growth rate in wal-rate.ts) and how (copy, release the read lock, checkpoint, restart
 * the WAL under the write lock, re-lock, hand over to the next shadow WAL index).
 *
 * Synchronous on purpose, like db.ts: the sequence runs without yielding so the window in
 * which another process could restart the WAL stays as short as possible.
 */
import { fs } from '../builtin.js';
import type { DbConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { decideCheckpoint, nextLookIn, pageCount, stepAsideIn } from './checkpoint.js';
import type { RealWAL } from './real-wal.js';
import type { ShadowWAL } from './shadow-wal.js';
import { type CheckpointMode, type CheckpointResult, type SQLiteConn, sleepSync } from './sqlite.js';
import type { DbStats } from './stats.js';
import { frameSize } from './wal.js';
import { busyPollMs } from './wake.js';
import { WalRate } from './wal-rate.js';

/**
 * CHECKPOINT_LOCK_WAIT_MS: how long our checkpoint waits (without the read lock) for the
 * WAL to restart while another connection's checkpoint holds the checkpointer lock.
 */
export const CHECKPOINT_LOCK_WAIT_MS = 20;

/** CHECKPOINT_BACKOFF_MS: after a checkpoint that could not get the lock, wait this long before the next try. */
export const CHECKPOINT_BACKOFF_MS = 20;

/**
 * STEP_ASIDE_GRACE_MS: how long, past the moment the WAL is expected to reach
 * `min-checkpoint-page-count`, we stay out of the way of the app's own checkpoint and
 * restart (its checkpoint fsyncs: a few ms here). The whole wait is capped at
 * CHECKPOINT_LOCK_WAIT_MS.
 */
export const STEP_ASIDE_GRACE_MS = 10;

/**
 * STEP_ASIDE_LEAD_MS: how long before the WAL is expected to reach
 * `min-checkpoint-page-count` we step aside; a look due later than that is asked for
 * (Db.lookAgainIn) rather than waited for, since timers fire a millisecond or so late.
 */
export const STEP_ASIDE_LEAD_MS = 4;

/**
 * RESTART_POLL_MS: how often a wait without the read lock looks whether the WAL restarted
 * (each look wakes our process, which then competes with the app for a CPU).
 */
export const RESTART_POLL_MS = 0.5;

/** STEP_ASIDE_PAUSE_MS: after a step-aside the app did not use, how long before the next one. */
export const STEP_ASIDE_PAUSE_MS = 1000;

/** NO_CHECKPOINT stands for a checkpoint we did not run because the app's own restarted the WAL. */
const NO_CHECKPOINT: CheckpointResult = { busy: 0, log: -1, checkpointed: -1 };

/**
 * Checkpointer decides and runs the checkpoints of one open database (Db owns one once
 * open): `sqlite` holds the read lock, `wal` and `shadows` are the real and shadow WAL,
 * `dbFd` is the long-lived descriptor on the database file (its mtime feeds the interval
 * rule), `config` has the checkpoint settings, `stats` counts the checkpoints.
 */
export class Checkpointer {
  private readonly rate = new WalRate();
  private checkpointBackoffUntil = 0;
  /** noStepAsideUntil: after a step-aside in which the app did not restart the WAL, none until then. */
  private noStepAsideUntil = 0;

  constructor(
    private readonly sqlite: SQLiteConn,
    private readonly wal: RealWAL,
    private readonly shadows: ShadowWAL,
    private readonly dbFd: number,
    private readonly config: DbConfig,
    private readonly stats: DbStats,
    private readonly log: Logger,
  ) {}

  /** measureRate updates the WAL's growth rate from the frames copied so far (call once per look). */
  measureRate(): void {
    this.rate.measure(this.shadows.appendedBytes / frameSize(this.sqlite.pageSize));
  }

  /**
   * maybeCheckpoint runs the checkpoint the spec's rules call for, if any — except that
   * while the app is writing and its own checkpoints restart the WAL, a WAL about to reach
   * (or past) `min-checkpoint-page-count` makes us step aside instead of a PASSIVE one,
   * or, when that is expected before the next regular look but not within
   * STEP_ASIDE_LEAD_MS, asks for a look just before it: the result is when the next look
   * should come, in ms (Db.lookAgainIn), if sooner than the regular one.
   */
  maybeCheckpoint(): number | undefined {
    const shadow = this.shadows.current;
    if (!shadow || Date.now() < this.checkpointBackoffUntil) return undefined;
    const mode = decideCheckpoint({
      pageSize: shadow.header.pageSize,
      walSize: this.wal.size(),
      shadowSize: shadow.size,
      dbModifiedMs: fs.fstatSync(this.dbFd).mtimeMs,
      nowMs: Date.now(),
      minCheckpointPageCount: this.config.minCheckpointPageCount,
      maxCheckpointPageCount: this.config.maxCheckpointPageCount,
      checkpointInterval: this.config.checkpointInterval,
    });
    const inMs = Date.now() >= this.noStepAsideUntil && mode !== 'RESTART' && mode !== 'TRUNCATE' ? this.thresholdIn() : undefined;
    if (inMs !== undefined && inMs <= STEP_ASIDE_LEAD_MS) return this.stepAside(inMs);
    if (inMs !== undefined && !mode) return nextLookIn(inMs, STEP_ASIDE_LEAD_MS);
    if (mode) this.run(mode);
    return undefined;
  }

  /**
   * run: copy the WAL tail; release the read lock; checkpoint (TRUNCATE runs as
   * RESTART: a TRUNCATE resets the WAL itself, at once, before we could copy frames the
   * app appended meanwhile). If that emptied the WAL, take the write lock, copy again —
   * now to the very end, since no other connection can append — and, when the WAL is
   * still the one checkpointed and the shadow holds all its frames, commit the
   * `_litestream_seq` write, which restarts it. From that last copy to the restart no
   * frame could be appended: the old WAL ends exactly where the shadow does, so the
   * hand-over needs no race won (sealed; our commit is checked to be the new WAL's first
   * frame). Then re-take the read lock and hand over to index+1, or copy what is new.
   */
  run(mode: CheckpointMode): void {
    this.stats.timeCheckpoint(mode, () => this.checkpointAndHandOver(mode));
  }

  /**
   * stepAside lets a busy app checkpoint and restart its WAL itself. Once its WAL passes
   * its autocheckpoint size (SQLite's default: 1000 pages), the app checkpoints after every
   * commit; while our read lock holds an older snapshot, each of those checkpoints stops
   * short of the end and none can restart the WAL, so every commit pays for a checkpoint
   * until ours runs. So just before the WAL gets there (or as soon as we see it there),
   * with every committed frame copied, we release the read lock and wait — up to `inMs` +
   * STEP_ASIDE_GRACE_MS, at most CHECKPOINT_LOCK_WAIT_MS — for the app's one checkpoint to
   * empty the WAL and its next transaction to restart it, as without us. Then the read
   * lock is re-taken and the old WAL's tail handed over to index+1, with the same proof
   * as after our own checkpoint. If the WAL reached the threshold and the app did not
   * restart it (an app without autocheckpoints), our own checkpoint runs there as usual,
   * and we do not step aside again for STEP_ASIDE_PAUSE_MS unless the app is seen
   * restarting the WAL meanwhile. If it did not even reach the threshold (we misjudged
   * the rate and stood aside too early), we just look again before it does (the result:
   * when, as for maybeCheckpoint).
   *
   * The wait is synchronous on purpose: in one-off runs here, letting uploads run
   * meanwhile (an asynchronous wait) cost the writer clearly more than staying still
   * while the app checkpoints.
   */
  private stepAside(inMs: number): number | undefined {
    const sqlite = this.sqlite;
    sqlite.releaseReadLock();
    let restarted: boolean;
    try {
      restarted = this.awaitRestart(Math.min(inMs + STEP_ASIDE_GRACE_MS, CHECKPOINT_LOCK_WAIT_MS), inMs);
    } finally {
      sqlite.acquireReadLock();
    }
    this.followRestart(-1);
    const shadow = this.shadows.current!;
    const early = !restarted && pageCount(shadow.size, shadow.header.pageSize) < this.config.minCheckpointPageCount;
    if (!restarted && !early) this.noStepAsideUntil = Date.now() + STEP_ASIDE_PAUSE_MS;
    this.log.debug('stepped aside', { restarted, early });
    return restarted || early ? this.nextLookBeforeThreshold() : undefined;
  }

  /**
   * nextLookBeforeThreshold: after a step-aside the regular poll may come only after the
   * WAL reached `min-checkpoint-page-count` — a new WAL is already filling (the hand-over
   * took a few ms), or we stood aside too early (the rate was misjudged) — so ask for a
   * look before that, as maybeCheckpoint would.
   */
  private nextLookBeforeThreshold(): number | undefined {
    const inMs = this.thresholdIn();
    return inMs === undefined ? undefined : nextLookIn(inMs, STEP_ASIDE_LEAD_MS);
  }

  /** thresholdIn is stepAsideIn for the current shadow WAL, looking two busy polls (wake.ts) ahead. */
  private thresholdIn(): number | undefined {
    const shadow = this.shadows.current!;
    return stepAsideIn({
      shadowPages: pageCount(shadow.size, shadow.header.pageSize),
      minCheckpointPageCount: this.config.minCheckpointPageCount,
      framesPerMs: this.rate.framesPerMs,
      lookAheadMs: 2 * busyPollMs(this.config.replicas.map((r) => r.syncInterval)),
    });
  }

  /**
   * followRestart, with the read lock back: hands over to index+1 if the WAL restarted
   * meanwhile (`logFrames`: the old WAL's frame count when our checkpoint reported it, else
   * -1; `sealed`: no frame could follow them, see run), else copies what is new.
   */
  private followRestart(logFrames: number, sealed = false): void {
    const hdr = this.shadows.restarted();
    if (hdr) this.shadows.handOver(hdr, logFrames, sealed);
    else this.shadows.copy();
  }

  private checkpointAndHandOver(mode: CheckpointMode): void {
    const sqlite = this.sqlite;
    this.shadows.copy();
    sqlite.releaseReadLock();
    let res: CheckpointResult;
    let sealed = false;
    try {
      res = sqlite.checkpoint(mode === 'TRUNCATE' ? 'RESTART' : mode);
      if (res.busy !== 0 && res.log < 0) {
        // Another connection's checkpoint holds the lock (a busy app checkpoints after
        // every commit once its WAL passes 1000 pages). With our read lock out of its way
        // it empties the WAL and the app's next transaction restarts it: wait for that.
        res = this.awaitRestart(CHECKPOINT_LOCK_WAIT_MS) ? NO_CHECKPOINT : sqlite.checkpoint(mode === 'TRUNCATE' ? 'RESTART' : mode);
        if (res === NO_CHECKPOINT) this.noStepAsideUntil = 0;
      }
      if (res !== NO_CHECKPOINT && res.busy === 0 && res.log >= 0 && res.checkpointed === res.log) sealed = this.restartSealed(res.log, mode === 'TRUNCATE');
    } finally {
      sqlite.rollback();
      sqlite.acquireReadLock();
    }
    this.log.debug('checkpoint', { mode, busy: res.busy, log: res.log, checkpointed: res.checkpointed, sealed });
    if (res.log < 0 && res !== NO_CHECKPOINT) this.checkpointBackoffUntil = Date.now() + CHECKPOINT_BACKOFF_MS;
    this.followRestart(sealed ? res.log : -1, sealed && this.wal.startsWithPage(sqlite.seqPage()));
  }

  /**
   * restartSealed, after a checkpoint of all `logFrames` frames: under the write lock,
   * copies to the end and commits the `_litestream_seq` write that restarts the WAL, when
   * it is still the WAL checkpointed and the shadow holds exactly its frames. Returns
   * whether it committed (the restart itself is checked by the caller). With `shrink` (a
   * TRUNCATE asked for) the restarting write also cuts the WAL file down to its own frames,
   * as a TRUNCATE would have.
   */
  private restartSealed(logFrames: number, shrink: boolean): boolean {
    const sqlite = this.sqlite;
    const shadows = this.shadows;
    if (!sqlite.beginWrite(CHECKPOINT_LOCK_WAIT_MS)) return false;
    if (shadows.restarted()) return false;
    shadows.copy();
    if (shadows.current!.frames !== logFrames) return false;
    sqlite.commitSeq(shrink);
    return true;
  }

  /**
   * awaitRestart waits, up to `ms` and without the read lock, for the WAL header to change.
   * When our forced frame could not restart the WAL because the app was writing, the
   * app's own next transaction restarts it — if our read lock is not back in its way.
   * The first `quietMs` (until the WAL is expected to reach the app's checkpoint size) are
   * slept through without looking.
   */
  private awaitRestart(ms: number, quietMs = 0): boolean {
    const deadline = Date.now() + ms;
    if (quietMs > 0) sleepSync(Math.min(quietMs, ms));
    for (;;) {
      if (this.shadows.restarted()) return true;
      if (Date.now() >= deadline) return false;
      sleepSync(RESTART_POLL_MS);
    }
  }
}
