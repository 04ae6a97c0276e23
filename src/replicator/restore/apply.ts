/**
 * apply: bring the restored database file to the state SQLite's checkpoints would leave
 * it in, writing each page once. A complete checkpoint of one WAL (sqlite3 wal.c,
 * walCheckpoint) copies, for every page number ≤ mxPage (the database size of the WAL's
 * last commit), that page's last committed frame, skips frames of pages > mxPage, and
 * then truncates the file to mxPage × pageSize. Applied index after index, a page's final
 * bytes are its last write if no later index shrank the database below it, else zeros
 * (the file is truncated, then grows again) — unless rewritten later still.
 *
 * So the applier keeps an overlay: page → (WAL file, offset) of the write that survives,
 * dropping entries above each index's mxPage, and `floor`, the smallest size the file
 * reached. `flush` truncates the file to `floor` (zeroing what a truncation removed),
 * writes the overlay, and sets the size to the last mxPage. WAL files are kept on disk
 * until flushed, and deleted as soon as none of their frames survives.
 */
import { fs } from '../../builtin.js';
import fsp from 'node:fs/promises';
import { WAL_FRAME_HEADER_SIZE } from '../wal.js';
import { hex8 } from '../pos.js';
import type { IndexedWAL } from './walindex.js';
import { CorruptError } from './errors.js';
import { writePages } from './pagecopy.js';

/** QueuedWAL is a verified WAL index waiting on disk at `path`. */
export interface QueuedWAL extends IndexedWAL {
  path: string;
}

/** SLOT is the multiplier packing (WAL slot, frame offset) into one overlay number; offsets stay below 2^32. */
const SLOT = 2 ** 32;

/** ApplyStats counts what the applier did. */
export interface ApplyStats {
  indexes: number;
  /** pagesWritten: page writes to the database file (each page at most once per flush). */
  pagesWritten: number;
  flushes: number;
}

/** PageApplier folds verified WAL indexes, in order, into a database file holding a snapshot. */
export class PageApplier {
  readonly #dbPath: string;
  #pageSize = 0;
  #overlay = new Map<number, number>();
  #maxPage = 0;
  #floorBytes = Infinity;
  #finalPages: number | undefined;
  #wals: (QueuedWAL | undefined)[] = [];
  #live: number[] = [];
  #queuedBytes = 0;
  #deleting: Promise<void>[] = [];
  readonly stats: ApplyStats = { indexes: 0, pagesWritten: 0, flushes: 0 };

  constructor(dbPath: string) {
    this.#dbPath = dbPath;
  }

  /** queuedBytes is the size of the WAL files still held on disk for the next flush. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** pageSize is the WALs' page size (0 before the first index). */
  get pageSize(): number {
    return this.#pageSize;
  }

  /** add folds the next WAL index in; indexes must come in order. A WAL without a commit changes nothing. */
  add(wal: QueuedWAL): void {
    this.stats.indexes++;
    if (this.#pageSize === 0) this.#pageSize = wal.pageSize;
    if (wal.pageSize !== this.#pageSize) {
      throw new CorruptError(`wal index ${hex8(wal.index)}: page size ${wal.pageSize} differs from ${this.#pageSize}`);
    }
    const slot = this.#wals.length;
    this.#wals.push(wal);
    this.#live.push(0);
    this.#queuedBytes += wal.size;
    if (wal.commitSize > 0) this.#fold(slot, wal);
    this.#release(slot);
  }

  #fold(slot: number, wal: QueuedWAL): void {
    const mx = wal.commitSize;
    for (const [pgno, off] of wal.pages) {
      if (pgno > mx) continue;
      const old = this.#overlay.get(pgno);
      if (old !== undefined) this.#drop(old);
      this.#overlay.set(pgno, slot * SLOT + off);
      this.#live[slot]++;
      if (pgno > this.#maxPage) this.#maxPage = pgno;
    }
    if (mx < this.#maxPage) this.#truncateOverlay(mx);
    this.#floorBytes = Math.min(this.#floorBytes, mx * this.#pageSize);
    this.#finalPages = mx;
  }

  #truncateOverlay(mx: number): void {
    for (const [pgno, ref] of this.#overlay) {
      if (pgno <= mx) continue;
      this.#overlay.delete(pgno);
      this.#drop(ref);
    }
    this.#maxPage = mx;
  }

  #drop(ref: number): void {
    const slot = Math.floor(ref / SLOT);
    this.#live[slot]--;
    this.#release(slot);
  }

  /** release deletes a WAL file (in the background) once none of its frames survives in the overlay. */
  #release(slot: number): void {
    const wal = this.#wals[slot];
    if (!wal || this.#live[slot] > 0) return;
    this.#deleting.push(fsp.rm(wal.path, { force: true }).catch(() => {}));
    this.#queuedBytes -= wal.size;
    this.#wals[slot] = undefined;
  }

  /** flush writes the overlay into the database file and frees the WAL files (synchronous I/O). */
  flush(): void {
    if (this.#finalPages === undefined) return;
    const fd = fs.openSync(this.#dbPath, 'r+');
    try {
      const size = fs.fstatSync(fd).size;
      if (size > this.#floorBytes) fs.ftruncateSync(fd, this.#floorBytes);
      this.stats.pagesWritten += writePages(fd, this.#pageSize, this.#groupBySlot(), (slot) => this.#wals[slot]!.path);
      fs.ftruncateSync(fd, this.#finalPages * this.#pageSize);
    } finally {
      fs.closeSync(fd);
    }
    this.stats.flushes++;
    this.#floorBytes = this.#finalPages * this.#pageSize;
    this.#overlay.clear();
    this.#maxPage = 0;
    for (let slot = 0; slot < this.#wals.length; slot++) {
      this.#live[slot] = 0;
      this.#release(slot);
    }
  }

  /** groupBySlot lists the overlay as, per WAL slot, [pgno, frame offset] pairs sorted by offset. */
  #groupBySlot(): Map<number, number[]> {
    const bySlot = new Map<number, number[]>();
    for (const [pgno, ref] of this.#overlay) {
      const slot = Math.floor(ref / SLOT);
      let list = bySlot.get(slot);
      if (!list) bySlot.set(slot, (list = []));
      list.push(pgno, ref - slot * SLOT + WAL_FRAME_HEADER_SIZE);
    }
    return bySlot;
  }

  /** deletions resolves once every WAL file released so far is deleted. */
  async deletions(): Promise<void> {
    await Promise.all(this.#deleting.splice(0));
  }

  /** discard deletes every WAL file still held (after a failure). */
  discard(): void {
    for (const wal of this.#wals) if (wal) fs.rmSync(wal.path, { force: true });
    this.#wals = [];
    this.#queuedBytes = 0;
  }
}
