/**
 * header: the LZ4 frame header (lz4_Frame_format.md): magic numbers, the descriptor
 * (FLG, BD, optional content size and dictionary id, HC), ours built, any parsed.
 */
import { Lz4Error } from './error.js';
import { xxh32 } from './xxhash32.js';

/** FRAME_MAGIC starts every LZ4 frame (bytes 04 22 4D 18). */
export const FRAME_MAGIC = 0x184d2204;
/** LEGACY_MAGIC starts a legacy frame (`lz4 -l`): 8 MB independent blocks, no checksums, no end mark. */
export const LEGACY_MAGIC = 0x184c2102;
/** LEGACY_BLOCK is the decoded size of every legacy block but the last. */
export const LEGACY_BLOCK = 8 << 20;
/** WINDOW is how far back a match may reach: the history linked blocks keep. */
export const WINDOW = 65536;

const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const FLG_VERSION = 0x40;
const FLG_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;

/** BLOCK_SIZES maps each allowed maximum block size to its BD id (4..7). */
export const BLOCK_SIZES: ReadonlyMap<number, number> = new Map([[65536, 4], [262144, 5], [1048576, 6], [4194304, 7]]);

/** FrameDescriptor is what a frame header tells the decoder. */
export interface FrameDescriptor {
  blockMax: number;
  independent: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  /** contentSize is the declared decoded size, or null when the frame does not say. */
  contentSize: number | null;
}

/** isSkippable reports whether a magic number starts a skippable frame (0x184D2A50..5F). */
export function isSkippable(magic: number): boolean {
  return ((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC;
}

/** u32 reads a little-endian uint32. */
export function u32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** putU32 writes a little-endian uint32. */
export function putU32(b: Uint8Array, i: number, v: number): void {
  b[i] = v;
  b[i + 1] = v >>> 8;
  b[i + 2] = v >>> 16;
  b[i + 3] = v >>> 24;
}

/** encodeHeader builds the 7-byte header Lifeboat writes: independent blocks, content checksum, nothing else. */
export function encodeHeader(blockSize: number): Uint8Array {
  const id = BLOCK_SIZES.get(blockSize);
  if (id === undefined) throw new RangeError(`lz4 block size ${blockSize}: must be one of ${[...BLOCK_SIZES.keys()].join(', ')}`);
  const h = new Uint8Array(7);
  putU32(h, 0, FRAME_MAGIC);
  h[4] = FLG_VERSION | FLG_INDEPENDENT | FLG_CONTENT_CHECKSUM;
  h[5] = id << 4;
  h[6] = (xxh32(h.subarray(4, 6)) >>> 8) & 0xff;
  return h;
}

/** descriptorTail is how many header bytes follow FLG and BD (optional fields, then HC); it checks FLG and BD. */
export function descriptorTail(flg: number, bd: number): number {
  if ((flg & 0xc0) !== FLG_VERSION) throw new Lz4Error(`unsupported lz4 frame version ${flg >>> 6}`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw new Lz4Error('lz4 header reserved bits set');
  if (((bd >>> 4) & 7) < 4) throw new Lz4Error(`bad lz4 block size id ${(bd >>> 4) & 7}`);
  return (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0) + 1;
}

/** parseDescriptor checks HC over FLG, BD and tail[off..off+n-1) (HC is the last tail byte) and decodes the fields. */
export function parseDescriptor(flg: number, bd: number, tail: Uint8Array, off: number, n: number): FrameDescriptor {
  const desc = new Uint8Array(n + 1);
  desc[0] = flg;
  desc[1] = bd;
  desc.set(tail.subarray(off, off + n - 1), 2);
  if (((xxh32(desc) >>> 8) & 0xff) !== tail[off + n - 1]) throw new Lz4Error('lz4 header checksum mismatch');
  if (flg & FLG_DICT_ID) throw new Lz4Error('lz4 frame uses a dictionary (unsupported)');
  return {
    blockMax: 1 << (2 * ((bd >>> 4) & 7) + 8),
    independent: (flg & FLG_INDEPENDENT) !== 0,
    blockChecksum: (flg & FLG_BLOCK_CHECKSUM) !== 0,
    contentChecksum: (flg & FLG_CONTENT_CHECKSUM) !== 0,
    contentSize: flg & FLG_CONTENT_SIZE ? u32(tail, off) + u32(tail, off + 4) * 2 ** 32 : null,
  };
}
