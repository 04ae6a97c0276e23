/**
 * db: one replicated database (the reference's DB). It keeps the read lock, has the
 * shadow WAL (shadow-wal.ts) follow every committed transaction of the real WAL, and
 * checkpoints.
 *
 * Everything here is synchronous on purpose: better-sqlite3 is synchronous, and doing the
 * copy → release lock → checkpoint → re-lock → compare-header sequence without yielding
 * keeps the window in which another process could restart the WAL as short as possible.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { DEFAULT_BUSY_TIMEOUT } from '../config/defaults.js';
import type { DbConfig } from '../config/types.js';
import { log as rootLog, type Logger } from '../log.js';
import type { GenerationOrigin } from './claim.js';
import { decideCheckpoint, nextLookIn, pageCount, stepAsideIn } from './checkpoint.js';
import { metaDir } from './layout.js';
import { removeStaleFiles } from './meta.js';
import type { Pos } from './pos.js';
import { RealWAL } from './real-wal.js';
import { ShadowWAL } from './shadow-wal.js';
import { type CheckpointMode, type CheckpointResult, SQLiteConn, checkSQLiteHeader, sleepSync } from './sqlite.js';
import { DbStats } from './stats.js';
import { WAL_HEADER_SIZE, frameSize } from './wal.js';
import { POLL_MS } from './wake.js';

/**
 * CHECKPOINT_LOCK_WAIT_MS: how long our checkpoint waits (without the read lock) for the
 * WAL to restart while another connection's checkpoint holds the checkpointer lock.
 */
export const CHECKPOINT_LOCK_WAIT_MS = 20;

/**
 * RESTART_WAIT_MS: after a checkpoint that emptied the WAL, how long to wait (without the
 * read lock) for a busy app to restart it.
 */
export const RESTART_WAIT_MS = 5;

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
 * (lookAgainIn) rather than waited for, since timers fire a millisecond or so late.
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

/** DbState: waiting for the file to exist, open and replicating, or closed. */
export type DbState = 'waiting' | 'open' | 'closed';

/** Db replicates one SQLite database into its shadow WAL; emits `change` when the position moves. */
export class Db extends EventEmitter {
  readonly path: string;
  readonly walPath: string;
  readonly meta: string;
  readonly config: DbConfig;
  readonly log: Logger;
  state: DbState = 'waiting';
  /** stats count syncs and checkpoints (the metrics endpoint reads them). */
  readonly stats = new DbStats();
  private sqlite: SQLiteConn | undefined;
  private dbFd = -1;
  private walFd = -1;
  private wal: RealWAL | undefined;
  private shadows: ShadowWAL | undefined;
  private snapshotting = 0;
  private checkpointBackoffUntil = 0;
  /** lastLook is when the previous sync looked and how many frames had been copied by then. */
  private lastLook = { at: 0, frames: 0 };
  private framesPerMs = 0;
  private lastRate = 0;
  /** noStepAsideUntil: after a step-aside in which the app did not restart the WAL, none until then. */
  private noStepAsideUntil = 0;
  /**
   * lookAgainIn is set by a sync that expects the WAL to reach `min-checkpoint-page-count`
   * before the next regular look: the next look should come in this many ms (see stepAside).
   */
  lookAgainIn: number | undefined;
  /** beforeOpen runs just before the database is opened; throwing keeps it closed (the writer lock, replicator.ts). */
  beforeOpen: (() => void) | undefined;
  /** waitingFor is why the Db is still `waiting`, as last logged (each reason is logged once). */
  private waitingFor: string | undefined;

  constructor(config: DbConfig, logger: Logger = rootLog) {
    super();
    this.config = config;
    this.path = config.path;
    this.walPath = `${config.path}-wal`;
    this.meta = metaDir(config.path, config.metaPath);
    this.log = logger.child({ db: config.path });
  }

  /** generation is the current generation, once open. */
  get generation(): string | undefined {
    return this.shadows?.generation;
  }

  /** continuedFrom is where a restored generation ended, when this run continues it (shadow-wal.ts). */
  get continuedFrom(): { index: number; offset: number } | undefined {
    return this.shadows?.continuedFrom;
  }

  /** origin is how this run came to write the current generation (claim.ts), once open. */
  get origin(): GenerationOrigin {
    const from = this.shadows?.continuedFrom;
    if (from) return { kind: 'restored', ...from };
    return this.shadows?.startedHere ? { kind: 'new' } : { kind: 'resumed' };
  }

  /** pos is the current shadow position (generation, index, committed size), once open. */
  pos(): Pos | undefined {
    return this.shadows?.pos();
  }

  /** pageSize is the database's page size (0 until open). */
  get pageSize(): number {
    return this.sqlite?.pageSize ?? 0;
  }

  /**
   * open opens the database if its file exists and holds a SQLite header; otherwise the
   * Db stays `waiting` (first boot: the app creates it), says so once, and open returns
   * false. A file that is not SQLite, or cannot use WAL mode, is an error.
   */
  open(): boolean {
    if (this.state !== 'waiting') return this.state === 'open';
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.stillWaiting(this.missingReason());
      throw err;
    }
    // Our descriptors stay open for the life of the process: closing any descriptor on the
    // database file would drop every POSIX lock SQLite holds on it in this process.
    if (!checkSQLiteHeader(fd, this.path)) {
      fs.closeSync(fd);
      return this.stillWaiting('database file is empty: waiting for its first write (e.g. by the app)');
    }
    try {
      this.beforeOpen?.();
      this.sqlite = SQLiteConn.open(this.path, this.config.busyTimeout ?? DEFAULT_BUSY_TIMEOUT);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.dbFd = fd;
    this.ensureWALHeader();
    this.walFd = fs.openSync(this.walPath, 'r');
    this.wal = new RealWAL(this.walFd, this.log);
    this.sqlite.acquireReadLock();
    removeStaleFiles(this.meta);
    const sqlite = this.sqlite;
    this.shadows = new ShadowWAL(this.meta, this.wal, (fn) => sqlite.withWriteLock(fn), this.log);
    this.shadows.load(this.dbFd);
    this.state = 'open';
    this.log.info('opened', { generation: this.generation ?? 'none' });
    return true;
  }

  /** missingReason words a missing database file, and a missing directory too (a mistyped path shows). */
  private missingReason(): string {
    const dir = fs.existsSync(path.dirname(this.path)) ? '' : ' (nor its directory)';
    return `database file does not exist yet${dir}: waiting for it to be created (e.g. by the app)`;
  }

  /** stillWaiting logs `why` the first time it is the reason the Db is not open; returns false. */
  private stillWaiting(why: string): false {
    if (this.waitingFor !== why) this.log.info(why);
    this.waitingFor = why;
    return false;
  }

  /** sync copies new committed frames and checkpoints when due; returns true if the position moved. */
  sync(): boolean {
    if (this.state === 'waiting' && !this.open()) return false;
    if (this.state !== 'open') return false;
    this.lookAgainIn = undefined;
    return this.stats.timeSync(() => {
      const before = this.posKey();
      this.ensureWALHeader();
      this.shadows!.verifyAndCopy();
      this.measureRate();
      this.maybeCheckpoint();
      return this.changedSince(before);
    });
  }

  /** appendedBytes is how many frame bytes this run has copied to the shadow WAL. */
  get appendedBytes(): number {
    return this.shadows?.appendedBytes ?? 0;
  }

  /** checkpoint runs a checkpoint of `mode` now (tests and tools); emits `change` if the position moved. */
  checkpoint(mode: CheckpointMode): void {
    if (this.state !== 'open' || this.snapshotting > 0) return;
    const before = this.posKey();
    this.runCheckpoint(mode);
    this.changedSince(before);
  }

  /** restartGeneration starts a new generation now (a replica found its position inconsistent). */
  restartGeneration(reason: string): void {
    if (this.state !== 'open') return;
    this.shadows!.startGeneration(reason);
    this.emit('change');
  }

  /** beginSnapshot blocks our checkpoints while a snapshot reads the database file. */
  beginSnapshot(): void {
    this.snapshotting++;
  }

  /** endSnapshot ends a beginSnapshot. */
  endSnapshot(): void {
    this.snapshotting--;
  }

  /**
   * snapshotStream reads the database file through our long-lived descriptor (never a new
   * one: see open). Call between beginSnapshot/endSnapshot, with the read lock held.
   */
  snapshotStream(): Readable {
    return fs.createReadStream(this.path, { fd: this.dbFd, start: 0, autoClose: false, highWaterMark: 1024 * 1024 });
  }

  /** shadowEnd is the committed size of shadow WAL `index` of the current generation, if it exists. */
  shadowEnd(index: number): number | undefined {
    return this.shadows?.end(index);
  }

  /** readShadow returns bytes [start, end) of shadow WAL `index` (from memory when recent: use it before the next sync). */
  readShadow(index: number, start: number, end: number): Buffer {
    return this.shadows!.read(index, start, end);
  }

  /** shadowPath is the file of shadow WAL `index` of the current generation. */
  shadowPath(index: number): string {
    return this.shadows!.path(index);
  }

  /** removeShadowBelow deletes the current generation's shadow WAL files with index < `index`. */
  removeShadowBelow(index: number): void {
    this.shadows?.removeBelow(index);
  }

  /**
   * close stops replicating. With `keepWAL` (the clean stop of `replicate`), our SQLite
   * connections are deliberately left for process exit to release: closing the last
   * connection would make SQLite checkpoint and delete the WAL, and the next start would
   * need a new generation and a full snapshot (the reference's #393/#627).
   */
  close(opts: { keepWAL: boolean }): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.shadows?.close();
    if (!opts.keepWAL && this.sqlite) {
      this.sqlite.close();
      fs.closeSync(this.walFd);
      fs.closeSync(this.dbFd);
    }
  }

  private posKey(): string {
    const p = this.pos();
    return p ? `${p.generation}/${p.index}/${p.offset}` : '';
  }

  private changedSince(before: string): boolean {
    const changed = this.posKey() !== before;
    if (changed) this.emit('change');
    return changed;
  }

  /** ensureWALHeader forces a frame when the WAL is shorter than its header. */
  private ensureWALHeader(): void {
    let size = 0;
    try {
      size = this.wal ? this.wal.size() : fs.statSync(this.walPath).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (size < WAL_HEADER_SIZE) this.sqlite!.writeSeq();
  }

  /**
   * measureRate updates how fast the WAL grows (frames per ms): the faster of the last two
   * intervals between looks, since an interval that spans the app's own checkpoint
   * understates it, and a late estimate lets the app's checkpoint come first (stepAside).
   */
  private measureRate(): void {
    const now = performance.now();
    const frames = this.appendedBytes / frameSize(this.pageSize);
    const rate = this.lastLook.at > 0 ? (frames - this.lastLook.frames) / Math.max(now - this.lastLook.at, 0.01) : 0;
    this.framesPerMs = Math.max(rate, this.lastRate);
    this.lastRate = rate;
    this.lastLook = { at: now, frames };
  }

  /**
   * maybeCheckpoint runs the checkpoint the spec's rules call for, if any — except that
   * while the app is writing and its own checkpoints restart the WAL, a WAL about to reach
   * (or past) `min-checkpoint-page-count` makes us step aside instead of a PASSIVE one,
   * or, when that is expected before the next regular look but not within
   * STEP_ASIDE_LEAD_MS, asks for a look just before it (lookAgainIn).
   */
  private maybeCheckpoint(): void {
    const shadow = this.shadows!.current;
    if (this.snapshotting > 0 || !shadow || Date.now() < this.checkpointBackoffUntil) return;
    const mode = decideCheckpoint({
      pageSize: shadow.header.pageSize,
      walSize: this.wal!.size(),
      shadowSize: shadow.size,
      dbModifiedMs: fs.fstatSync(this.dbFd).mtimeMs,
      nowMs: Date.now(),
      minCheckpointPageCount: this.config.minCheckpointPageCount,
      maxCheckpointPageCount: this.config.maxCheckpointPageCount,
      checkpointInterval: this.config.checkpointInterval,
    });
    const inMs = Date.now() >= this.noStepAsideUntil && mode !== 'RESTART' && mode !== 'TRUNCATE' ? this.thresholdIn() : undefined;
    if (inMs !== undefined && inMs <= STEP_ASIDE_LEAD_MS) return this.stepAside(inMs);
    if (inMs !== undefined && !mode) this.lookAgainIn = nextLookIn(inMs, STEP_ASIDE_LEAD_MS);
    if (mode) this.runCheckpoint(mode);
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
   * the rate and stood aside too early), we just look again before it does.
   *
   * The wait is synchronous on purpose: in one-off runs here, letting uploads run
   * meanwhile (an asynchronous wait) cost the writer clearly more than staying still
   * while the app checkpoints.
   */
  private stepAside(inMs: number): void {
    const sqlite = this.sqlite!;
    sqlite.releaseReadLock();
    let restarted: boolean;
    try {
      restarted = this.awaitRestart(Math.min(inMs + STEP_ASIDE_GRACE_MS, CHECKPOINT_LOCK_WAIT_MS), inMs);
    } finally {
      sqlite.acquireReadLock();
    }
    this.followRestart(-1);
    const shadow = this.shadows!.current!;
    const early = !restarted && pageCount(shadow.size, shadow.header.pageSize) < this.config.minCheckpointPageCount;
    if (!restarted && !early) this.noStepAsideUntil = Date.now() + STEP_ASIDE_PAUSE_MS;
    this.log.debug('stepped aside', { restarted, early });
    if (restarted || early) this.lookAgainIn = this.nextLookBeforeThreshold();
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

  /** thresholdIn is stepAsideIn for the current shadow WAL, looking two polls ahead. */
  private thresholdIn(): number | undefined {
    const shadow = this.shadows!.current!;
    return stepAsideIn({
      shadowPages: pageCount(shadow.size, shadow.header.pageSize),
      minCheckpointPageCount: this.config.minCheckpointPageCount,
      framesPerMs: this.framesPerMs,
      lookAheadMs: 2 * POLL_MS,
    });
  }

  /**
   * followRestart, with the read lock back: hands over to index+1 if the WAL restarted
   * meanwhile (`logFrames`: the old WAL's frame count when our checkpoint reported it, else
   * -1), else copies what is new.
   */
  private followRestart(logFrames: number): void {
    const shadows = this.shadows!;
    const hdr = shadows.restarted();
    if (hdr) shadows.handOver(hdr, logFrames);
    else shadows.copy();
  }

  /**
   * runCheckpoint: copy the WAL tail; release the read lock; checkpoint (waiting briefly
   * while another connection's checkpoint holds the checkpointer lock); if that emptied the
   * WAL, force a frame — the write that restarts it — unless the app is writing (then its
   * next write restarts it); re-take the read lock; if the header changed, hand over to
   * index+1.
   */
  private runCheckpoint(mode: CheckpointMode): void {
    this.stats.timeCheckpoint(mode, () => this.checkpointAndHandOver(mode));
  }

  private checkpointAndHandOver(mode: CheckpointMode): void {
    const sqlite = this.sqlite!;
    this.shadows!.copy();
    sqlite.releaseReadLock();
    let res: CheckpointResult;
    try {
      res = sqlite.checkpoint(mode);
      if (res.busy !== 0 && res.log < 0) {
        // Another connection's checkpoint holds the lock (a busy app checkpoints after
        // every commit once its WAL passes 1000 pages). With our read lock out of its way
        // it empties the WAL and the app's next transaction restarts it: wait for that.
        res = this.awaitRestart(CHECKPOINT_LOCK_WAIT_MS) ? NO_CHECKPOINT : sqlite.checkpoint(mode);
        if (res === NO_CHECKPOINT) this.noStepAsideUntil = 0;
      }
      if (res !== NO_CHECKPOINT && res.busy === 0 && res.checkpointed === res.log) {
        sqlite.tryWriteSeq();
        this.awaitRestart(RESTART_WAIT_MS);
      }
    } finally {
      sqlite.acquireReadLock();
    }
    this.log.debug('checkpoint', { mode, busy: res.busy, log: res.log, checkpointed: res.checkpointed });
    if (res.log < 0 && res !== NO_CHECKPOINT) this.checkpointBackoffUntil = Date.now() + CHECKPOINT_BACKOFF_MS;
    this.followRestart(res.busy === 0 ? res.log : -1);
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
      if (this.shadows!.restarted()) return true;
      if (Date.now() >= deadline) return false;
      sleepSync(RESTART_POLL_MS);
    }
  }
}
