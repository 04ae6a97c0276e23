/**
 * db-open: opening a replicated database once its file exists — its descriptors, our
 * SQLite connection with the read lock, and the shadow WAL loaded from the meta
 * directory — or saying why it cannot be opened yet (first boot: the app creates it).
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import type { Logger } from '../log.js';
import { removeStaleFiles } from './meta.js';
import { RealWAL } from './real-wal.js';
import { ShadowWAL } from './shadow-wal.js';
import { SQLiteConn, checkSQLiteHeader } from './sqlite.js';
import { WAL_HEADER_SIZE } from './wal.js';

/** OpenTarget is what openDatabase opens: the database and WAL files, the meta directory, and the settings it needs. */
export interface OpenTarget {
  path: string;
  walPath: string;
  meta: string;
  busyTimeout: number;
  log: Logger;
  /** beforeOpen runs just before the database is opened; throwing keeps it closed (Db.beforeOpen). */
  beforeOpen: (() => void) | undefined;
}

/** OpenedDatabase is an open database: our descriptors, connection (holding the read lock), real WAL and shadow WAL. */
export interface OpenedDatabase {
  dbFd: number;
  walFd: number;
  sqlite: SQLiteConn;
  wal: RealWAL;
  shadows: ShadowWAL;
}

/**
 * openDatabase opens the database if its file exists and holds a SQLite header; otherwise
 * it returns why it is still waiting. A file that is not SQLite, or cannot use WAL mode,
 * is an error.
 */
export function openDatabase(t: OpenTarget): OpenedDatabase | { waiting: string } {
  let fd: number;
  try {
    fd = fs.openSync(t.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { waiting: missingReason(t.path) };
    throw err;
  }
  // Our descriptors stay open for the life of the process: closing any descriptor on the
  // database file would drop every POSIX lock SQLite holds on it in this process.
  if (!checkSQLiteHeader(fd, t.path)) {
    fs.closeSync(fd);
    return { waiting: 'database file is empty: waiting for its first write (e.g. by the app)' };
  }
  let sqlite: SQLiteConn;
  try {
    t.beforeOpen?.();
    sqlite = SQLiteConn.open(t.path, t.busyTimeout);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  ensureWALHeader(sqlite, t.walPath, undefined);
  const walFd = fs.openSync(t.walPath, 'r');
  const wal = new RealWAL(walFd, t.log);
  sqlite.acquireReadLock();
  removeStaleFiles(t.meta);
  const shadows = new ShadowWAL(t.meta, wal, (fn) => sqlite.withWriteLock(fn), t.log);
  shadows.load(fd);
  return { dbFd: fd, walFd, sqlite, wal, shadows };
}

/**
 * ensureWALHeader forces a frame when the WAL is shorter than its header (`wal`, once
 * open, measures it through our descriptor; before that the file is looked up by name).
 */
export function ensureWALHeader(sqlite: SQLiteConn, walPath: string, wal: RealWAL | undefined): void {
  let size = 0;
  try {
    size = wal ? wal.size() : fs.statSync(walPath).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (size < WAL_HEADER_SIZE) sqlite.writeSeq();
}

/** missingReason words a missing database file, and a missing directory too (a mistyped path shows). */
function missingReason(file: string): string {
  const dir = fs.existsSync(path.dirname(file)) ? '' : ' (nor its directory)';
  return `database file does not exist yet${dir}: waiting for it to be created (e.g. by the app)`;
}
