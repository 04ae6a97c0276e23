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

/** FrameEncoderOptions: blockSize is the frame's maximum block size (default 4 MB, BD 0x70). */
export interface FrameEncoderOptions {
  blockSize?: 65536 | 262144 | 1048576 | 4194304;
}

/**
 * createFrameEncoder returns a Transform: raw bytes in, exactly one LZ4 frame out (magic
 * 04 22 4D 18, FLG 0x64: independent blocks, content checksum, no block checksum, no
 * content size; BD from blockSize). Blocks that do not shrink are stored uncompressed.
 */
export function createFrameEncoder(opts: FrameEncoderOptions = {}): Transform {
  return new StageTransform(new FrameWriter(opts.blockSize));
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
export function encodeFrame(data: Uint8Array): Buffer {
  return runStage(new FrameWriter(), data);
}

/** decodeFrame decodes everything in data, as createFrameDecoder does. */
export function decodeFrame(data: Uint8Array): Buffer {
  return runStage(new FrameReader(), data);
}
