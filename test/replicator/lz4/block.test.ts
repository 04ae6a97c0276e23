import { describe, expect, it } from 'vitest';
import { compressBlock, compressBound, decompressBlock, HASH_TABLE_SIZE } from '../../../src/replicator/lz4/block.js';
import { Lz4Error } from '../../../src/replicator/lz4/error.js';
import { pageData, prng, randomBytes, sqliteFiles } from './helpers.js';

/** roundTrip compresses src and decodes it back, checking nothing is written past the output. */
function roundTrip(src: Uint8Array): Buffer {
  const packed = new Uint8Array(compressBound(src.length));
  const n = compressBlock(src, packed);
  expect(n).toBeGreaterThan(0);
  const out = Buffer.alloc(src.length + 64, 0xa5);
  expect(decompressBlock(packed, 0, n, out, 0, src.length)).toBe(src.length);
  expect(out.subarray(src.length).every((b) => b === 0xa5)).toBe(true);
  return out.subarray(0, src.length);
}

/** lengthField encodes an LZ4 length beyond the token's nibble. */
function lengthField(len: number): number[] {
  const out: number[] = [];
  for (len -= 15; len >= 255; len -= 255) out.push(255);
  return [...out, len];
}

/** randomBlock hand-assembles a valid block of random sequences (some overlapping, some into the window) and the output it must give. */
function randomBlock(seed: number, window: Buffer): { block: Buffer; want: Buffer } {
  const rand = prng(seed);
  const bytes: number[] = [];
  const out = [...window];
  for (let s = 0, last = false; !last; s++) {
    last = s === 40;
    const lit = (rand() % 8 === 0 ? rand() % 400 : rand() % 20) + (out.length === 0 ? 1 : 0);
    const len = last ? 0 : rand() % 6 === 0 ? 4 + (rand() % 700) : 4 + (rand() % 30);
    const offset = 1 + (rand() % Math.min(out.length + lit, rand() % 3 === 0 ? 8 : 65535));
    bytes.push((Math.min(lit, 15) << 4) | (last ? 0 : Math.min(len - 4, 15)));
    if (lit >= 15) bytes.push(...lengthField(lit));
    for (let k = 0; k < lit; k++) bytes.push(rand() & 0xff), out.push(bytes[bytes.length - 1]);
    if (last) break;
    bytes.push(offset & 255, offset >>> 8);
    if (len - 4 >= 15) bytes.push(...lengthField(len - 4));
    for (let k = 0; k < len; k++) out.push(out[out.length - offset]);
  }
  return { block: Buffer.from(bytes), want: Buffer.from(out.slice(window.length)) };
}

function malformedAt(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Lz4Error);
    return (err as Error).message;
  }
  throw new Error('expected an Lz4Error');
}

describe('compressBlock', () => {
  it('round-trips inputs of every small size, around the minimum-match limits and larger', () => {
    for (let n = 0; n <= 40; n++) {
      const repetitive = Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabcabcabc'.slice(0, n));
      expect(roundTrip(repetitive).equals(repetitive)).toBe(true);
      expect(roundTrip(randomBytes(n, n + 1)).equals(randomBytes(n, n + 1))).toBe(true);
    }
    for (const data of [pageData(1_000_000), Buffer.alloc(300_000), randomBytes(70_000), pageData(4 << 20)]) {
      expect(roundTrip(data).equals(data)).toBe(true);
    }
  });

  it('round-trips real SQLite database and WAL bytes', () => {
    const { db, wal } = sqliteFiles();
    expect(wal.length).toBeGreaterThan(100_000);
    expect(roundTrip(db).equals(db)).toBe(true);
    expect(roundTrip(wal).equals(wal)).toBe(true);
  });

  it('compresses repetitive data well and gives the same bytes with or without a reused table', () => {
    const zeros = Buffer.alloc(1 << 20);
    const packed = new Uint8Array(compressBound(zeros.length));
    expect(compressBlock(zeros, packed)).toBeLessThan(5000);
    const table = new Int32Array(HASH_TABLE_SIZE);
    const data = pageData(500_000);
    const a = new Uint8Array(compressBound(data.length));
    const b = new Uint8Array(compressBound(data.length));
    const na = compressBlock(data, a);
    compressBlock(randomBytes(100_000), new Uint8Array(compressBound(100_000)), table);
    const nb = compressBlock(data, b, table);
    expect(nb).toBe(na);
    expect(Buffer.from(b.subarray(0, nb)).equals(Buffer.from(a.subarray(0, na)))).toBe(true);
    expect(na).toBeLessThan(data.length / 2);
  });

  it('returns 0 when the output would not fit', () => {
    const random = randomBytes(10_000);
    expect(compressBlock(random, new Uint8Array(random.length - 1))).toBe(0);
    expect(compressBlock(Buffer.alloc(100_000), new Uint8Array(10))).toBe(0);
    expect(compressBlock(Buffer.from('x'), new Uint8Array(1))).toBe(0);
    expect(compressBlock(Buffer.alloc(0), new Uint8Array(1))).toBe(1);
  });

  it('rejects a hash table that is too small', () => {
    expect(() => compressBlock(pageData(1000), new Uint8Array(2000), new Int32Array(16))).toThrow(/hash table of 16 entries/);
  });

  it('states the worst case in compressBound', () => {
    expect(compressBound(0)).toBe(16);
    expect(compressBound(4 << 20)).toBe((4 << 20) + 16448 + 16);
    const random = randomBytes(1 << 20);
    expect(compressBlock(random, new Uint8Array(compressBound(random.length)))).toBeLessThanOrEqual(compressBound(random.length));
  });
});

describe('decompressBlock', () => {
  it('decodes hand-built blocks with long, short, overlapping and window-reaching matches', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const window = randomBytes(seed % 3 === 0 ? 0 : 70_000, seed);
      const { block, want } = randomBlock(seed, window);
      const dst = Buffer.alloc(window.length + want.length + 32, 0x5a);
      window.copy(dst);
      const end = decompressBlock(block, 0, block.length, dst, window.length, window.length + want.length);
      expect(end).toBe(window.length + want.length);
      expect(dst.subarray(window.length, end).equals(want), `seed ${seed}`).toBe(true);
      expect(dst.subarray(0, window.length).equals(window)).toBe(true);
      expect(dst.subarray(end).every((b) => b === 0x5a)).toBe(true);
    }
  });

  it('decodes a block inside a larger buffer at the given offsets', () => {
    const packed = Buffer.alloc(compressBound(5000) + 20, 0xff);
    const data = pageData(5000);
    const n = compressBlock(data, packed.subarray(10));
    const dst = Buffer.alloc(6000);
    expect(decompressBlock(packed, 10, 10 + n, dst, 100, 5100)).toBe(5100);
    expect(dst.subarray(100, 5100).equals(data)).toBe(true);
  });

  it('throws Lz4Error naming the offset of malformed input', () => {
    const dst = Buffer.alloc(100);
    const at = (bytes: number[], dstStart = 0, dstEnd = 100) => malformedAt(() => decompressBlock(Buffer.from(bytes), 0, bytes.length, dst, dstStart, dstEnd));
    expect(at([])).toBe('malformed lz4 block at offset 0');
    expect(at([0x10, 0x61, 0x00, 0x00])).toBe('malformed lz4 block at offset 2'); // offset 0
    expect(at([0x10, 0x61, 0x02, 0x00, 0x00])).toBe('malformed lz4 block at offset 2'); // before the output
    expect(at([0x50, 0x61, 0x62])).toBe('malformed lz4 block at offset 1'); // literals past the end
    expect(at([0x10, 0x61, 0x01])).toBe('malformed lz4 block at offset 2'); // half an offset
    expect(at([0xf0])).toBe('malformed lz4 block at offset 1'); // missing length byte
    expect(at([0x10, 0x61, 0x01, 0x00])).toBe('malformed lz4 block at offset 4'); // ends on a match
    expect(at([0x1f, 0x61, 0x01, 0x00, 0xff, 0xff, 0x10, 0x00], 0, 100)).toBe('malformed lz4 block at offset 7'); // match past dstEnd
    expect(at([0x30, 0x61, 0x62, 0x63], 0, 2)).toBe('malformed lz4 block at offset 1'); // literals past dstEnd
  });

  it('lets matches reach back into the bytes before dstStart, and no further', () => {
    const dst = Buffer.from('hello.....');
    const block = Buffer.from([0x00, 0x05, 0x00, 0x00]);
    expect(decompressBlock(block, 0, block.length, dst, 5, 9)).toBe(9);
    expect(dst.subarray(5, 9).toString()).toBe('hell');
    const far = Buffer.from([0x00, 0x06, 0x00, 0x00]);
    expect(malformedAt(() => decompressBlock(far, 0, far.length, dst, 5, 9))).toBe('malformed lz4 block at offset 1');
  });

  it('rejects ranges outside the buffers', () => {
    const src = Buffer.from([0x10, 0x61]);
    expect(() => decompressBlock(src, 0, 3, Buffer.alloc(4), 0, 4)).toThrow(RangeError);
    expect(() => decompressBlock(src, 0, 2, Buffer.alloc(4), 0, 5)).toThrow(RangeError);
    expect(() => decompressBlock(src, 0, 2, Buffer.alloc(4), 3, 2)).toThrow(RangeError);
  });
});
