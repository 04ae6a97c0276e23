/**
 * encoder: FrameWriter, the Stage that turns raw bytes into one LZ4 frame in Litestream's
 * format (FLG 0x64, BD per block size), buffering at most one block.
 */
import { compressBlock } from './block.js';
import { encodeHeader, putU32 } from './header.js';
import { scratch } from './scratch.js';
import type { Stage } from './stage.js';
import { XXH32 } from './xxhash32.js';

const EMPTY = new Uint8Array(0);
const FIRST_BUFFER = 65536;
const UNCOMPRESSED = 0x80000000;

/** FrameWriter encodes one frame: header with the first block, blocks as they fill, end mark and content checksum at end(). */
export class FrameWriter implements Stage {
  readonly #blockSize: number;
  readonly #header: Uint8Array;
  readonly #hash = new XXH32();
  #block: Uint8Array;
  #fill = 0;
  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  #started = false;

  /**
   * blockSize is the frame's declared maximum block size: 65536, 262144, 1048576 or
   * 4194304 (default). blockBytes (≤ blockSize, default blockSize) is how much input each
   * block holds: smaller blocks keep each synchronous compression step short, and stay
   * valid for every reader of the declared maximum.
   */
  constructor(blockSize = 4194304, blockBytes = blockSize) {
    if (!(blockBytes > 0 && blockBytes <= blockSize)) throw new RangeError(`lz4 block bytes ${blockBytes}: must be 1..${blockSize}`);
    this.#header = encodeHeader(blockSize);
    this.#blockSize = blockBytes;
    this.#block = new Uint8Array(Math.min(blockBytes, FIRST_BUFFER));
  }

  /** feed sets the next chunk of raw input. */
  feed(chunk: Uint8Array): void {
    this.#chunk = chunk;
    this.#pos = 0;
  }

  /** next returns the next encoded block once a full block of input is in, else null. */
  next(): Uint8Array | null {
    const chunk = this.#chunk;
    if (this.#fill === 0 && chunk.length - this.#pos >= this.#blockSize) {
      this.#pos += this.#blockSize;
      return this.#encode(chunk.subarray(this.#pos - this.#blockSize, this.#pos));
    }
    while (this.#pos < chunk.length) {
      if (this.#fill === this.#block.length) this.#grow();
      const n = Math.min(this.#block.length - this.#fill, chunk.length - this.#pos);
      this.#block.set(chunk.subarray(this.#pos, this.#pos + n), this.#fill);
      this.#fill += n;
      this.#pos += n;
      if (this.#fill === this.#blockSize) return this.#encode(this.#block.subarray(0, this.#fill));
    }
    return null;
  }

  /** end returns the last partial block (if any), the end mark and the content checksum. */
  end(): Uint8Array[] {
    const out = this.#fill > 0 ? [this.#encode(this.#block.subarray(0, this.#fill))] : [];
    const tail = Buffer.alloc(this.#started ? 8 : 15);
    if (!this.#started) tail.set(this.#header);
    putU32(tail, tail.length - 4, this.#hash.digest());
    out.push(tail);
    this.#started = true;
    return out;
  }

  #grow(): void {
    const bigger = new Uint8Array(Math.min(this.#block.length * 2, this.#blockSize));
    bigger.set(this.#block);
    this.#block = bigger;
  }

  /** encode compresses one block (stored raw when that is no smaller), header first if this is the first block. */
  #encode(src: Uint8Array): Uint8Array {
    const head = this.#started ? 0 : this.#header.length;
    const packed = scratch(src.length - 1).subarray(0, src.length - 1);
    const size = compressBlock(src, packed);
    const body = size > 0 ? packed.subarray(0, size) : src;
    const out = Buffer.allocUnsafe(head + 4 + body.length);
    if (head > 0) out.set(this.#header);
    putU32(out, head, size > 0 ? size : (src.length | UNCOMPRESSED) >>> 0);
    out.set(body, head + 4);
    this.#hash.update(src);
    this.#started = true;
    this.#fill = 0;
    return out;
  }
}
