/**
 * sqlite: the replicator's SQLite connections to one database, as the reference uses them:
 * `conn` for pragmas, checkpoints, the `_litestream_seq` write and the hand-over write
 * lock; `reader` only to hold the long read transaction (the read lock) that keeps other
 * connections from restarting the WAL past frames we have not copied.
 */
import { fs } from '../builtin.js';
import Database from 'better-sqlite3';


/** CheckpointMode is a `PRAGMA wal_checkpoint` mode. */
export type CheckpointMode = 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE';

/** CheckpointResult is the pragma's answer: busy flag, frames in the WAL, frames checkpointed. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** sleepSync blocks the thread for `ms` milliseconds (short waits inside the synchronous checkpoint step). */
export function sleepSync(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms);
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * checkSQLiteHeader reads the first bytes of an already open database file descriptor and
 * throws a clear error if the file is not a SQLite database. Returns false for an empty file.
 */
export function checkSQLiteHeader(fd: number, file: string): boolean {
  const buf = Buffer.alloc(100);
  const n = fs.readSync(fd, buf, 0, 100, 0);
  if (n === 0) return false;
  if (n < 100 || !buf.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new Error(`${file}: not a SQLite database (file starts with ${JSON.stringify(printable(buf.subarray(0, Math.min(n, 16))))})`);
  }
  return true;
}

/** enableWAL switches the database to WAL mode and returns the resulting journal mode. */
function enableWAL(conn: Database.Database, file: string): string {
  try {
    return String(conn.pragma('journal_mode = wal', { simple: true }));
  } catch (err) {
    throw new Error(`${file}: cannot enable WAL mode: ${(err as Error).message}`);
  }
}

function printable(b: Buffer): string {
  return b.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}

/** SQLiteConn is the pair of connections the replicator keeps open on one database. */
export class SQLiteConn {
  readonly conn: Database.Database;
  readonly reader: Database.Database;
  readonly pageSize: number;
  private readonly busyTimeout: number;
  private readLocked = false;

  private constructor(conn: Database.Database, reader: Database.Database, busyTimeout: number) {
    this.conn = conn;
    this.reader = reader;
    this.busyTimeout = busyTimeout;
    this.pageSize = Number(conn.pragma('page_size', { simple: true }));
  }

  /**
   * open connects to an existing SQLite database, switches it to WAL mode (an error if it
   * cannot), turns off our autocheckpoints and creates the reference's two tables.
   */
  static open(file: string, busyTimeout: number): SQLiteConn {
    const conn = new Database(file, { fileMustExist: true });
    try {
      conn.pragma(`busy_timeout = ${Math.round(busyTimeout)}`);
      const mode = enableWAL(conn, file);
      if (mode !== 'wal') throw new Error(`${file}: cannot enable WAL mode (journal_mode stays "${mode}")`);
      conn.pragma('wal_autocheckpoint = 0');
      conn.exec('CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)');
      conn.exec('CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER)');
    } catch (err) {
      conn.close();
      throw err;
    }
    const reader = new Database(file, { fileMustExist: true });
    reader.pragma(`busy_timeout = ${Math.round(busyTimeout)}`);
    reader.pragma('wal_autocheckpoint = 0');
    return new SQLiteConn(conn, reader, Math.round(busyTimeout));
  }

  /** writeSeq forces a frame into the WAL (upsert `_litestream_seq` id=1 seq+1). */
  writeSeq(): void {
    this.conn.exec('INSERT INTO _litestream_seq (id, seq) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1');
  }

  /** acquireReadLock opens the long read transaction (no-op if held). */
  acquireReadLock(): void {
    if (this.readLocked) return;
    this.reader.exec('BEGIN');
    try {
      this.reader.prepare('SELECT COUNT(1) FROM _litestream_seq').get();
    } catch (err) {
      this.reader.exec('ROLLBACK');
      throw err;
    }
    this.readLocked = true;
  }

  /** hasReadLock reports whether the long read transaction is held. */
  get hasReadLock(): boolean {
    return this.readLocked;
  }

  /** releaseReadLock ends the long read transaction (no-op if not held). */
  releaseReadLock(): void {
    if (!this.readLocked) return;
    this.readLocked = false;
    this.reader.exec('ROLLBACK');
  }

  /** checkpoint runs `PRAGMA wal_checkpoint(mode)`; the caller releases the read lock first. */
  checkpoint(mode: CheckpointMode): CheckpointResult {
    const row = this.conn.prepare(`PRAGMA wal_checkpoint(${mode})`).raw().get() as number[];
    return { busy: Number(row[0]), log: Number(row[1]), checkpointed: Number(row[2]) };
  }

  /**
   * beginWrite takes the database's write lock on `conn` (BEGIN IMMEDIATE), waiting at
   * most `waitMs`; false when another connection kept it. No other connection can append
   * to the WAL until commitSeq or rollback.
   */
  beginWrite(waitMs: number): boolean {
    this.conn.pragma(`busy_timeout = ${Math.round(waitMs)}`);
    try {
      this.conn.exec('BEGIN IMMEDIATE');
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      return false;
    } finally {
      this.conn.pragma(`busy_timeout = ${this.busyTimeout}`);
    }
  }

  /**
   * commitSeq ends beginWrite with the `_litestream_seq` write: a WAL that is fully
   * checkpointed restarts with it, and with `shrink` its file is cut down to that write's
   * frames (SQLite's journal_size_limit applies when a commit restarts the WAL).
   */
  commitSeq(shrink = false): void {
    if (shrink) this.conn.pragma('journal_size_limit = 0');
    try {
      this.writeSeq();
      this.conn.exec('COMMIT');
    } catch (err) {
      this.rollback();
      throw err;
    } finally {
      if (shrink) this.conn.pragma('journal_size_limit = -1');
    }
  }

  /** rollback ends beginWrite without writing (no-op outside a transaction). */
  rollback(): void {
    if (this.conn.inTransaction) this.conn.exec('ROLLBACK');
  }

  /** seqPage is the page number of `_litestream_seq` (its one row lives on its root page). */
  seqPage(): number {
    return Number(this.conn.prepare("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = '_litestream_seq'").pluck().get());
  }

  /**
   * withWriteLock runs `fn` while holding the database's write lock (BEGIN; an insert into
   * `_litestream_lock` that is always rolled back), so no other connection can append to
   * the WAL meanwhile. Only used at checkpoint hand-over, never on the normal sync path.
   */
  withWriteLock<T>(fn: () => T): T {
    this.conn.exec('BEGIN');
    try {
      this.conn.exec('INSERT INTO _litestream_lock (id) VALUES (1)');
      return fn();
    } finally {
      this.conn.exec('ROLLBACK');
    }
  }

  /**
   * close closes both connections. When ours is the last connection SQLite checkpoints and
   * deletes the WAL — a clean process exit skips this on purpose (see Db.close).
   */
  close(): void {
    this.releaseReadLock();
    this.reader.close();
    this.conn.close();
  }
}
