/**
 * wal: the SQLite WAL file format — header, frame headers and the chained checksums
 * (https://www.sqlite.org/fileformat.html#walformat). Pure functions on byte arrays.
 * Fields are stored big-endian; only the checksum arithmetic follows the magic.
 */

/** WAL_HEADER_SIZE is the size of the WAL file header. */
export const WAL_HEADER_SIZE = 32;

/** WAL_FRAME_HEADER_SIZE is the size of each frame header. */
export const WAL_FRAME_HEADER_SIZE = 24;

const MAGIC_LE = 0x377f0682;
const BIG_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;
const MAGIC_BE = 0x377f0683;

/** WALHeader is a parsed WAL file header. */
export interface WALHeader {
  bigEndian: boolean;
  version: number;
  pageSize: number;
  checkpointSeq: number;
  salt1: number;
  salt2: number;
  checksum1: number;
  checksum2: number;
}

/** WALFrameHeader is a parsed frame header; `commit` > 0 marks a commit frame (db size in pages). */
export interface WALFrameHeader {
  pgno: number;
  commit: number;
  salt1: number;
  salt2: number;
  checksum1: number;
  checksum2: number;
}

/** Checksum is the pair of running checksum words. */
export type Checksum = [number, number];

/** u32 reads a big-endian unsigned 32-bit integer. */
export function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** putU32 writes a big-endian unsigned 32-bit integer. */
export function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** frameSize is the size of one frame for `pageSize`. */
export function frameSize(pageSize: number): number {
  return WAL_FRAME_HEADER_SIZE + pageSize;
}

/**
 * walChecksum continues the checksum `[s0, s1]` over `len` bytes of `b` from `off`
 * (`len` a multiple of 8), with words read in the byte order the magic names.
 */
export function walChecksum(bigEndian: boolean, b: Uint8Array, off: number, len: number, s: Checksum): Checksum {
  // int32 arithmetic (| 0) keeps the sums in registers; >>> 0 makes them uint32 at the end.
  let s0 = s[0] | 0;
  let s1 = s[1] | 0;
  const end = off + len;
  if (bigEndian === BIG_ENDIAN_HOST && len >= 64 && (b.byteOffset + off) % 4 === 0) {
    // Words in the host's own order, aligned: read them directly (pages are, in practice).
    const w = new Int32Array(b.buffer, b.byteOffset + off, len >>> 2);
    for (let i = 0; i < w.length; i += 2) {
      s0 = (s0 + w[i] + s1) | 0;
      s1 = (s1 + w[i + 1] + s0) | 0;
    }
  } else if (bigEndian) {
    for (let i = off; i < end; i += 8) {
      s0 = (s0 + ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) + s1) | 0;
      s1 = (s1 + ((b[i + 4] << 24) | (b[i + 5] << 16) | (b[i + 6] << 8) | b[i + 7]) + s0) | 0;
    }
  } else {
    for (let i = off; i < end; i += 8) {
      s0 = (s0 + ((b[i + 3] << 24) | (b[i + 2] << 16) | (b[i + 1] << 8) | b[i]) + s1) | 0;
      s1 = (s1 + ((b[i + 7] << 24) | (b[i + 6] << 16) | (b[i + 5] << 8) | b[i + 4]) + s0) | 0;
    }
  }
  return [s0 >>> 0, s1 >>> 0];
}

/** parseWALHeader parses and verifies a WAL header; undefined if the magic, size or checksum is wrong. */
export function parseWALHeader(b: Uint8Array): WALHeader | undefined {
  if (b.length < WAL_HEADER_SIZE) return undefined;
  const magic = u32(b, 0);
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) return undefined;
  const bigEndian = magic === MAGIC_BE;
  const raw = u32(b, 8);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const hdr: WALHeader = {
    bigEndian,
    version: u32(b, 4),
    pageSize,
    checkpointSeq: u32(b, 12),
    salt1: u32(b, 16),
    salt2: u32(b, 20),
    checksum1: u32(b, 24),
    checksum2: u32(b, 28),
  };
  const [c1, c2] = walChecksum(bigEndian, b, 0, 24, [0, 0]);
  return c1 === hdr.checksum1 && c2 === hdr.checksum2 ? hdr : undefined;
}

/** parseFrameHeader reads the 24-byte frame header at `off`. */
export function parseFrameHeader(b: Uint8Array, off: number): WALFrameHeader {
  return {
    pgno: u32(b, off),
    commit: u32(b, off + 4),
    salt1: u32(b, off + 8),
    salt2: u32(b, off + 12),
    checksum1: u32(b, off + 16),
    checksum2: u32(b, off + 20),
  };
}

/**
 * checkFrame verifies the frame at `off` against the header's salts and the running
 * checksum `prev`; it returns the frame's checksum, or undefined if the frame is not valid.
 */
export function checkFrame(hdr: WALHeader, b: Uint8Array, off: number, prev: Checksum): Checksum | undefined {
  if (u32(b, off + 8) !== hdr.salt1 || u32(b, off + 12) !== hdr.salt2) return undefined;
  let sum = walChecksum(hdr.bigEndian, b, off, 8, prev);
  sum = walChecksum(hdr.bigEndian, b, off + WAL_FRAME_HEADER_SIZE, hdr.pageSize, sum);
  if (sum[0] !== u32(b, off + 16) || sum[1] !== u32(b, off + 20)) return undefined;
  return sum;
}

/** ScanResult is how far a run of frames is valid and where its last commit ends. */
export interface ScanResult {
  /** validEnd: byte offset (relative to the scanned buffer) after the last valid frame. */
  validEnd: number;
  /** commitEnd: byte offset after the last valid commit frame (the only safe place to stop). */
  commitEnd: number;
  /** checksum after the last valid commit frame. */
  commitChecksum: Checksum;
  /** checksum after the last valid frame (to continue a scan in the next chunk). */
  validChecksum: Checksum;
  /** reason the scan stopped before the end of the buffer, if it did. */
  stop?: 'salt' | 'checksum' | 'partial';
}

/**
 * scanFrames walks whole frames in `b` (which starts at a frame boundary), chaining the
 * checksum from `prev`, and reports the extent of valid and committed frames.
 */
export function scanFrames(hdr: WALHeader, b: Uint8Array, prev: Checksum): ScanResult {
  const fsz = frameSize(hdr.pageSize);
  let sum = prev;
  let off = 0;
  const res: ScanResult = { validEnd: 0, commitEnd: 0, commitChecksum: prev, validChecksum: prev };
  while (off + fsz <= b.length) {
    if (u32(b, off + 8) !== hdr.salt1 || u32(b, off + 12) !== hdr.salt2) {
      res.stop = 'salt';
      return res;
    }
    const next = checkFrame(hdr, b, off, sum);
    if (!next) {
      res.stop = 'checksum';
      return res;
    }
    sum = next;
    off += fsz;
    res.validEnd = off;
    res.validChecksum = sum;
    if (u32(b, off - fsz + 4) !== 0) {
      res.commitEnd = off;
      res.commitChecksum = sum;
    }
  }
  if (off < b.length) res.stop = 'partial';
  return res;
}

/** encodeWALHeader builds a WAL header with a correct checksum (for tests and tools). */
export function encodeWALHeader(h: Omit<WALHeader, 'checksum1' | 'checksum2'>): Uint8Array {
  const b = new Uint8Array(WAL_HEADER_SIZE);
  putU32(b, 0, h.bigEndian ? MAGIC_BE : MAGIC_LE);
  putU32(b, 4, h.version);
  putU32(b, 8, h.pageSize === 65536 ? 1 : h.pageSize);
  putU32(b, 12, h.checkpointSeq);
  putU32(b, 16, h.salt1);
  putU32(b, 20, h.salt2);
  const [c1, c2] = walChecksum(h.bigEndian, b, 0, 24, [0, 0]);
  putU32(b, 24, c1);
  putU32(b, 28, c2);
  return b;
}
