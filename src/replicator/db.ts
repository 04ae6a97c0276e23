/**
 * db: one replicated database (the reference's DB), the façade the replicator and the
 * replicas use. It opens the database once its file exists (db-open.ts), keeps the read
 * lock, has the shadow WAL (shadow-wal.ts) follow every committed transaction of the real
 * WAL, checkpoints through its Checkpointer (checkpointer.ts), and gives snapshots and
 * uploads their reads of the database file and the shadow WAL.
 *
 * Everything here is synchronous on purpose: better-sqlite3 is synchronous, and doing the
 * copy → release lock → checkpoint → re-lock → compare-header sequence without yielding
 * keeps the window in which another process could restart the WAL as short as possible.
 */
import { EventEmitter } from 'node:events';
import { fs } from '../builtin.js';
import type { Readable } from 'node:stream';
import { DEFAULT_BUSY_TIMEOUT } from '../config/defaults.js';
import type { DbConfig } from '../config/types.js';
import { log as rootLog, type Logger } from '../log.js';
import { Checkpointer } from './checkpointer.js';
import type { GenerationOrigin } from './claim.js';
import { type OpenedDatabase, ensureWALHeader, openDatabase } from './db-open.js';
import { metaDir } from './layout.js';
import type { Pos } from './pos.js';
import type { CheckpointMode } from './sqlite.js';
import { DbStats } from './stats.js';

/** DbState: waiting for the file to exist, open and replicating, or closed. */
export type DbState = 'waiting' | 'open' | 'closed';

/** Db replicates one SQLite database into its shadow WAL; emits `open` once opened and `change` when the position moves. */
export class Db extends EventEmitter {
  readonly path: string;
  readonly walPath: string;
  readonly meta: string;
  readonly config: DbConfig;
  readonly log: Logger;
  state: DbState = 'waiting';
  /** stats count syncs and checkpoints (the metrics endpoint reads them). */
  readonly stats = new DbStats();
  /** opened holds our descriptors, connection and WAL files once open (db-open.ts). */
  private opened: OpenedDatabase | undefined;
  private checkpointer: Checkpointer | undefined;
  private snapshotting = 0;
  /**
   * lookAgainIn is set by a sync that expects the WAL to reach `min-checkpoint-page-count`
   * before the next regular look: the next look should come in this many ms (see
   * Checkpointer.stepAside).
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
    return this.opened?.shadows.generation;
  }

  /** continuedFrom is where a restored generation ended, when this run continues it (shadow-wal.ts). */
  get continuedFrom(): { index: number; offset: number } | undefined {
    return this.opened?.shadows.continuedFrom;
  }

  /** origin is how this run came to write the current generation (claim.ts), once open. */
  get origin(): GenerationOrigin {
    const from = this.opened?.shadows.continuedFrom;
    if (from) return { kind: 'restored', ...from };
    const shadows = this.opened?.shadows;
    return shadows?.startedHere ? { kind: 'new', after: shadows.previousGeneration } : { kind: 'resumed' };
  }

  /** pos is the current shadow position (generation, index, committed size), once open. */
  pos(): Pos | undefined {
    return this.opened?.shadows.pos();
  }

  /** pageSize is the database's page size (0 until open). */
  get pageSize(): number {
    return this.opened?.sqlite.pageSize ?? 0;
  }

  /**
   * open opens the database if its file exists and holds a SQLite header; otherwise the
   * Db stays `waiting` (first boot: the app creates it), says so once, and open returns
   * false. A file that is not SQLite, or cannot use WAL mode, is an error.
   */
  open(): boolean {
    if (this.state !== 'waiting') return this.state === 'open';
    const opened = openDatabase({
      path: this.path,
      walPath: this.walPath,
      meta: this.meta,
      busyTimeout: this.config.busyTimeout ?? DEFAULT_BUSY_TIMEOUT,
      log: this.log,
      beforeOpen: this.beforeOpen,
    });
    if ('waiting' in opened) return this.stillWaiting(opened.waiting);
    this.opened = opened;
    const { sqlite, wal, shadows, dbFd } = opened;
    this.checkpointer = new Checkpointer(sqlite, wal, shadows, dbFd, this.config, this.stats, this.log);
    this.state = 'open';
    this.log.info('opened', { generation: this.generation ?? 'none' });
    this.emit('open');
    return true;
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
    const { sqlite, wal, shadows } = this.opened!;
    const checkpointer = this.checkpointer!;
    return this.stats.timeSync(() => {
      const before = this.posKey();
      this.retakeReadLock();
      ensureWALHeader(sqlite, this.walPath, wal);
      shadows.verifyAndCopy();
      checkpointer.measureRate();
      if (this.snapshotting === 0) this.lookAgainIn = checkpointer.maybeCheckpoint();
      return this.changedSince(before);
    });
  }

  /** appendedBytes is how many frame bytes this run has copied to the shadow WAL. */
  get appendedBytes(): number {
    return this.opened?.shadows.appendedBytes ?? 0;
  }

  /** checkpoint runs a checkpoint of `mode` now (tests and tools); emits `change` if the position moved. */
  checkpoint(mode: CheckpointMode): void {
    if (this.state !== 'open' || this.snapshotting > 0) return;
    const before = this.posKey();
    this.checkpointer!.run(mode);
    this.changedSince(before);
  }

  /** restartGeneration starts a new generation now (a replica found its position inconsistent). */
  restartGeneration(reason: string): void {
    if (this.state !== 'open') return;
    this.opened!.shadows.startGeneration(reason);
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
   * one: see db-open.ts). Call between beginSnapshot/endSnapshot, with the read lock held.
   */
  snapshotStream(): Readable {
    return fs.createReadStream(this.path, { fd: this.opened?.dbFd ?? -1, start: 0, autoClose: false, highWaterMark: 1024 * 1024 });
  }

  /** shadowEnd is the committed size of shadow WAL `index` of the current generation, if it exists. */
  shadowEnd(index: number): number | undefined {
    return this.opened?.shadows.end(index);
  }

  /** makeShadowDurable fsyncs shadow WAL `index` of the current generation before an upload from it (shadow-wal.ts). */
  makeShadowDurable(index: number): void {
    this.opened?.shadows.makeDurable(index);
  }

  /** readShadow returns bytes [start, end) of shadow WAL `index` (from memory when recent: use it before the next sync). */
  readShadow(index: number, start: number, end: number): Buffer {
    return this.opened!.shadows.read(index, start, end);
  }

  /** shadowPath is the file of shadow WAL `index` of the current generation. */
  shadowPath(index: number): string {
    return this.opened!.shadows.path(index);
  }

  /** removeShadowBelow deletes the current generation's shadow WAL files with index < `index`. */
  removeShadowBelow(index: number): void {
    this.opened?.shadows.removeBelow(index);
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
    const opened = this.opened;
    opened?.shadows.close();
    if (!opts.keepWAL && opened) {
      opened.sqlite.close();
      fs.closeSync(opened.walFd);
      fs.closeSync(opened.dbFd);
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

  /**
   * retakeReadLock: re-taking the read lock after a checkpoint or a step-aside can fail
   * (SQLITE_BUSY past the busy timeout); that sync failed, and this one takes the lock
   * first. Whatever the WAL did meanwhile, verifyAndCopy then proves or starts anew.
   */
  private retakeReadLock(): void {
    const sqlite = this.opened!.sqlite;
    if (sqlite.hasReadLock) return;
    sqlite.acquireReadLock();
    this.log.info('read lock re-taken');
  }
}
