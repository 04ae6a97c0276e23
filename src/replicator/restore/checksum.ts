/**
 * checksum: the WAL frame checksum on the restore hot path. When the WAL's checksum byte
 * order is the machine's (little-endian WALs on x86/arm64, the usual case) the words are
 * read through a Uint32Array view, several times faster than assembling them from bytes;
 * otherwise it falls back to `walChecksum`. Results are identical either way.
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
  const words = new Uint32Array(frame.buffer, frame.byteOffset, (WAL_FRAME_HEADER_SIZE + hdr.pageSize) >>> 2);
  const sum = nativeWords(words, 0, 2, prev[0], prev[1]);
  return nativeWords(words, WAL_FRAME_HEADER_SIZE >>> 2, hdr.pageSize >>> 2, sum[0], sum[1]);
}

/** nativeWords runs the WAL checksum over `n` words (n even) of `w` from word `start`. */
function nativeWords(w: Uint32Array, start: number, n: number, s0: number, s1: number): Checksum {
  const end = start + n;
  for (let i = start; i < end; i += 2) {
    s0 = (s0 + w[i] + s1) >>> 0;
    s1 = (s1 + w[i + 1] + s0) >>> 0;
  }
  return [s0, s1];
}
