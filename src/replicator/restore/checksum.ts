/**
 * checksum: the WAL frame checksum on the restore hot path. When the WAL's checksum byte
 * order is the machine's (little-endian WALs on x86/arm64, the usual case) the words are
 * read through a Uint32Array view, several times faster than assembling them from bytes;
 * otherwise it falls back to `walChecksum`. Results are identical either way. The view
 * covers the frame's whole buffer and is kept while frames come from that buffer: a view
 * and two result arrays per frame were most of a restore's short-lived garbage.
 */
import { WAL_FRAME_HEADER_SIZE, walChecksum, type Checksum, type WALHeader } from '../wal.js';

const NATIVE_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** frameChecksum continues `prev` over a whole frame in `frame` (bytes 0–7 of its header, then its page). */
export function frameChecksum(hdr: WALHeader, frame: Uint8Array, prev: Checksum): Checksum {
  const native = hdr.bigEndian !== NATIVE_LITTLE_ENDIAN;
  if (!native || frame.byteOffset % 4 !== 0) {
    const sum = walChecksum(hdr.bigEndian, frame, 0, 8, prev);
    return walChecksum(hdr.bigEndian, frame, WAL_FRAME_HEADER_SIZE, hdr.pageSize, sum);
  }
  const w = wordsOf(frame.buffer);
  const at = frame.byteOffset >>> 2;
  let s0 = (prev[0] + w[at] + prev[1]) >>> 0;
  let s1 = (prev[1] + w[at + 1] + s0) >>> 0;
  const end = at + ((WAL_FRAME_HEADER_SIZE + hdr.pageSize) >>> 2);
  for (let i = at + (WAL_FRAME_HEADER_SIZE >>> 2); i < end; i += 2) {
    s0 = (s0 + w[i] + s1) >>> 0;
    s1 = (s1 + w[i + 1] + s0) >>> 0;
  }
  return [s0, s1];
}

/** The last buffer's word view: frames come one after another out of the same read buffer, so one view serves them all. */
let viewed: ArrayBufferLike | undefined;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/** wordsOf is a Uint32Array over all of `buf` (whole words), made once per buffer in a row. */
function wordsOf(buf: ArrayBufferLike): Uint32Array<ArrayBufferLike> {
  if (buf !== viewed) {
    viewed = buf;
    words = new Uint32Array(buf, 0, buf.byteLength >>> 2);
  }
  return words;
}
