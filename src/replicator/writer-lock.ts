/**
 * writer-lock: one replicating process per database on a machine. The lock is a small
 * SQLite file beside the database (`.<file>-lifeboat.lock`) that the holder opens in
 * EXCLUSIVE locking mode and writes once: SQLite then keeps its POSIX (fcntl) lock on the
 * file until the connection closes or the process ends. The kernel drops that lock when
 * the process dies, kill -9 included, so a crash never leaves a stale lock behind; no pid
 * liveness guess is needed (pids are reused quickly in containers). The holder's pid is
 * stored in the file's `user_version` header field, which a refused process reads as
 * plain bytes to name it.
 *
 * POSIX locks belong to a process, and closing any descriptor of the file drops them, so
 * this module keeps its own table of the locks this process holds and never opens a
 * locked file a second time itself.
 */
import { fs } from '../builtin.js';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { loadAddon } from '../native.js';

/** USER_VERSION_OFFSET is where SQLite's header keeps `PRAGMA user_version` (4 bytes, big-endian). */
const USER_VERSION_OFFSET = 60;

/** sqlite returns better-sqlite3, loaded on first use: the init's check never needs it where the addon is built. */
function sqlite(): typeof Database {
  return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
}

/** held maps each lock file this process holds to its connection. */
const held = new Map<string, Database.Database>();

/** WriterLockError: another process (or this one) already replicates the database. */
export class WriterLockError extends Error {
  readonly dbPath: string;
  readonly pid: number | undefined;

  constructor(dbPath: string, pid: number | undefined) {
    const who = pid ? `process ${pid}` : 'another process';
    super(`database ${dbPath} is already being replicated by ${who} (only one writer per database; stop it first)`);
    this.name = 'WriterLockError';
    this.dbPath = dbPath;
    this.pid = pid;
  }
}

/** lockPath is the lock file of database `dbPath`: `<dir>/.<file>-lifeboat.lock`. */
export function lockPath(dbPath: string): string {
  return path.join(path.dirname(dbPath), `.${path.basename(dbPath)}-lifeboat.lock`);
}

/** WriterLock is a held lock; release drops it (process exit does too). */
export interface WriterLock {
  readonly path: string;
  release(): void;
}

/**
 * acquireWriterLock takes the lock of `dbPath` for this process, or throws
 * WriterLockError naming the holder. The database's directory must exist.
 */
export function acquireWriterLock(dbPath: string): WriterLock {
  const file = canonical(lockPath(dbPath));
  if (held.has(file)) throw new WriterLockError(dbPath, process.pid);
  const conn = new (sqlite())(file, { timeout: 0 });
  try {
    conn.pragma('locking_mode = EXCLUSIVE');
    conn.exec('BEGIN EXCLUSIVE');
    conn.pragma(`user_version = ${process.pid}`);
    conn.exec('COMMIT');
  } catch (err) {
    conn.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new WriterLockError(dbPath, readHolderPid(file));
    throw new Error(`lock ${file}: ${(err as Error).message}`, { cause: err });
  }
  held.set(file, conn);
  return {
    path: file,
    release() {
      if (held.get(file) !== conn) return;
      held.delete(file);
      conn.close();
    },
  };
}

/**
 * checkWriterLock throws WriterLockError if a process holds the lock of `dbPath`, without
 * taking it (the init checks before it restores and starts its replicator). It asks the
 * kernel who holds the lock file's SQLite locks (fcntl F_GETLK, through our addon), so the
 * init never loads SQLite (1.4 MB resident, bench/init.mjs); without the addon it takes
 * the lock and releases it.
 */
export function checkWriterLock(dbPath: string): void {
  if (!fs.existsSync(path.dirname(dbPath))) return;
  const file = canonical(lockPath(dbPath));
  if (held.has(file)) throw new WriterLockError(dbPath, process.pid);
  const lockHolder = loadAddon().addon?.lockHolder;
  if (!lockHolder) {
    acquireWriterLock(dbPath).release();
    return;
  }
  let pid: number;
  try {
    pid = lockHolder(file);
  } catch (err) {
    throw new Error(`lock ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (pid !== 0) throw new WriterLockError(dbPath, pid > 0 ? pid : readHolderPid(file));
}

/** canonical resolves the lock file's directory, so two spellings of one path meet in `held`. */
function canonical(file: string): string {
  try {
    return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
  } catch {
    return path.resolve(file);
  }
}

/** readHolderPid reads the holder's pid from the header (only called when this process holds no lock on the file). */
function readHolderPid(file: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(4);
    const n = fs.readSync(fd, buf, 0, 4, USER_VERSION_OFFSET);
    const pid = n === 4 ? buf.readUInt32BE(0) : 0;
    return pid > 0 ? pid : undefined;
  } finally {
    fs.closeSync(fd);
  }
}
