/**
 * xxhash32: xxHash32, the checksum of the LZ4 frame format (header, blocks, content),
 * one-shot and incremental. Arithmetic is on int32 with Math.imul; 16-byte stripes are
 * read through an Int32Array view when the input is 4-byte aligned (little-endian hosts).
 */

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const P5 = 0x165667b1 | 0;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

function read32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

/** stripes folds the whole 16-byte stripes of b[i..end) into the four lanes; returns where it stopped. */
function stripes(lanes: Int32Array, b: Uint8Array, i: number, end: number): number {
  if (end - i < 16) return i;
  if (LITTLE_ENDIAN && ((b.byteOffset + i) & 3) === 0) return alignedStripes(lanes, b, i, end);
  let v1 = lanes[0], v2 = lanes[1], v3 = lanes[2], v4 = lanes[3];
  for (; i <= end - 16; i += 16) {
    v1 = round(v1, read32(b, i));
    v2 = round(v2, read32(b, i + 4));
    v3 = round(v3, read32(b, i + 8));
    v4 = round(v4, read32(b, i + 12));
  }
  lanes[0] = v1; lanes[1] = v2; lanes[2] = v3; lanes[3] = v4;
  return i;
}

/** alignedStripes is stripes for input whose position i is 4-byte aligned in memory. */
function alignedStripes(lanes: Int32Array, b: Uint8Array, i: number, end: number): number {
  const n = (end - i) >>> 4;
  const w = new Int32Array(b.buffer, b.byteOffset + i, n * 4);
  let v1 = lanes[0], v2 = lanes[1], v3 = lanes[2], v4 = lanes[3];
  for (let j = 0; j < w.length; j += 4) {
    v1 = round(v1, w[j]);
    v2 = round(v2, w[j + 1]);
    v3 = round(v3, w[j + 2]);
    v4 = round(v4, w[j + 3]);
  }
  lanes[0] = v1; lanes[1] = v2; lanes[2] = v3; lanes[3] = v4;
  return i + n * 16;
}

function initLanes(lanes: Int32Array, seed: number): void {
  lanes[0] = (seed + P1 + P2) | 0;
  lanes[1] = (seed + P2) | 0;
  lanes[2] = seed;
  lanes[3] = (seed - P1) | 0;
}

/** finish mixes the total length and the tail b[i..end) (< 16 bytes) into the lanes or seed. */
function finish(lanes: Int32Array, seed: number, total: number, b: Uint8Array, i: number, end: number): number {
  let h = total >= 16
    ? (rotl(lanes[0], 1) + rotl(lanes[1], 7) + rotl(lanes[2], 12) + rotl(lanes[3], 18)) | 0
    : (seed + P5) | 0;
  h = (h + (total >>> 0)) | 0;
  for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(read32(b, i), P3)) | 0, 17), P4);
  for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(b[i], P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** XXH32 is an incremental xxHash32: update() any number of times, digest() at any point. */
export class XXH32 {
  readonly #seed: number;
  readonly #lanes = new Int32Array(4);
  readonly #mem = new Uint8Array(16);
  #memLen = 0;
  #total = 0;

  constructor(seed = 0) {
    this.#seed = seed | 0;
    initLanes(this.#lanes, this.#seed);
  }

  /** update adds the bytes of b to the hash. */
  update(b: Uint8Array): this {
    this.#total += b.length;
    let i = 0;
    if (this.#memLen > 0) {
      i = Math.min(16 - this.#memLen, b.length);
      this.#mem.set(b.subarray(0, i), this.#memLen);
      this.#memLen += i;
      if (this.#memLen < 16) return this;
      stripes(this.#lanes, this.#mem, 0, 16);
      this.#memLen = 0;
    }
    i = stripes(this.#lanes, b, i, b.length);
    this.#mem.set(b.subarray(i), 0);
    this.#memLen = b.length - i;
    return this;
  }

  /** digest returns the hash (uint32) of everything added so far; the hash can still be updated. */
  digest(): number {
    return finish(this.#lanes, this.#seed, this.#total, this.#mem, 0, this.#memLen);
  }
}

/** xxh32 returns the xxHash32 (uint32) of b with `seed` (default 0). */
export function xxh32(b: Uint8Array, seed = 0): number {
  const lanes = new Int32Array(4);
  initLanes(lanes, seed | 0);
  const i = stripes(lanes, b, 0, b.length);
  return finish(lanes, seed | 0, b.length, b, i, b.length);
}
