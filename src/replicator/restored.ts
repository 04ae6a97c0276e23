/**
 * restored: the marker a restore leaves in the database's meta directory, so that the
 * replicator's next start can continue the restored generation in index+1 instead of
 * starting a new one with a full snapshot (the reference's #393/#627: every deploy on an
 * ephemeral disk re-uploads the whole database). Written only when the restore brought
 * the database to the end of its generation; trusted only while the database file is
 * exactly what the restore installed (same inode, size and modification time).
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { writeFileDurableSync } from '../fsync.js';
import { isGeneration } from './pos.js';

/** RESTORED_FILE is the marker's name inside the meta directory. */
export const RESTORED_FILE = 'restored.json';

/** RestoredMarker: the generation and the end of its last WAL index, and the installed file's identity. */
export interface RestoredMarker {
  generation: string;
  index: number;
  offset: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** writeRestoredMarker records that `dbPath` holds `generation` up to the end (`offset`) of WAL index `index`. */
export function writeRestoredMarker(meta: string, dbPath: string, at: { generation: string; index: number; offset: number }): void {
  const st = fs.statSync(dbPath);
  fs.mkdirSync(meta, { recursive: true });
  const marker: RestoredMarker = { ...at, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  writeFileDurableSync(path.join(meta, RESTORED_FILE), `${JSON.stringify(marker)}\n`);
}

/**
 * takeRestoredMarker reads and removes the marker; it returns it only if the database file
 * (stat of its open descriptor `dbFd`) is still the one the restore installed.
 */
export function takeRestoredMarker(meta: string, dbFd: number): RestoredMarker | undefined {
  const file = path.join(meta, RESTORED_FILE);
  let m: RestoredMarker;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as RestoredMarker;
  } catch {
    return undefined;
  }
  fs.rmSync(file, { force: true });
  const st = fs.fstatSync(dbFd);
  const valid = isGeneration(m.generation) && Number.isInteger(m.index) && Number.isInteger(m.offset) && m.offset > 0;
  return valid && st.ino === m.ino && st.size === m.size && st.mtimeMs === m.mtimeMs ? m : undefined;
}
