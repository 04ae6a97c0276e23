/**
 * meta: the local meta directory next to a database (`.<file>-litestream/`): the current
 * generation name and the generations' shadow WAL folders.
 */
import type { Dirent } from 'node:fs';
import { fs } from '../builtin.js';
import path from 'node:path';
import { writeFileDurableSync } from '../fsync.js';
import { GENERATIONS_DIR } from './layout.js';
import { isGeneration } from './pos.js';

/** readGeneration returns the current generation recorded in `<meta>/generation`, if valid. */
export function readGeneration(meta: string): string | undefined {
  try {
    const text = fs.readFileSync(path.join(meta, 'generation'), 'utf8').trim();
    return isGeneration(text) ? text : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** writeGeneration records `gen` as current: tmp file, fsync, rename, fsync the directory. */
export function writeGeneration(meta: string, gen: string): void {
  fs.mkdirSync(meta, { recursive: true });
  const file = path.join(meta, 'generation');
  writeFileDurableSync(file, `${gen}\n`);
}

/** removeStaleFiles deletes leftover `*.tmp` files anywhere under the meta directory. */
export function removeStaleFiles(meta: string): void {
  let entries: Dirent[];
  try {
    entries = fs.readdirSync(meta, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith('.tmp')) fs.rmSync(path.join(e.parentPath, e.name), { force: true });
  }
}

/** removeOtherGenerations deletes every generation folder except `keep`. */
export function removeOtherGenerations(meta: string, keep: string): void {
  const dir = path.join(meta, GENERATIONS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) if (name !== keep) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}
