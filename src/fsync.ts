/**
 * fsync: making writes durable — a file's data, a directory's entries (a rename, a new or
 * removed child), and the tmp-file, fsync, rename, fsync-directory sequence. The async
 * forms use `fs.promises` on first call: the init, which imports this file, never loads
 * fs/promises (and the readline it brings) unless it uses them.
 */
import { fs } from './builtin.js';
import path from 'node:path';

/** fsyncFile flushes a file's data to disk. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncDir makes a directory's entries (a rename, a new child) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncDirSync is fsyncDir for synchronous callers. */
export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** writeFileDurableSync writes `data` to `file` through `<file>.tmp`, fsyncing the file and its directory. */
export function writeFileDurableSync(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDirSync(path.dirname(file));
}
