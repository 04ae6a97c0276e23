/** checksum: the word-view fast path agrees with wal.ts's byte-wise walChecksum, in both byte orders. */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { frameChecksum } from '../../../src/replicator/restore/checksum.js';
import { walChecksum, type WALHeader } from '../../../src/replicator/wal.js';

const header = (bigEndian: boolean, pageSize: number): WALHeader => ({
  bigEndian, version: 3007000, pageSize, checkpointSeq: 0, salt1: 1, salt2: 2, checksum1: 0, checksum2: 0,
});

describe('frameChecksum', () => {
  it.each([
    [false, 1024],
    [true, 1024],
    [false, 65536],
    [true, 4096],
  ])('bigEndian=%s pageSize=%i matches walChecksum (aligned and unaligned buffers)', (bigEndian, pageSize) => {
    const frame = crypto.randomBytes(24 + pageSize);
    const prev: [number, number] = [0xdeadbeef, 0x01234567];
    let want = walChecksum(bigEndian, frame, 0, 8, prev);
    want = walChecksum(bigEndian, frame, 24, pageSize, want);
    const aligned = new Uint8Array(frame.length);
    aligned.set(frame);
    expect(frameChecksum(header(bigEndian, pageSize), aligned, prev)).toEqual(want);
    const unaligned = new Uint8Array(frame.length + 1).subarray(1);
    unaligned.set(frame);
    expect(frameChecksum(header(bigEndian, pageSize), unaligned, prev)).toEqual(want);
  });

  it('frames at any aligned place in buffers taken in turn (the word view is kept per buffer) match walChecksum', () => {
    const pageSize = 1024;
    const hdr = header(false, pageSize);
    const fsz = 24 + pageSize;
    const a = new Uint8Array(3 * fsz + 8);
    a.set(crypto.randomBytes(a.length));
    const b = new Uint8Array(2 * fsz);
    b.set(crypto.randomBytes(b.length));
    const frames = [a.subarray(8, 8 + fsz), b.subarray(fsz), a.subarray(8 + 2 * fsz, 8 + 3 * fsz), b.subarray(0, fsz), a.subarray(8 + fsz, 8 + 2 * fsz)];
    let prev: [number, number] = [7, 11];
    for (const f of frames) {
      expect(f.byteOffset % 4).toBe(0);
      let want = walChecksum(false, f, 0, 8, prev);
      want = walChecksum(false, f, 24, pageSize, want);
      prev = frameChecksum(hdr, f, prev);
      expect(prev).toEqual(want);
    }
  });
});
