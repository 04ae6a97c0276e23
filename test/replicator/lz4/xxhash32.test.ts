import { describe, expect, it } from 'vitest';
import { XXH32, xxh32 } from '../../../src/replicator/lz4/xxhash32.js';
import { needTool } from '../../helpers/tools.js';
import { chunked, lz4, pageData, randomBytes, randomSizes } from './helpers.js';

const noLz4 = needTool('lz4');

/** sanityBuffer is xxHash's own test input (xsum_sanity_check.c: XSUM_fillTestBuffer). */
function sanityBuffer(n: number): Buffer {
  const out = Buffer.alloc(n);
  let gen = 2654435761n;
  for (let i = 0; i < n; i++) {
    out[i] = Number(gen >> 56n);
    gen = (gen * 11400714785074694797n) & 0xffffffffffffffffn;
  }
  return out;
}

const PRIME = 0x9e3779b1;
// [length, seed, expected] from xxHash's sanity vectors.
const VECTORS: [number, number, number][] = [
  [0, 0, 0x02cc5d05], [0, PRIME, 0x36b78ae7], [1, 0, 0xcf65b03e], [1, PRIME, 0xb4545aa4],
  [4, 0, 0xa9de7ce9], [4, PRIME, 0x2baafe83], [14, 0, 0x1208e7e2], [14, PRIME, 0x6af1d1fe],
  [16, 0, 0x93ba3759], [16, PRIME, 0xa94fc1e1], [17, 0, 0x89fdc23e], [17, PRIME, 0xc9910739],
  [32, 0, 0xd89829ec], [32, PRIME, 0xa5c44467], [222, 0, 0x5bd11dbd], [222, PRIME, 0x58803c5f],
  [2367, 0, 0x4c8a9773], [2367, PRIME, 0x6d5366f6],
];

describe('xxh32', () => {
  const buf = sanityBuffer(2367);

  it.each(VECTORS)('matches the reference vector for %i bytes, seed %i', (len, seed, want) => {
    expect(xxh32(buf.subarray(0, len), seed)).toBe(want);
    expect(new XXH32(seed).update(buf.subarray(0, len)).digest()).toBe(want);
  });

  it('gives the same hash fed byte by byte, in random pieces, and at every memory alignment', () => {
    for (const [len, seed, want] of VECTORS) {
      const bytewise = new XXH32(seed);
      for (const piece of chunked(buf.subarray(0, len), 1)) bytewise.update(piece);
      expect(bytewise.digest()).toBe(want);
      const random = new XXH32(seed);
      for (const piece of chunked(buf.subarray(0, len), randomSizes(40, len + 1))) random.update(piece);
      expect(random.digest()).toBe(want);
    }
    const data = pageData(100_000);
    const want = xxh32(data);
    for (let shift = 1; shift < 8; shift++) {
      const moved = Buffer.alloc(data.length + shift).fill(0xee);
      data.copy(moved, shift);
      expect(xxh32(moved.subarray(shift))).toBe(want);
    }
  });

  it('lets digest() be taken midway without disturbing the hash', () => {
    const h = new XXH32();
    h.update(buf.subarray(0, 100));
    expect(h.digest()).toBe(xxh32(buf.subarray(0, 100)));
    h.update(buf.subarray(100, 2367));
    expect(h.digest()).toBe(0x4c8a9773);
  });

  it.skipIf(noLz4)('equals the content checksum the lz4 CLI writes, for every length up to 70 and larger inputs', () => {
    const inputs = [...Array.from({ length: 71 }, (_, n) => randomBytes(n, n + 1)), randomBytes(1_000_003), pageData(300_000)];
    for (const input of inputs) {
      const frame = lz4(['-c'], input);
      expect(xxh32(input), `length ${input.length}`).toBe(frame.readUInt32LE(frame.length - 4));
    }
  });
});
