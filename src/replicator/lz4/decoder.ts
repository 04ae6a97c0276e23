/**
 * decoder: FrameReader, the Stage that decodes a sequence of LZ4 frames (standard,
 * skippable, legacy) holding at most one block, plus the 64 KB window of linked blocks.
 */
import { compressBound, decodeBlock } from './block.js';
import { Lz4Error } from './error.js';
import {
  descriptorTail, FRAME_MAGIC, isSkippable, LEGACY_BLOCK, LEGACY_MAGIC, parseDescriptor, u32, WINDOW,
  type FrameDescriptor,
} from './header.js';
import { ByteReader } from './reader.js';
import { scratch } from './scratch.js';
import type { Stage } from './stage.js';
import { XXH32, xxh32 } from './xxhash32.js';

const UNCOMPRESSED = 0x80000000;
/** A legacy "block size" above this is the magic number of the next frame (as the lz4 CLI reads it). */
const LEGACY_MAX_COMPRESSED = compressBound(LEGACY_BLOCK);
/** MAX_RATIO bounds a block's output: a match costs at least one input byte per 255 output bytes. */
const MAX_RATIO = 255;
const LEGACY_FRAME: FrameDescriptor = {
  blockMax: LEGACY_BLOCK, independent: true, blockChecksum: false, contentChecksum: false, contentSize: null,
};

type State = 'magic' | 'skipSize' | 'skip' | 'flags' | 'descriptor' | 'blockSize' | 'block' | 'checksum' | 'legacySize' | 'legacyBlock';
type TakeState = Exclude<State, 'skip'>;

/** FrameReaderOptions: see the FrameReader constructor. */
export interface FrameReaderOptions {
  verifyContentChecksum?: boolean;
  borrow?: boolean;
}

/** FrameReader decodes LZ4 frames back to back; each next() returns one decoded block. */
export class FrameReader implements Stage {
  readonly #in = new ByteReader();
  #state: State = 'magic';
  #need = 4;
  #skipLeft = 0;
  #flg = 0;
  #bd = 0;
  #frame = LEGACY_FRAME;
  #raw = false;
  #blockLen = 0;
  #hash = new XXH32();
  #produced = 0;
  #window = new Uint8Array(0);
  #windowLen = 0;
  readonly #verifyContent: boolean;
  readonly #borrow: boolean;

  /**
   * With `verifyContentChecksum: false` the frames' content checksums are read but not
   * computed — for callers that verify every decoded byte themselves (restore checks each
   * WAL frame's chained checksum, which covers every byte of a segment). With `borrow:
   * true` each block is returned as a view of the shared scratch (or of the input, for a
   * stored block) instead of a copy: valid only until the next call of any decoder or
   * encoder in the process, for callers that use it synchronously.
   */
  constructor(opts: FrameReaderOptions = {}) {
    this.#verifyContent = opts.verifyContentChecksum ?? true;
    this.#borrow = opts.borrow ?? false;
  }

  /** feed sets the next chunk of frame bytes. */
  feed(chunk: Uint8Array): void {
    this.#in.feed(chunk);
  }

  /** next returns the next decoded block, or null when the fed chunk is used up. */
  next(): Uint8Array | null {
    for (;;) {
      const state = this.#state;
      if (state === 'skip') {
        this.#skipLeft -= this.#in.skip(this.#skipLeft);
        if (this.#skipLeft > 0) return null;
        this.#expect('magic', 4);
        continue;
      }
      if (!this.#in.take(this.#need)) return null;
      const out = this.#step(state, this.#in.buf, this.#in.off);
      if (out !== null && out.length > 0) return out;
    }
  }

  /** end checks that the input was not empty and stopped between frames. */
  end(): Uint8Array[] {
    if (this.#in.total === 0) throw new Lz4Error('empty lz4 input');
    const between = this.#state === 'magic' || this.#state === 'legacySize';
    if (!between || this.#in.pending > 0) throw new Lz4Error('truncated lz4 frame');
    return [];
  }

  #expect(state: State, need: number): void {
    this.#state = state;
    this.#need = need;
  }

  #step(state: TakeState, b: Uint8Array, i: number): Uint8Array | null {
    switch (state) {
      case 'magic': this.#magic(u32(b, i)); return null;
      case 'skipSize': this.#skipLeft = u32(b, i); this.#expect('skip', 0); return null;
      case 'flags':
        this.#flg = b[i];
        this.#bd = b[i + 1];
        this.#expect('descriptor', descriptorTail(b[i], b[i + 1]));
        return null;
      case 'descriptor': this.#startFrame(parseDescriptor(this.#flg, this.#bd, b, i, this.#need)); return null;
      case 'blockSize': this.#blockHeader(u32(b, i)); return null;
      case 'legacySize': this.#legacyHeader(u32(b, i)); return null;
      case 'block':
      case 'legacyBlock': return this.#block(b, i);
      case 'checksum':
        if (this.#verifyContent && u32(b, i) !== this.#hash.digest()) throw new Lz4Error('lz4 content checksum mismatch');
        this.#endFrame();
        return null;
    }
  }

  #magic(magic: number): void {
    if (magic === FRAME_MAGIC) {
      this.#expect('flags', 2);
    } else if (isSkippable(magic)) {
      this.#expect('skipSize', 4);
    } else if (magic === LEGACY_MAGIC) {
      this.#frame = LEGACY_FRAME;
      this.#expect('legacySize', 4);
    } else {
      throw new Lz4Error(`bad lz4 magic 0x${magic.toString(16).padStart(8, '0')}`);
    }
  }

  #startFrame(frame: FrameDescriptor): void {
    this.#frame = frame;
    this.#hash = new XXH32();
    this.#produced = 0;
    this.#windowLen = 0;
    this.#expect('blockSize', 4);
  }

  #blockHeader(word: number): void {
    if (word === 0) {
      if (this.#frame.contentChecksum) this.#expect('checksum', 4);
      else this.#endFrame();
      return;
    }
    this.#raw = word >= UNCOMPRESSED;
    this.#blockLen = word & 0x7fffffff;
    if (this.#blockLen > this.#frame.blockMax) throw new Lz4Error(`malformed lz4 block at offset ${this.#in.start}`);
    this.#expect('block', this.#blockLen + (this.#frame.blockChecksum ? 4 : 0));
  }

  #legacyHeader(word: number): void {
    if (word > LEGACY_MAX_COMPRESSED) {
      this.#magic(word);
      return;
    }
    this.#raw = false;
    this.#blockLen = word;
    this.#expect('legacyBlock', word);
  }

  #endFrame(): void {
    const declared = this.#frame.contentSize;
    if (declared !== null && declared !== this.#produced) {
      throw new Lz4Error(`lz4 content size mismatch: header says ${declared}, decoded ${this.#produced}`);
    }
    this.#expect('magic', 4);
  }

  /** block checks and decodes the block at b[i..], then expects the next block header. */
  #block(b: Uint8Array, i: number): Uint8Array {
    const len = this.#blockLen;
    if (this.#frame.blockChecksum && u32(b, i + len) !== xxh32(b.subarray(i, i + len))) {
      throw new Lz4Error('lz4 block checksum mismatch');
    }
    const out = this.#decode(b, i, len);
    this.#expect(this.#state === 'legacyBlock' ? 'legacySize' : 'blockSize', 4);
    if (this.#frame.contentChecksum && this.#verifyContent) this.#hash.update(out);
    this.#produced += out.length;
    return out;
  }

  /**
   * decode expands one block into the shared scratch (reused, so no fresh memory to fault
   * in), after a copy of the window when blocks are linked, and copies it out (unless
   * borrowing: then the view itself, or a stored block's input bytes).
   */
  #decode(b: Uint8Array, i: number, len: number): Uint8Array {
    if (this.#raw && this.#borrow && this.#frame.independent) return b.subarray(i, i + len);
    const prefix = this.#frame.independent ? 0 : this.#windowLen;
    const cap = this.#raw ? len : Math.min(this.#frame.blockMax, len * MAX_RATIO);
    const buf = scratch(prefix + cap);
    buf.set(this.#window.subarray(0, prefix));
    let end = prefix + len;
    if (this.#raw) buf.set(b.subarray(i, i + len), prefix);
    else end = decodeBlock(b, i, i + len, buf, prefix, prefix + cap);
    if (end < 0) throw new Lz4Error(`malformed lz4 block at offset ${this.#in.start + (-end - 1 - i)}`);
    if (!this.#frame.independent) this.#keepWindow(buf, end);
    if (this.#borrow) return buf.subarray(prefix, end);
    const out = Buffer.allocUnsafe(end - prefix);
    out.set(buf.subarray(prefix, end));
    return out;
  }

  /** keepWindow saves the last 64 KB of output (window and block) for the next linked block. */
  #keepWindow(buf: Uint8Array, end: number): void {
    if (this.#window.length === 0) this.#window = new Uint8Array(WINDOW);
    this.#windowLen = Math.min(WINDOW, end);
    this.#window.set(buf.subarray(end - this.#windowLen, end));
  }
}
