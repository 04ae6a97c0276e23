/**
 * block: the LZ4 block format (lz4_Block_format.md). compressBlock is the reference's
 * fast single-pass matcher (hash of 4 bytes, accelerating skip over incompressible
 * data, acceleration 1); decodeBlock is a safe decoder: every length and offset is
 * checked against both buffers before a byte moves.
 */
import { Lz4Error } from './error.js';

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MIN_INPUT = MF_LIMIT + 1;
const MAX_DISTANCE = 65535;
const SKIP_TRIGGER = 6;
const MIN_HASH_LOG = 8;
const HASH_PRIME = -1640531535; // 2654435761 as int32
const MAX_INPUT = 0x7e000000;
/** Below this many bytes a copy is a plain loop; above, a native copy pays for its call. */
const NATIVE_COPY = 32;

/** HASH_TABLE_SIZE is the size of compressBlock's default match table (64 Ki entries). */
export const HASH_TABLE_SIZE = 1 << 16;

/** compressBound is the largest size compressBlock can produce from n bytes (LZ4_compressBound). */
export function compressBound(n: number): number {
  return n + ((n / 255) | 0) + 16;
}

let sharedTable: Int32Array | undefined;

/**
 * compressBlock compresses src[0..n) as one independent LZ4 block into dst; returns the
 * bytes written, or 0 if they would not fit in dst. `table` is the scratch match table
 * (any power-of-two length ≥ 256); by default one table is shared by all calls, which is
 * safe because compression is synchronous.
 */
export function compressBlock(src: Uint8Array, dst: Uint8Array, table?: Int32Array): number {
  const n = src.length;
  if (n > MAX_INPUT) throw new RangeError(`lz4 block of ${n} bytes is too large`);
  if (n < MIN_INPUT) return Math.max(writeLastLiterals(src, 0, dst, 0), 0);
  const t = table ?? (sharedTable ??= new Int32Array(HASH_TABLE_SIZE));
  const hashLog = Math.min(tableLog(t), Math.max(MIN_HASH_LOG, 32 - Math.clz32(n - 1)));
  t.fill(0, 0, 1 << hashLog);
  return Math.max(compressMatches(src, dst, t, 32 - hashLog), 0);
}

/** tableLog is log2 of the table's usable size (its length rounded down to a power of two). */
function tableLog(table: Int32Array): number {
  if (table.length < 1 << MIN_HASH_LOG) throw new RangeError(`lz4 hash table of ${table.length} entries is too small`);
  return 31 - Math.clz32(table.length);
}

/** compressMatches is the match loop; returns the compressed size, or -1 when dst is too small. */
function compressMatches(src: Uint8Array, dst: Uint8Array, t: Int32Array, shift: number): number {
  const sv = new DataView(src.buffer, src.byteOffset, src.length);
  const mfLimit = src.length - MF_LIMIT;
  const matchLimit = src.length - LAST_LITERALS;
  let anchor = 0, op = 0, ip = 1;
  t[Math.imul(sv.getInt32(0, true), HASH_PRIME) >>> shift] = 0;
  while (ip <= mfLimit) {
    // Find a 4-byte match within 64 KB; every table entry is an earlier position (or 0).
    let ref = 0;
    for (let tries = 1 << SKIP_TRIGGER; ; ) {
      const seq = sv.getInt32(ip, true);
      const h = Math.imul(seq, HASH_PRIME) >>> shift;
      ref = t[h];
      t[h] = ip;
      if (ip - ref <= MAX_DISTANCE && sv.getInt32(ref, true) === seq) break;
      ip += tries++ >>> SKIP_TRIGGER;
      if (ip > mfLimit) return writeLastLiterals(src, anchor, dst, op);
    }
    while (ip > anchor && ref > 0 && src[ip - 1] === src[ref - 1]) { ip--; ref--; }
    const end = matchEnd(sv, ip + MIN_MATCH, ref + MIN_MATCH, matchLimit);
    op = writeSequence(src, anchor, ip, ip - ref, end - ip, dst, op);
    if (op < 0) return -1;
    anchor = ip = end;
    if (ip <= mfLimit) t[Math.imul(sv.getInt32(ip - 2, true), HASH_PRIME) >>> shift] = ip - 2;
  }
  return writeLastLiterals(src, anchor, dst, op);
}

/** matchEnd extends a match from p (against r) 4 bytes at a time; returns where it stops, at most limit. */
function matchEnd(sv: DataView, p: number, r: number, limit: number): number {
  while (p + 4 <= limit) {
    const diff = sv.getInt32(p, true) ^ sv.getInt32(r, true);
    if (diff !== 0) return p + ((31 - Math.clz32(diff & -diff)) >>> 3);
    p += 4;
    r += 4;
  }
  while (p < limit && sv.getUint8(p) === sv.getUint8(r)) { p++; r++; }
  return p;
}

/** extBytes is how many extension bytes a length field of `len` (beyond the token's 15) needs. */
function extBytes(len: number): number {
  return len >= 15 ? ((len - 15) / 255 | 0) + 1 : 0;
}

/** writeExt writes the extension bytes of a length field of len ≥ 15. */
function writeExt(dst: Uint8Array, op: number, len: number): number {
  for (len -= 15; len >= 255; len -= 255) dst[op++] = 255;
  dst[op++] = len;
  return op;
}

/** copyBytes copies len bytes between distinct ranges. */
function copyBytes(src: Uint8Array, s: number, dst: Uint8Array, d: number, len: number): void {
  if (len < NATIVE_COPY) for (let k = 0; k < len; k++) dst[d + k] = src[s + k];
  else dst.set(src.subarray(s, s + len), d);
}

/** writeSequence writes literals src[anchor..ip) and a match; returns the new op, or -1 if it does not fit. */
function writeSequence(src: Uint8Array, anchor: number, ip: number, offset: number, matchLen: number, dst: Uint8Array, op: number): number {
  const lit = ip - anchor;
  const ml = matchLen - MIN_MATCH;
  if (op + 3 + lit + extBytes(lit) + extBytes(ml) > dst.length) return -1;
  const tokenAt = op++;
  if (lit >= 15) op = writeExt(dst, op, lit);
  copyBytes(src, anchor, dst, op, lit);
  op += lit;
  dst[op++] = offset & 255;
  dst[op++] = offset >>> 8;
  if (ml >= 15) op = writeExt(dst, op, ml);
  dst[tokenAt] = (Math.min(lit, 15) << 4) | Math.min(ml, 15);
  return op;
}

/** writeLastLiterals ends the block with the literals src[anchor..); returns the size, or -1 if it does not fit. */
function writeLastLiterals(src: Uint8Array, anchor: number, dst: Uint8Array, op: number): number {
  const lit = src.length - anchor;
  if (op + 1 + lit + extBytes(lit) > dst.length) return -1;
  dst[op++] = Math.min(lit, 15) << 4;
  if (lit >= 15) op = writeExt(dst, op, lit);
  copyBytes(src, anchor, dst, op, lit);
  return op + lit;
}

/**
 * decompressBlock decodes one block src[srcStart..srcEnd) into dst from dstStart; bytes of
 * dst before dstStart are the window matches may reach into (linked blocks). Returns the
 * end offset in dst; throws Lz4Error on malformed input or output that would pass dstEnd.
 * Bytes of dst between the returned end and dstEnd may be overwritten.
 */
export function decompressBlock(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number, dstEnd: number): number {
  if (!(srcStart >= 0 && srcStart <= srcEnd && srcEnd <= src.length && dstStart >= 0 && dstStart <= dstEnd && dstEnd <= dst.length)) {
    throw new RangeError(`lz4 block range src ${srcStart}..${srcEnd} dst ${dstStart}..${dstEnd} is out of bounds`);
  }
  const end = decodeBlock(src, srcStart, srcEnd, dst, dstStart, dstEnd);
  if (end < 0) throw new Lz4Error(`malformed lz4 block at offset ${-end - 1 - srcStart}`);
  return end;
}

/**
 * decodeBlock is decompressBlock without argument checks or throwing: it returns the end
 * offset in dst, or -(1 + position in src of the fault). This is the restore hot loop, one
 * function for speed. Most sequences have under 15 literals and a match under 19 bytes:
 * those take the fast paths, which copy 4 bytes at a time through DataViews and may write
 * up to 15 bytes of garbage past the current end (never past dstEnd) that later sequences
 * overwrite. The rest read extension bytes first and check them one by one.
 */
export function decodeBlock(src: Uint8Array, ip: number, srcEnd: number, dst: Uint8Array, op: number, dstEnd: number): number {
  const sv = new DataView(src.buffer, src.byteOffset, src.length);
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.length);
  const srcFast = srcEnd - 16, dstFast = dstEnd - 16, dstFastMatch = dstEnd - 20;
  for (;;) {
    if (ip >= srcEnd) return -ip - 1;
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit < 15 && ip <= srcFast && op <= dstFast) {
      copy16(sv, ip, dv, op, lit);
    } else {
      for (let b = lit === 15 ? 255 : 0; b === 255; lit += b) {
        if (ip >= srcEnd) return -ip - 1;
        b = src[ip++];
      }
      if (lit > srcEnd - ip || lit > dstEnd - op) return -ip - 1;
      copyBytes(src, ip, dst, op, lit);
      if (ip + lit === srcEnd) return op + lit;
      if (srcEnd - ip - lit < 2) return -ip - lit - 1;
    }
    ip += lit;
    op += lit;
    const offset = sv.getUint16(ip, true);
    if (offset === 0 || offset > op) return -ip - 1;
    ip += 2;
    let len = (token & 15) + MIN_MATCH;
    if (len < 15 + MIN_MATCH && offset >= 4 && op <= dstFastMatch) {
      copyWords(dv, op, offset, len);
    } else {
      for (let b = len === 15 + MIN_MATCH ? 255 : 0; b === 255; len += b) {
        if (ip >= srcEnd) return -ip - 1;
        b = src[ip++];
      }
      if (len > dstEnd - op) return -ip - 1;
      if (offset >= 4 && (len <= 32 || offset < len) && op + len + 3 <= dstEnd) copyWords(dv, op, offset, len);
      else copyMatch(dst, op, offset, len);
    }
    op += len;
  }
}

/** copy16 copies len ≤ 16 bytes in 4-byte words, possibly writing up to 16 (both ranges must allow 16). */
function copy16(sv: DataView, s: number, dv: DataView, d: number, len: number): void {
  dv.setUint32(d, sv.getUint32(s, true), true);
  if (len <= 4) return;
  dv.setUint32(d + 4, sv.getUint32(s + 4, true), true);
  if (len <= 8) return;
  dv.setUint32(d + 8, sv.getUint32(s + 8, true), true);
  if (len <= 12) return;
  dv.setUint32(d + 12, sv.getUint32(s + 12, true), true);
}

/**
 * copyWords copies a match with offset ≥ 4 in 4-byte words, each reading only bytes
 * already written, so overlapping matches repeat their pattern; it may write up to 3
 * bytes past len. Short or overlapping matches copy faster this way than by copyWithin.
 */
function copyWords(dv: DataView, op: number, offset: number, len: number): void {
  const m = op - offset;
  for (let k = 0; k < len; k += 4) dv.setUint32(op + k, dv.getUint32(m + k, true), true);
}

/** copyMatch copies len bytes from offset back to op; overlapping copies repeat the pattern. */
function copyMatch(dst: Uint8Array, op: number, offset: number, len: number): void {
  const m = op - offset;
  if (len < NATIVE_COPY) {
    for (let k = 0; k < len; k++) dst[op + k] = dst[m + k];
  } else if (offset >= len) {
    dst.copyWithin(op, m, m + len);
  } else if (offset === 1) {
    dst.fill(dst[m], op, op + len);
  } else {
    // Each copy doubles the repeated span: after k bytes, [m, op + k) is whole periods.
    for (let k = 0, span = offset; k < len; span *= 2) {
      const n = Math.min(span, len - k);
      dst.copyWithin(op + k, op + k - span, op + k - span + n);
      k += n;
    }
  }
}
