/** sqlite: real SQLite files for tests — WAL-mode databases, rows, digests, integrity checks. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';

/** openWAL opens (creating if needed) a WAL-mode database with table t(id INTEGER PRIMARY KEY, v TEXT). */
export function openWAL(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = wal');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  return db;
}

/** insertRows commits `n` transactions of one row each (ids continue from the current max). */
export function insertRows(db: Database.Database, n: number, size = 100): void {
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  for (let i = 0; i < n; i++) ins.run(crypto.randomBytes(size / 2).toString('hex'));
}

/** rowsDigest is sha256 of `id|v\n` lines ordered by id — the fixtures' `digest`. */
export function rowsDigest(file: string): { rows: number; digest: string } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT id, v FROM t ORDER BY id').all() as { id: number; v: string }[];
    const text = rows.map((r) => `${r.id}|${r.v}\n`).join('');
    return { rows: rows.length, digest: crypto.createHash('sha256').update(text).digest('hex') };
  } finally {
    db.close();
  }
}

/**
 * countRows counts the rows of t through a short read-only connection, while another
 * process may be writing; 0 while the file or the table does not exist yet.
 */
export function countRows(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } catch (err) {
    if (/no such table/.test((err as Error).message)) return 0;
    throw err;
  } finally {
    db.close();
  }
}

/** integrityCheck returns `PRAGMA integrity_check`'s first answer ('ok' when sound). */
export function integrityCheck(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`integrity check: ${file} does not exist`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
