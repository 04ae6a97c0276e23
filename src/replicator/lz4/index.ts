/** lz4: Lifeboat's LZ4 frame codec (pure TypeScript, streaming in bounded memory). */
export { compressBlock, compressBound, decompressBlock, HASH_TABLE_SIZE } from './block.js';
export {
  createFrameDecoder, createFrameEncoder, decodeFrame, encodeFrame, encodeFrameInSteps, Lz4Error, type FrameEncoderOptions,
} from './frame.js';
export { XXH32, xxh32 } from './xxhash32.js';
export { FrameReader, type FrameReaderOptions } from './decoder.js';
