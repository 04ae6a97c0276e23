/**
 * output: the restore's footprint on the filesystem — refuse an existing output, move
 * aside stale companions of a missing one (SQLite would apply a stale `-wal` or hot
 * `-journal` to the restored file), build in a private temp directory beside the output
 * (same filesystem), and install the result without ever replacing a file.
 */
import { fs } from '../../builtin.js';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import { errorMessage } from '../../errors.js';
import { fsyncDir } from '../../fsync.js';
import { metaDir } from '../layout.js';

/** STALE_SUFFIXES are the files SQLite would pick up beside a database. */
const STALE_SUFFIXES = ['-wal', '-shm', '-journal'];

/** exists reports whether `p` exists (a dangling symlink counts: something is there). */
export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * moveAsideStale renames `<out>-wal`, `<out>-shm`, `<out>-journal` and the meta directory
 * (when the output is missing, they belong to a database that is gone) to
 * `<name>.stale-<time>`, logging each move; returns the new paths.
 */
export async function moveAsideStale(out: string, metaPath: string | undefined, logger: Logger): Promise<string[]> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const moved: string[] = [];
  for (const p of [...STALE_SUFFIXES.map((s) => out + s), metaDir(out, metaPath)]) {
    if (!(await exists(p))) continue;
    let to = `${p}.stale-${stamp}`;
    for (let n = 2; await exists(to); n++) to = `${p}.stale-${stamp}-${n}`;
    await fsp.rename(p, to);
    logger.warn('moved aside a stale file beside the missing output', { path: p, to });
    moved.push(to);
  }
  return moved;
}

/** makeTempDir creates the private build directory `<dir>/.<base>.restore-XXXXXX` beside the output. */
export async function makeTempDir(out: string): Promise<string> {
  await fsp.mkdir(path.dirname(out), { recursive: true });
  return fsp.mkdtemp(path.join(path.dirname(out), `.${path.basename(out)}.restore-`));
}

/**
 * install puts the finished (fsynced) file at `out` without replacing anything: a hard
 * link fails if `out` appeared meanwhile; where links are unsupported, a rename after a
 * last existence check. The directory is fsynced afterwards.
 */
export async function install(tmp: string, out: string): Promise<void> {
  try {
    await fsp.link(tmp, out);
    await fsp.unlink(tmp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`output ${out} appeared during the restore; left untouched`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EOPNOTSUPP') throw err;
    if (await exists(out)) throw new Error(`output ${out} appeared during the restore; left untouched`);
    await fsp.rename(tmp, out);
  }
  await fsyncDir(path.dirname(out));
}

/** integrityCheck runs `PRAGMA integrity_check` read-only; throws with SQLite's first complaints unless `ok`. */
export async function integrityCheck(dbPath: string): Promise<void> {
  let rows: string[];
  try {
    // Loaded here: a restore without the check never loads SQLite (a native addon).
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      rows = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    } finally {
      db.close();
    }
  } catch (err) {
    throw new Error(`integrity check: ${errorMessage(err)}`, { cause: err });
  }
  if (rows.length !== 1 || rows[0] !== 'ok') {
    throw new Error(`integrity check failed: ${rows.slice(0, 3).join('; ')}${rows.length > 3 ? ` (+${rows.length - 3} more)` : ''}`);
  }
}

/** removeQuietly deletes a path recursively, ignoring errors (cleanup after failure). */
export function removeQuietly(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    // cleanup is best effort; the error being reported matters more
  }
}
