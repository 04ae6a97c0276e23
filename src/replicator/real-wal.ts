/**
 * real-wal: the database's real `-wal` file, read through one descriptor opened once and
 * never closed (closing any descriptor on a database file drops SQLite's POSIX locks in
 * this process). It copies newly committed frames to the shadow WAL: whole frames from
 * the shadow's end, following the salts and the checksum chain, up to the last commit
 * frame only — a torn transaction is never copied.
 */
import fs from 'node:fs';
import type { Logger } from '../log.js';
import { SCAN_CHUNK, type ShadowFile, readFull, scanFile } from './shadow.js';
import { WAL_HEADER_SIZE, frameSize, parseWALHeader, scanFrames } from './wal.js';

/** RealWAL reads and copies from one open real WAL file. */
export class RealWAL {
  private readonly walFd: number;
  private readonly log: Logger;
  private lastStop = '';

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

  /** sameAs reports whether `length` bytes at `offset` equal `expected` (a frame of the shadow WAL). */
  sameAs(offset: number, expected: Uint8Array): boolean {
    const buf = new Uint8Array(expected.length);
    if (readFull(this.walFd, buf, buf.length, offset) < buf.length) return false;
    return sameBytes(buf, expected);
  }

  /** copy appends every newly committed frame to `shadow`; returns the number of bytes copied. */
  copy(shadow: ShadowFile): number {
    const walSize = this.size();
    const fsz = frameSize(shadow.header.pageSize);
    const start = shadow.size;
    const avail = Math.floor((walSize - start) / fsz) * fsz;
    if (avail <= 0) return 0;
    if (avail <= SCAN_CHUNK) return this.copySmall(shadow, start, avail);
    return this.copyLarge(shadow, start, start + avail);
  }

  /** copySmall reads the new frames once, verifies them and appends the committed prefix. */
  private copySmall(shadow: ShadowFile, start: number, avail: number): number {
    const buf = new Uint8Array(avail);
    const n = readFull(this.walFd, buf, avail, start);
    const scan = scanFrames(shadow.header, buf.subarray(0, n), shadow.checksum);
    this.noteStop(scan.stop, start + scan.validEnd);
    if (scan.commitEnd === 0) return 0;
    shadow.append(buf.subarray(0, scan.commitEnd), scan.commitChecksum);
    return scan.commitEnd;
  }

  /** copyLarge scans a long run of frames in bounded chunks, then copies the committed part. */
  private copyLarge(shadow: ShadowFile, start: number, end: number): number {
    const scan = scanFile(this.walFd, shadow.header, start, end, shadow.checksum);
    this.noteStop(scan.stop, scan.commitEnd);
    if (scan.commitEnd <= start) return 0;
    const buf = new Uint8Array(Math.min(SCAN_CHUNK, scan.commitEnd - start));
    let off = start;
    while (off < scan.commitEnd) {
      const want = Math.min(buf.length, scan.commitEnd - off);
      const n = readFull(this.walFd, buf, want, off);
      if (n < want) throw new Error(`copy wal: short read at offset ${off}`);
      const last = off + n === scan.commitEnd;
      shadow.append(buf.subarray(0, n), last ? scan.commitChecksum : shadow.checksum);
      off += n;
    }
    return scan.commitEnd - start;
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

/** sameBytes compares two byte arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
