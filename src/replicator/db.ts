/**
 * db: one replicated database (the reference's DB). It keeps the read lock, copies each
 * committed transaction from the real WAL into the shadow WAL, detects WAL restarts and
 * outside interference (starting a new generation with a logged reason), and checkpoints.
 *
 * Everything here is synchronous on purpose: better-sqlite3 is synchronous, and doing the
 * copy → release lock → checkpoint → re-lock → compare-header sequence without yielding
 * keeps the window in which another process could restart the WAL as short as possible.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { DEFAULT_BUSY_TIMEOUT } from '../config/defaults.js';
import type { DbConfig } from '../config/types.js';
import { log as rootLog, type Logger } from '../log.js';
import { decideCheckpoint } from './checkpoint.js';
import { metaDir, shadowWALPath } from './layout.js';
import { readGeneration, removeOtherGenerations, removeStaleFiles, writeGeneration } from './meta.js';
import { MAX_INDEX, type Pos, hex8, newGeneration } from './pos.js';
import { RecentBytes } from './recent.js';
import { takeRestoredMarker } from './restored.js';
import { ShadowFile, readFileRange, shadowIndexes } from './shadow.js';
import { type CheckpointMode, type CheckpointResult, SQLiteConn, checkSQLiteHeader, sleepSync } from './sqlite.js';
import { RealWAL, sameBytes } from './real-wal.js';
import { WAL_HEADER_SIZE, type WALHeader, frameSize, parseWALHeader } from './wal.js';

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

/** NO_CHECKPOINT stands for a checkpoint we did not run because the app's own restarted the WAL. */
const NO_CHECKPOINT: CheckpointResult = { busy: 0, log: -1, checkpointed: -1 };

/** CHECKPOINT_BACKOFF_MS: after a checkpoint that could not get the lock, wait this long before the next try. */
export const CHECKPOINT_BACKOFF_MS = 20;

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
  generation: string | undefined;
  /** continuedFrom is where a restored generation ended (its index and size), when this run continues it. */
  continuedFrom: { index: number; offset: number } | undefined;
  private sqlite: SQLiteConn | undefined;
  private dbFd = -1;
  private walFd = -1;
  private shadow: ShadowFile | undefined;
  private readonly recent = new RecentBytes();
  private wal: RealWAL | undefined;
  private snapshotting = 0;
  private checkpointBackoffUntil = 0;

  constructor(config: DbConfig, logger: Logger = rootLog) {
    super();
    this.config = config;
    this.path = config.path;
    this.walPath = `${config.path}-wal`;
    this.meta = metaDir(config.path, config.metaPath);
    this.log = logger.child({ db: config.path });
  }

  /** pos is the current shadow position (generation, index, committed size), once open. */
  pos(): Pos | undefined {
    if (!this.generation || !this.shadow) return undefined;
    return { generation: this.generation, index: this.shadow.index, offset: this.shadow.size };
  }

  /** pageSize is the database's page size (0 until open). */
  get pageSize(): number {
    return this.sqlite?.pageSize ?? 0;
  }

  /**
   * open opens the database if its file exists and holds a SQLite header; otherwise the
   * Db stays `waiting` (first boot: the app creates it) and open returns false. A file
   * that is not SQLite, or cannot use WAL mode, is an error.
   */
  open(): boolean {
    if (this.state !== 'waiting') return this.state === 'open';
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    // Our descriptors stay open for the life of the process: closing any descriptor on the
    // database file would drop every POSIX lock SQLite holds on it in this process.
    if (!checkSQLiteHeader(fd, this.path)) {
      fs.closeSync(fd);
      return false;
    }
    try {
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
    this.loadShadow();
    this.state = 'open';
    this.log.info('opened', { generation: this.generation ?? 'none' });
    return true;
  }

  /** sync copies new committed frames and checkpoints when due; returns true if the position moved. */
  sync(): boolean {
    if (this.state === 'waiting' && !this.open()) return false;
    if (this.state !== 'open') return false;
    const before = this.posKey();
    this.ensureWALHeader();
    this.verifyAndCopy();
    this.maybeCheckpoint();
    const changed = this.posKey() !== before;
    if (changed) this.emit('change');
    return changed;
  }

  /** checkpoint runs a checkpoint of `mode` now (tests and tools); emits `change` if the position moved. */
  checkpoint(mode: CheckpointMode): void {
    if (this.state !== 'open' || this.snapshotting > 0) return;
    const before = this.posKey();
    this.runCheckpoint(mode);
    if (this.posKey() !== before) this.emit('change');
  }

  /**
   * runCheckpoint: copy the WAL tail; release the read lock; checkpoint (waiting briefly
   * while another connection's checkpoint holds the checkpointer lock); if that emptied the
   * WAL, force a frame — the write that restarts it — unless the app is writing (then its
   * next write restarts it); re-take the read lock; if the header changed, hand over to
   * index+1.
   */
  private runCheckpoint(mode: CheckpointMode): void {
    const wal = this.wal!;
    const sqlite = this.sqlite!;
    wal.copy(this.shadow!);
    sqlite.releaseReadLock();
    let res: CheckpointResult;
    try {
      res = sqlite.checkpoint(mode);
      if (res.busy !== 0 && res.log < 0) {
        // Another connection's checkpoint holds the lock (a busy app checkpoints after
        // every commit once its WAL passes 1000 pages). With our read lock out of its way
        // it empties the WAL and the app's next transaction restarts it: wait for that.
        if (this.awaitRestart(CHECKPOINT_LOCK_WAIT_MS)) res = NO_CHECKPOINT;
        else res = sqlite.checkpoint(mode);
      }
      if (res.busy === 0 && res.checkpointed === res.log) {
        sqlite.tryWriteSeq();
        this.awaitRestart(RESTART_WAIT_MS);
      }
    } finally {
      sqlite.acquireReadLock();
    }
    this.log.debug('checkpoint', { mode, busy: res.busy, log: res.log, checkpointed: res.checkpointed });
    if (res.log < 0) this.checkpointBackoffUntil = Date.now() + CHECKPOINT_BACKOFF_MS;
    const hdr = wal.header();
    if (hdr && !sameBytes(hdr, this.shadow!.headerBytes)) this.handOver(hdr, res.busy === 0 ? res.log : -1);
    else wal.copy(this.shadow!);
  }

  /** restartGeneration starts a new generation now (a replica found its position inconsistent). */
  restartGeneration(reason: string): void {
    if (this.state !== 'open') return;
    this.startGeneration(reason);
    this.emit('change');
  }

  /**
   * awaitRestart waits, up to `ms` and without the read lock, for the WAL header to change.
   * When our forced frame could not restart the WAL because the app was writing, the
   * app's own next transaction restarts it — if our read lock is not back in its way.
   */
  private awaitRestart(ms: number): boolean {
    const before = this.shadow!.headerBytes;
    const deadline = Date.now() + ms;
    for (;;) {
      const hdr = this.wal!.header();
      if (hdr && !sameBytes(hdr, before)) return true;
      if (Date.now() >= deadline) return false;
      sleepSync(0.25);
    }
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
    if (!this.shadow || !this.generation) return undefined;
    if (index === this.shadow.index) return this.shadow.size;
    if (index > this.shadow.index) return undefined;
    try {
      return fs.statSync(shadowWALPath(this.meta, this.generation, index)).size;
    } catch {
      return undefined;
    }
  }

  /**
   * readShadow returns bytes [start, end) of shadow WAL `index` of the current generation,
   * from memory when recent (then a view: use it before the next sync).
   */
  readShadow(index: number, start: number, end: number): Buffer {
    return this.recent.get(index, start, end) ?? readFileRange(this.shadowPath(index), start, end - start);
  }

  /** shadowPath is the file of shadow WAL `index` of the current generation. */
  shadowPath(index: number): string {
    return shadowWALPath(this.meta, this.generation!, index);
  }

  /** removeShadowBelow deletes the current generation's shadow WAL files with index < `index`. */
  removeShadowBelow(index: number): void {
    if (!this.generation) return;
    for (const i of shadowIndexes(this.meta, this.generation)) {
      if (i >= index) break;
      fs.rmSync(shadowWALPath(this.meta, this.generation, i), { force: true });
    }
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
    this.shadow?.close();
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

  /** loadShadow resumes the recorded generation's last shadow WAL, if any. */
  private loadShadow(): void {
    const gen = readGeneration(this.meta);
    if (!gen) return this.continueRestored();
    const indexes = shadowIndexes(this.meta, gen);
    const last = indexes[indexes.length - 1];
    if (last === undefined) return;
    const shadow = ShadowFile.open(this.meta, gen, last);
    if (!shadow) return;
    this.track(shadow);
    this.generation = gen;
    this.shadow = shadow;
    // At start, a real WAL header that differs from the last shadow header means frames
    // were written and checkpointed away while we were not watching: a new generation.
    const hdr = this.wal!.header();
    if (!hdr || !sameBytes(hdr, shadow.headerBytes)) this.startGeneration('wal header changed while stopped');
  }

  /**
   * continueRestored picks up the generation a restore left this database at: the file is
   * still exactly what the restore installed (restored.ts checks), so the current WAL —
   * new since the restore — continues that generation in index+1, without a snapshot.
   */
  private continueRestored(): void {
    const m = takeRestoredMarker(this.meta, this.dbFd);
    const hdr = m && this.wal!.header();
    if (!m || !hdr) return;
    this.generation = m.generation;
    this.shadow = this.track(ShadowFile.create(this.meta, m.generation, m.index + 1, hdr));
    this.wal!.copy(this.shadow);
    writeGeneration(this.meta, m.generation);
    removeOtherGenerations(this.meta, m.generation);
    this.continuedFrom = { index: m.index, offset: m.offset };
    this.log.info('continuing the restored generation', { generation: m.generation, index: hex8(m.index + 1) });
  }

  /** verifyAndCopy checks the real WAL against the shadow WAL, then copies new frames. */
  private verifyAndCopy(): void {
    const shadow = this.shadow;
    if (!this.generation || !shadow) return this.startGeneration('no generation exists');
    if (shadow.index >= MAX_INDEX) return this.startGeneration('max index exceeded');
    const walSize = this.wal!.size();
    if (walSize < shadow.size) return this.startGeneration('wal truncated by another process');
    const hdr = this.wal!.header();
    if (!hdr) return this.log.warn('wal header unreadable, will retry');
    if (!sameBytes(hdr, shadow.headerBytes)) {
      if (shadow.frames === 0) return this.startGeneration('wal header only, mismatched');
      return this.handOver(hdr, -1);
    }
    if (!this.lastFrameIntact()) return this.startGeneration('wal overwritten by another process');
    this.wal!.copy(shadow);
  }

  /** lastFrameIntact compares the last shadow frame with the real WAL at the same offset. */
  private lastFrameIntact(): boolean {
    const shadow = this.shadow!;
    if (shadow.frames === 0) return true;
    const fsz = frameSize(shadow.header.pageSize);
    const off = shadow.size - fsz;
    return this.wal!.sameAs(off, shadow.readAt(off, fsz));
  }

  /**
   * handOver moves to index+1 after the WAL restarted (its header changed while the shadow
   * holds frames). It first tries without any lock (see copyOldTail), and falls back to
   * the reference's way: the same steps under the write lock.
   */
  private handOver(hdr: Uint8Array, logFrames: number): void {
    if (this.copyOldTail(hdr, logFrames)) return this.startNextIndex(hdr);
    this.sqlite!.withWriteLock(() => {
      const now = this.wal!.header();
      if (!now) return this.startGeneration('wal header unreadable after a restart');
      if (!this.copyOldTail(now, logFrames)) return this.startGeneration(this.restartLossReason(now));
      this.startNextIndex(now);
    });
  }

  /**
   * copyOldTail copies what is left of the old WAL and proves nothing was missed. A restart
   * rewrites the WAL from its start, so while the last synced frame is intact the new WAL
   * has not reached it and every old frame after it is still there: copy them (their salts
   * and checksum chain vouch for each one), then check the last frame again — still intact
   * means the copy raced no overwrite. The new header's first salt must be the old one + 1
   * (SQLite adds one at every restart, whichever connection restarts: exactly one restart
   * happened), and when our own checkpoint counted the old WAL's frames, all of them must
   * now be in the shadow.
   */
  private copyOldTail(hdr: Uint8Array, logFrames: number): boolean {
    const shadow = this.shadow!;
    if (!isNextIncarnation(shadow.header, hdr)) return false;
    if (!this.lastFrameIntact()) return false;
    this.wal!.copy(shadow);
    if (!this.lastFrameIntact()) return false;
    return logFrames < 0 || shadow.size >= WAL_HEADER_SIZE + logFrames * frameSize(shadow.header.pageSize);
  }

  private restartLossReason(hdr: Uint8Array): string {
    if (!isNextIncarnation(this.shadow!.header, hdr)) return 'wal restarted more than once between syncs';
    return 'wal overwritten by another process';
  }

  /** startNextIndex continues the generation in shadow index+1 from the new WAL header. */
  private startNextIndex(hdr: Uint8Array): void {
    const shadow = this.shadow!;
    if (shadow.index + 1 >= MAX_INDEX) return this.startGeneration('max index exceeded');
    shadow.close();
    this.shadow = this.track(ShadowFile.create(this.meta, this.generation!, shadow.index + 1, hdr));
    this.wal!.copy(this.shadow);
    this.log.debug('wal restarted', { index: this.shadow.index });
  }

  /** track makes a shadow file report its appends to `recent`. */
  private track(shadow: ShadowFile): ShadowFile {
    shadow.recent = this.recent;
    return shadow;
  }

  /** startGeneration begins a new generation from the whole current WAL (reason logged). */
  private startGeneration(reason: string): void {
    const hdr = this.wal!.header();
    if (!hdr) return this.log.warn('wal header unreadable, will retry');
    const gen = newGeneration();
    this.log.info('new generation', { generation: gen, reason });
    this.shadow?.close();
    this.shadow = this.track(ShadowFile.create(this.meta, gen, 0, hdr));
    this.wal!.copy(this.shadow);
    writeGeneration(this.meta, gen);
    this.generation = gen;
    this.continuedFrom = undefined;
    removeOtherGenerations(this.meta, gen);
  }

  /** maybeCheckpoint runs the checkpoint the spec's rules call for, if any. */
  private maybeCheckpoint(): void {
    if (this.snapshotting > 0 || !this.shadow || Date.now() < this.checkpointBackoffUntil) return;
    const mode = decideCheckpoint({
      pageSize: this.shadow.header.pageSize,
      walSize: this.wal!.size(),
      shadowSize: this.shadow.size,
      dbModifiedMs: fs.fstatSync(this.dbFd).mtimeMs,
      nowMs: Date.now(),
      minCheckpointPageCount: this.config.minCheckpointPageCount,
      maxCheckpointPageCount: this.config.maxCheckpointPageCount,
      checkpointInterval: this.config.checkpointInterval,
    });
    if (mode) this.runCheckpoint(mode);
  }
}

/** isNextIncarnation reports whether WAL header `hdr` is the restart right after `prev` (salt-1 + 1). */
export function isNextIncarnation(prev: WALHeader, hdr: Uint8Array): boolean {
  const next = parseWALHeader(hdr);
  return next !== undefined && next.salt1 === ((prev.salt1 + 1) >>> 0);
}
