/**
 * pagecopy: copy pages out of on-disk WAL files into the database file with few system
 * calls — frames that lie close together in a WAL are read with one read, and pages with
 * consecutive numbers are written with one writev. Synchronous: it runs once per flush,
 * on files this process just wrote (in the page cache).
 */
import { fs } from '../../builtin.js';

/** WINDOW is the largest span of one WAL file read at once. */
const WINDOW = 4 << 20;
/** MAX_IOV caps the buffers handed to one writev (IOV_MAX is 1024 on Linux). */
const MAX_IOV = 1024;

/**
 * writePages writes, for each WAL slot, the pages listed as [pgno, page offset in the WAL
 * file] pairs into `fd` at (pgno − 1) × pageSize; returns the number of pages written.
 */
export function writePages(fd: number, pageSize: number, bySlot: Map<number, number[]>, pathOf: (slot: number) => string): number {
  let written = 0;
  // One read buffer for every WAL: no window-sized garbage per file.
  const buf = Buffer.allocUnsafe(Math.max(WINDOW, pageSize));
  for (const [slot, pairs] of bySlot) {
    const wal = fs.openSync(pathOf(slot), 'r');
    try {
      written += copyFromWAL(wal, fd, pageSize, pairs, buf);
    } finally {
      fs.closeSync(wal);
    }
  }
  return written;
}

/** copyFromWAL copies one WAL's listed pages, window by window in file order, reading through `buf`. */
function copyFromWAL(wal: number, db: number, pageSize: number, pairs: number[], buf: Buffer): number {
  const n = pairs.length / 2;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => pairs[2 * a + 1] - pairs[2 * b + 1]);
  let i = 0;
  while (i < n) {
    const start = pairs[2 * order[i] + 1];
    let j = i + 1;
    while (j < n && pairs[2 * order[j] + 1] + pageSize - start <= buf.length) j++;
    readFull(wal, buf, pairs[2 * order[j - 1] + 1] + pageSize - start, start);
    const pages: [number, Buffer][] = [];
    for (let k = i; k < j; k++) {
      const off = pairs[2 * order[k] + 1] - start;
      pages.push([pairs[2 * order[k]], buf.subarray(off, off + pageSize)]);
    }
    writeRuns(db, pageSize, pages);
    i = j;
  }
  return n;
}

/** writeRuns writes pages sorted by number, one writev per run of consecutive page numbers. */
function writeRuns(db: number, pageSize: number, pages: [number, Buffer][]): void {
  pages.sort((a, b) => a[0] - b[0]);
  let i = 0;
  while (i < pages.length) {
    let j = i + 1;
    while (j < pages.length && j - i < MAX_IOV && pages[j][0] === pages[j - 1][0] + 1) j++;
    const bufs = pages.slice(i, j).map((p) => p[1]);
    const pos = (pages[i][0] - 1) * pageSize;
    const n = fs.writevSync(db, bufs, pos);
    if (n !== bufs.length * pageSize) writeRest(db, bufs, pos, n, pageSize);
    i = j;
  }
}

/** writeRest finishes a short writev page by page. */
function writeRest(db: number, bufs: Buffer[], pos: number, done: number, pageSize: number): void {
  for (let k = Math.floor(done / pageSize); k < bufs.length; k++) {
    const skip = k === Math.floor(done / pageSize) ? done % pageSize : 0;
    writeFull(db, bufs[k].subarray(skip), pos + k * pageSize + skip);
  }
}

/** readFull reads exactly `len` bytes at `pos` into buf[0..len). */
function readFull(fd: number, buf: Buffer, len: number, pos: number): void {
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new Error(`read wal file: unexpected end at offset ${pos + got}`);
    got += n;
  }
}

/** writeFull writes all of `buf` at `pos`. */
function writeFull(fd: number, buf: Buffer, pos: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, pos + done);
}
