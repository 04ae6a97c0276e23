/**
 * real-wal: the database's real `-wal` file, read through one descriptor opened once and
 * never closed (closing any descriptor on a database file drops SQLite's POSIX locks in
 * this process). It copies newly committed frames to the shadow WAL: whole frames from
 * the shadow's end, following the salts and the checksum chain, up to the last commit
 * frame only — a torn transaction is never copied.
 */
import { fs } from '../builtin.js';
import type { Logger } from '../log.js';
import { SCAN_CHUNK, type ShadowFile, readFull } from './shadow.js';
import { type Checksum, WAL_HEADER_SIZE, frameSize, parseWALHeader, scanFrames } from './wal.js';

/** FIRST_READ is the size of the first read of each copy (then doubled per read). */
export const FIRST_READ = 64 * 1024;

/** RealWAL reads and copies from one open real WAL file. */
export class RealWAL {
  private readonly walFd: number;
  private readonly log: Logger;
  private lastStop = '';
  private buf = new Uint8Array(64 * 1024);

  constructor(walFd: number, log: Logger) {
    this.walFd = walFd;
    this.log = log;
  }

  /** size is the WAL file's current size in bytes. */
  size(): number {
    return fs.fstatSync(this.walFd).size;
  }

  /** header returns the WAL header bytes if the file holds a valid one. */
  header(): Uint8Array | undefined {
    const buf = new Uint8Array(WAL_HEADER_SIZE);
    if (readFull(this.walFd, buf, WAL_HEADER_SIZE, 0) < WAL_HEADER_SIZE) return undefined;
    return parseWALHeader(buf) ? buf : undefined;
  }

  /**
   * startsWithPage reports whether the WAL's first frame is a one-frame commit of page
   * `pgno` under the current header's salts: our own `_litestream_seq` write restarted it.
   */
  startsWithPage(pgno: number): boolean {
    const hdr = this.header();
    if (!hdr) return false;
    const h = parseWALHeader(hdr)!;
    const f = Buffer.alloc(24);
    if (readFull(this.walFd, f, 24, WAL_HEADER_SIZE) < 24) return false;
    return f.readUInt32BE(0) === pgno && f.readUInt32BE(4) !== 0 && f.readUInt32BE(8) === h.salt1 && f.readUInt32BE(12) === h.salt2;
  }

  /** sameAs reports whether `length` bytes at `offset` equal `expected` (a frame of the shadow WAL). */
  sameAs(offset: number, expected: Uint8Array): boolean {
    const buf = new Uint8Array(expected.length);
    if (readFull(this.walFd, buf, buf.length, offset) < buf.length) return false;
    return sameBytes(buf, expected);
  }

  /**
   * copy appends every newly committed frame to `shadow`; returns the number of bytes
   * copied. It reads the WAL once, into a reused buffer, appending each chunk's committed
   * part as it goes; only a transaction spanning chunks is read twice. Chunks start at
   * FIRST_READ and double up to SCAN_CHUNK: after a restart the file still holds the old
   * WAL's frames past the new ones, and reading all of them at every look (megabytes,
   * to find that the first is stale) cost more than the copying itself.
   */
  copy(shadow: ShadowFile): number {
    const fsz = frameSize(shadow.header.pageSize);
    const start = shadow.size;
    const end = start + Math.floor((this.size() - start) / fsz) * fsz;
    if (end <= start) return 0;
    const maxChunk = Math.max(1, Math.floor(SCAN_CHUNK / fsz)) * fsz;
    if (this.buf.length < Math.min(maxChunk, end - start)) this.buf = new Uint8Array(Math.min(maxChunk, Math.max(end - start, 2 * this.buf.length)));
    let chunk = Math.max(1, Math.floor(FIRST_READ / fsz)) * fsz;
    let off = start;
    let sum = shadow.checksum;
    while (off < end) {
      const want = Math.min(chunk, this.buf.length - (this.buf.length % fsz), end - off);
      const n = readFull(this.walFd, this.buf, want, off);
      const scan = scanFrames(shadow.header, this.buf.subarray(0, n), sum);
      if (scan.commitEnd > 0 && !this.appendCommitted(shadow, off, scan.commitEnd, scan.commitChecksum)) break;
      if (scan.stop || scan.validEnd < want) {
        this.noteStop(scan.stop ?? 'partial', off + scan.validEnd);
        break;
      }
      sum = scan.validChecksum;
      off += n;
      chunk = Math.min(2 * chunk, maxChunk);
    }
    return shadow.size - start;
  }

  /**
   * appendCommitted appends the frames up to `off + commitEnd`: straight from the buffer
   * when the shadow ends where this chunk starts, else (a transaction that began in an
   * earlier chunk) by reading the whole run again. What is read again is checked again —
   * salts, the checksum chain from the shadow's end, and the commit checksum the first
   * read found — since without our read lock (the lock-free hand-over) the WAL may have
   * been rewritten in between; then the run is taken back whole and false returned.
   */
  private appendCommitted(shadow: ShadowFile, off: number, commitEnd: number, checksum: Checksum): boolean {
    if (shadow.size === off) {
      shadow.append(this.buf.subarray(0, commitEnd), checksum);
      return true;
    }
    const stop = off + commitEnd;
    const runStart = shadow.size;
    const runChecksum = shadow.checksum;
    const fsz = frameSize(shadow.header.pageSize);
    const buf = new Uint8Array(Math.min(Math.max(1, Math.floor(SCAN_CHUNK / fsz)) * fsz, stop - shadow.size));
    while (shadow.size < stop) {
      const want = Math.min(buf.length, stop - shadow.size);
      const piece = buf.subarray(0, readFull(this.walFd, buf, want, shadow.size));
      const scan = scanFrames(shadow.header, piece, shadow.checksum);
      const last = shadow.size + want === stop;
      const same = scan.validEnd === want && (!last || (scan.commitEnd === want && sameChecksum(scan.commitChecksum, checksum)));
      if (!same) {
        this.log.debug('wal changed while copying: taking the run back', { offset: shadow.size });
        shadow.rewind(runStart, runChecksum);
        return false;
      }
      shadow.append(piece, last ? checksum : scan.validChecksum);
    }
    return true;
  }

  /**
   * noteStop logs (once per distinct place) why copying stopped before the end of the WAL:
   * a salt change or a bad checksum is normal past the last commit (old frames of an
   * earlier WAL, or a transaction still being written), so this is debug-level.
   */
  private noteStop(stop: string | undefined, at: number): void {
    if (!stop || stop === 'partial') return;
    const key = `${stop}@${at}`;
    if (key === this.lastStop) return;
    this.lastStop = key;
    this.log.debug('wal copy stopped', { reason: stop === 'salt' ? 'salt mismatch' : 'checksum mismatch', offset: at });
  }
}

/** sameChecksum compares two running frame checksums. */
function sameChecksum(a: Checksum, b: Checksum): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/** sameBytes compares two byte arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
