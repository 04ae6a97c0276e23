/**
 * shadow: the shadow WAL — our own copy of the committed part of each WAL incarnation
 * (`<meta>/generations/<gen>/wal/%08x.wal`: the real WAL's header, then whole committed
 * frames). Replicas upload from these files, so the real WAL can be checkpointed and
 * restarted without losing frames a replica has not sent yet. Synchronous by design: the
 * Db copies frames and checkpoints in one uninterrupted step (see db.ts, checkpointer.ts).
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { fsyncDirSync } from '../fsync.js';
import { parseShadowWALName, shadowWALDir, shadowWALPath } from './layout.js';
import { hex8 } from './pos.js';
import type { RecentBytes } from './recent.js';
import {
  type Checksum,
  type WALHeader,
  WAL_HEADER_SIZE,
  frameSize,
  parseWALHeader,
  scanFrames,
} from './wal.js';

/** SCAN_CHUNK is how many bytes of frames are read at once when scanning a WAL or shadow file. */
export const SCAN_CHUNK = 4 * 1024 * 1024;

/** ShadowFile is the open, current shadow WAL file of one WAL index. */
export class ShadowFile {
  readonly path: string;
  readonly index: number;
  readonly header: WALHeader;
  readonly headerBytes: Uint8Array;
  /** size is the committed length: the header plus whole committed frames. */
  size: number;
  /** checksum is the running frame checksum at `size`. */
  checksum: Checksum;
  /** recent, when set, receives every appended byte (see recent.ts). */
  recent: RecentBytes | undefined;
  /** durableSize is how much of the file is known to be on disk (fsynced, with its directory entry). */
  durableSize: number;
  private entryDurable: boolean;
  private fd: number;

  private constructor(path: string, index: number, fd: number, headerBytes: Uint8Array, size: number, checksum: Checksum, created: boolean) {
    this.path = path;
    this.entryDurable = !created;
    this.durableSize = created ? 0 : size;
    this.index = index;
    this.fd = fd;
    this.headerBytes = headerBytes;
    this.header = parseWALHeader(headerBytes)!;
    this.size = size;
    this.checksum = checksum;
  }

  /**
   * create starts shadow file `index` of generation `gen` with a copy of a WAL header. Like
   * append, it does not fsync (one fsync per WAL restart held up our event loop and queued
   * behind the app's checkpoint fsyncs): makeDurable does, with the directory entry,
   * before any of it is uploaded. After a power loss a missing or headerless shadow file
   * makes `load` start a new generation, the same outcome as a torn tail.
   */
  static create(meta: string, gen: string, index: number, headerBytes: Uint8Array): ShadowFile {
    const hdr = parseWALHeader(headerBytes);
    if (!hdr) throw new Error(`create shadow wal ${hex8(index)}: invalid wal header`);
    const file = shadowWALPath(meta, gen, index);
    const fd = openCreating(file, shadowWALDir(meta, gen));
    const bytes = Uint8Array.from(headerBytes.subarray(0, WAL_HEADER_SIZE));
    fs.writeSync(fd, bytes, 0, WAL_HEADER_SIZE, 0);
    return new ShadowFile(file, index, fd, bytes, WAL_HEADER_SIZE, [hdr.checksum1, hdr.checksum2], true);
  }

  /**
   * open loads an existing shadow file, verifying its frames; a torn tail (frames after the
   * last valid commit, from a crash) is cut off. Returns undefined without a valid header.
   */
  static open(meta: string, gen: string, index: number): ShadowFile | undefined {
    const file = shadowWALPath(meta, gen, index);
    const fd = fs.openSync(file, 'r+');
    const headerBytes = new Uint8Array(WAL_HEADER_SIZE);
    const n = fs.readSync(fd, headerBytes, 0, WAL_HEADER_SIZE, 0);
    const hdr = n === WAL_HEADER_SIZE ? parseWALHeader(headerBytes) : undefined;
    if (!hdr) {
      fs.closeSync(fd);
      return undefined;
    }
    const fileSize = fs.fstatSync(fd).size;
    const scan = scanFile(fd, hdr, WAL_HEADER_SIZE, fileSize, [hdr.checksum1, hdr.checksum2]);
    if (scan.commitEnd < fileSize) fs.ftruncateSync(fd, scan.commitEnd);
    return new ShadowFile(file, index, fd, headerBytes, scan.commitEnd, scan.commitChecksum, false);
  }

  /** frames is the number of frames in the file. */
  get frames(): number {
    return (this.size - WAL_HEADER_SIZE) / frameSize(this.header.pageSize);
  }

  /**
   * append adds committed frames (whole, verified by the caller). It does not fsync:
   * makeDurable does, once, before the bytes are uploaded — a page cache lost in a power
   * cut could otherwise leave stale pages whose checksums still chain, under a position a
   * replica already holds. The bytes also go to `recent`, for uploads.
   */
  append(bytes: Uint8Array, checksum: Checksum): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.size + done);
    this.recent?.add(this.index, this.size, bytes);
    this.size += bytes.length;
    this.checksum = checksum;
  }

  /**
   * makeDurable fsyncs the file (and, the first time, its directory and the generation's
   * directories, so the entry survives a power cut) unless all of it already is durable.
   */
  makeDurable(): void {
    if (this.durableSize >= this.size && this.entryDurable) return;
    const size = this.size;
    if (this.durableSize < size) fs.fsyncSync(this.fd);
    if (!this.entryDurable) syncEntries(this.path);
    this.entryDurable = true;
    this.durableSize = size;
  }

  /**
   * rewind takes the file back to `size` (a committed end it had) with its checksum there:
   * a run of frames found changed while it was copied (real-wal.ts) is not kept.
   */
  rewind(size: number, checksum: Checksum): void {
    fs.ftruncateSync(this.fd, size);
    this.size = size;
    this.checksum = checksum;
    this.durableSize = Math.min(this.durableSize, size);
  }

  /** durable reports whether all of the file, and its directory entry, is on disk. */
  get durable(): boolean {
    return this.durableSize >= this.size && this.entryDurable;
  }

  /** readAt reads `length` bytes at `offset`, from memory when they were appended recently. */
  readAt(offset: number, length: number): Uint8Array {
    const held = this.recent?.get(this.index, offset, offset + length);
    if (held) return held;
    const buf = new Uint8Array(length);
    const n = fs.readSync(this.fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  }

  /** close releases the file descriptor (shadow files hold no SQLite locks). */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** makeFileDurable fsyncs a closed shadow file and its directory entries (see ShadowFile.makeDurable). */
export function makeFileDurable(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  syncEntries(file);
}

/** syncEntries fsyncs the directories from a shadow file's up to `generations/` (they may be new). */
function syncEntries(file: string): void {
  const walDir = path.dirname(file);
  const genDir = path.dirname(walDir);
  for (const dir of [walDir, genDir, path.dirname(genDir)]) fsyncDirSync(dir);
}

/** openCreating opens `file` new for writing, creating its directory `dir` only when missing (a busy database creates a file per WAL restart). */
function openCreating(file: string, dir: string): number {
  try {
    return fs.openSync(file, 'w+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dir, { recursive: true });
  return fs.openSync(file, 'w+');
}

/** FileScan is the outcome of scanning frames of a file from an offset. */
export interface FileScan {
  commitEnd: number;
  commitChecksum: Checksum;
  stop?: 'salt' | 'checksum' | 'partial';
}

/**
 * scanFile walks the frames of `fd` in [from, to) in bounded chunks, chaining the checksum
 * from `prev`, and returns the end of the last valid commit frame.
 */
export function scanFile(fd: number, hdr: WALHeader, from: number, to: number, prev: Checksum): FileScan {
  const fsz = frameSize(hdr.pageSize);
  const chunk = Math.max(1, Math.floor(SCAN_CHUNK / fsz)) * fsz;
  const res: FileScan = { commitEnd: from, commitChecksum: prev };
  let off = from;
  let sum = prev;
  const buf = new Uint8Array(Math.min(chunk, Math.max(fsz, to - from)));
  while (off + fsz <= to) {
    const want = Math.min(buf.length, Math.floor((to - off) / fsz) * fsz);
    const n = readFull(fd, buf, want, off);
    const scan = scanFrames(hdr, buf.subarray(0, n), sum);
    if (scan.commitEnd > 0) {
      res.commitEnd = off + scan.commitEnd;
      res.commitChecksum = scan.commitChecksum;
    }
    if (scan.stop || scan.validEnd < want) {
      res.stop = scan.stop ?? 'partial';
      return res;
    }
    sum = scan.validChecksum;
    off += n;
  }
  if (off < to) res.stop = 'partial';
  return res;
}

/** readFull reads exactly `length` bytes at `position` unless the file ends first. */
export function readFull(fd: number, buf: Uint8Array, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** shadowIndexes lists the indexes of a generation's shadow WAL files, ascending. */
export function shadowIndexes(meta: string, gen: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(shadowWALDir(meta, gen));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: number[] = [];
  for (const name of names) {
    const idx = parseShadowWALName(name);
    if (idx !== undefined) out.push(idx);
  }
  return out.sort((a, b) => a - b);
}

/** readFileRange reads `len` bytes of `file` at `offset` (shadow files only: they hold no SQLite locks). */
export function readFileRange(file: string, offset: number, len: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(len);
    if (readFull(fd, buf, len, offset) < len) throw new Error(`read ${file}: unexpected end before ${offset + len}`);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
