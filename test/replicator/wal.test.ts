import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  WAL_HEADER_SIZE,
  encodeWALHeader,
  frameSize,
  parseWALHeader,
  putU32,
  scanFrames,
  walChecksum,
} from '../../src/replicator/wal.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

/** buildWAL makes a WAL of `pages` frames (the last one commits) with correct checksums. */
function buildWAL(bigEndian: boolean, pageSize: number, pages: number): Uint8Array {
  const hdr = encodeWALHeader({ bigEndian, version: 3007000, pageSize, checkpointSeq: 0, salt1: 7, salt2: 9 });
  const out = new Uint8Array(WAL_HEADER_SIZE + pages * frameSize(pageSize));
  out.set(hdr);
  const parsed = parseWALHeader(hdr)!;
  let sum: [number, number] = [parsed.checksum1, parsed.checksum2];
  for (let i = 0; i < pages; i++) {
    const off = WAL_HEADER_SIZE + i * frameSize(pageSize);
    putU32(out, off, i + 1);
    putU32(out, off + 4, i === pages - 1 ? pages : 0);
    putU32(out, off + 8, 7);
    putU32(out, off + 12, 9);
    out.set(crypto.randomBytes(pageSize), off + 24);
    sum = walChecksum(bigEndian, out, off, 8, sum);
    sum = walChecksum(bigEndian, out, off + 24, pageSize, sum);
    putU32(out, off + 16, sum[0]);
    putU32(out, off + 20, sum[1]);
  }
  return out;
}

describe('walChecksum', () => {
  it('gives the same result on aligned (word) and unaligned (byte) data, in both byte orders', () => {
    for (const bigEndian of [false, true]) {
      const data = crypto.randomBytes(4096);
      const aligned = new Uint8Array(4096);
      aligned.set(data);
      const shifted = new Uint8Array(4097).subarray(1);
      shifted.set(data);
      expect(walChecksum(bigEndian, aligned, 0, 4096, [1, 2])).toEqual(walChecksum(bigEndian, shifted, 0, 4096, [1, 2]));
    }
  });

  it("equals the format's definition (sums modulo 2^32) from any starting sums", () => {
    const data = crypto.randomBytes(4096);
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    for (const bigEndian of [false, true]) {
      for (const start of [[0, 0], [0xffffffff, 0xfffffff0], [0x80000000, 1]] as [number, number][]) {
        let [s0, s1] = start;
        for (let i = 0; i < data.length; i += 8) {
          s0 = (s0 + view.getUint32(i, !bigEndian) + s1) % 2 ** 32;
          s1 = (s1 + view.getUint32(i + 4, !bigEndian) + s0) % 2 ** 32;
        }
        expect(walChecksum(bigEndian, data, 0, data.length, start)).toEqual([s0, s1]);
      }
    }
  });

  it('verifies frames it built, in both byte orders, and catches a flipped byte', () => {
    for (const bigEndian of [false, true]) {
      const wal = buildWAL(bigEndian, 1024, 5);
      const hdr = parseWALHeader(wal)!;
      expect(hdr.bigEndian).toBe(bigEndian);
      const body = wal.subarray(WAL_HEADER_SIZE);
      expect(scanFrames(hdr, body, [hdr.checksum1, hdr.checksum2]).commitEnd).toBe(body.length);
      body[3 * frameSize(1024) + 500] ^= 1;
      const scan = scanFrames(hdr, body, [hdr.checksum1, hdr.checksum2]);
      expect(scan.stop).toBe('checksum');
      expect(scan.validEnd).toBe(3 * frameSize(1024));
      expect(scan.commitEnd).toBe(0);
    }
  });

  it('reads a WAL written by SQLite: header, frames and commit boundary', () => {
    const file = path.join(tmpDir(), 'app.db');
    const db = openWAL(file);
    db.pragma('wal_autocheckpoint = 0');
    db.prepare('INSERT INTO t (v) VALUES (?)').run('x'.repeat(5000));
    const wal = fs.readFileSync(`${file}-wal`);
    db.close();
    const hdr = parseWALHeader(wal)!;
    expect(hdr.pageSize).toBe(4096);
    const scan = scanFrames(hdr, wal.subarray(WAL_HEADER_SIZE), [hdr.checksum1, hdr.checksum2]);
    expect(scan.commitEnd).toBe(wal.length - WAL_HEADER_SIZE);
  });
});
