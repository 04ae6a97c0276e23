/**
 * frame: the LZ4 frame format as stream Transforms and one-shot functions. Encoding writes
 * exactly what Litestream writes (one frame, FLG 0x64, BD 0x70 by default); decoding
 * accepts any valid frame sequence. Both work in bounded memory.
 */
import type { Transform } from 'node:stream';
import { FrameReader } from './decoder.js';
import { FrameWriter } from './encoder.js';
import { runStage, StageTransform } from './stage.js';

/** Lz4Error is the error every decoding failure throws (re-exported from error.ts). */
export { Lz4Error } from './error.js';

/**
 * FrameEncoderOptions: blockSize is the frame's declared maximum block size (default
 * 4 MB, BD 0x70); blockBytes is how much input each block holds (default blockSize).
 */
export interface FrameEncoderOptions {
  blockSize?: 65536 | 262144 | 1048576 | 4194304;
  blockBytes?: number;
}

/**
 * createFrameEncoder returns a Transform: raw bytes in, exactly one LZ4 frame out (magic
 * 04 22 4D 18, FLG 0x64: independent blocks, content checksum, no block checksum, no
 * content size; BD from blockSize). Blocks that do not shrink are stored uncompressed.
 */
export function createFrameEncoder(opts: FrameEncoderOptions = {}): Transform {
  return new StageTransform(new FrameWriter(opts.blockSize, opts.blockBytes));
}

/**
 * createFrameDecoder returns a Transform: LZ4 frame bytes in, raw bytes out. It decodes
 * any valid input: every block size, linked blocks, block and content checksums
 * (verified), content size (verified), skippable, legacy and concatenated frames.
 * Errors are Lz4Error; empty input is one ("empty lz4 input"). `verifyContentChecksum:
 * false` skips the content checksum, for callers that check every byte themselves.
 */
export function createFrameDecoder(opts: { verifyContentChecksum?: boolean } = {}): Transform {
  return new StageTransform(new FrameReader(opts));
}

/** encodeFrame compresses data into one LZ4 frame, the format createFrameEncoder writes. */
export function encodeFrame(data: Uint8Array, opts: FrameEncoderOptions = {}): Buffer {
  return runStage(new FrameWriter(opts.blockSize, opts.blockBytes), data);
}

/**
 * encodeFrameInSteps compresses `length` bytes into one LZ4 frame (the format
 * createFrameEncoder writes), one block of `blockBytes` at a time: it asks `read(start,
 * end)` for each block's input just before compressing it, and awaits `pause()` between
 * blocks, so a long input never holds the event loop for more than one block.
 */
export async function encodeFrameInSteps(
  length: number,
  read: (start: number, end: number) => Uint8Array,
  opts: { blockBytes: number; pause: () => Promise<void> },
): Promise<Buffer> {
  const writer = new FrameWriter(undefined, opts.blockBytes);
  const out: Uint8Array[] = [];
  for (let start = 0; start < length; start += opts.blockBytes) {
    if (start > 0) await opts.pause();
    writer.feed(read(start, Math.min(start + opts.blockBytes, length)));
    for (let block = writer.next(); block !== null; block = writer.next()) out.push(block);
  }
  out.push(...writer.end());
  return Buffer.concat(out);
}

/** decodeFrame decodes everything in data, as createFrameDecoder does. */
export function decodeFrame(data: Uint8Array): Buffer {
  return runStage(new FrameReader(), data);
}
