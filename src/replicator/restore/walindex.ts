/**
 * walindex: verify one WAL index as its decompressed bytes stream through, and index its
 * committed frames. Every segment must start where the previous one ended, end on a frame
 * boundary, and every frame must carry the header's salts and the chained checksum — the
 * checks SQLite's recovery would otherwise turn into silently dropped frames.
 */
import {
  WAL_HEADER_SIZE,
  frameSize,
  parseWALHeader,
  u32,
  type Checksum,
  type WALHeader,
} from '../wal.js';
import { hex8 } from '../pos.js';
import { CorruptError } from './errors.js';
import { frameChecksum } from './checksum.js';

/** IndexedWAL is what applying one WAL index needs: where each page's last committed version lies. */
export interface IndexedWAL {
  index: number;
  pageSize: number;
  /** pages maps a page number to the file offset of the frame holding its last committed version. */
  pages: Map<number, number>;
  /** commitSize is the database size in pages after the last commit (0: nothing committed). */
  commitSize: number;
  /** size is the number of bytes in the index's WAL file. */
  size: number;
  /** frames counts every frame; committedFrames those up to the last commit. */
  frames: number;
  committedFrames: number;
}

/** WALIndexer verifies and indexes the bytes of one WAL index, fed in order, segment by segment. */
export class WALIndexer {
  readonly #index: number;
  #segment = '';
  #size = 0;
  #header: WALHeader | undefined;
  #buf = new Uint8Array(WAL_HEADER_SIZE);
  #fill = 0;
  #sum: Checksum = [0, 0];
  #pending: number[] = [];
  #pages = new Map<number, number>();
  #commitSize = 0;
  #frames = 0;
  #committedFrames = 0;

  constructor(index: number) {
    this.#index = index;
  }

  /** beginSegment starts the segment stored at `offset`; it must start where the previous one ended. */
  beginSegment(name: string, offset: number): void {
    if (offset !== this.#size) {
      const what = offset > this.#size ? 'gap' : 'overlap';
      throw new CorruptError(
        `wal index ${hex8(this.#index)}: ${what} before segment ${name}: it starts at offset ${hex8(offset)}, the previous segment ended at ${hex8(this.#size)}`,
      );
    }
    this.#segment = name;
  }

  /** push verifies a chunk of decompressed bytes of the current segment. */
  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      const fsz = this.#buf.length;
      if (this.#fill === 0 && this.#header && chunk.length - off >= fsz && (chunk.byteOffset + off) % 4 === 0) {
        this.#takeFrame(chunk.subarray(off, off + fsz), this.#size);
        this.#size += fsz;
        off += fsz;
        continue;
      }
      const n = Math.min(fsz - this.#fill, chunk.length - off);
      this.#buf.set(chunk.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill === fsz) this.#complete();
    }
  }

  /** endSegment checks the current segment ended on a frame boundary. */
  endSegment(): void {
    if (this.#fill !== 0) {
      throw new CorruptError(`wal segment ${this.#segment}: ends inside ${this.#header ? 'a frame' : 'the wal header'}`);
    }
    if (!this.#header) throw new CorruptError(`wal segment ${this.#segment}: empty (no wal header)`);
  }

  /** finish returns the index of committed frames; frames after the last commit are ignored, as SQLite does. */
  finish(): IndexedWAL {
    if (!this.#header) throw new CorruptError(`wal index ${hex8(this.#index)}: no wal header`);
    return {
      index: this.#index,
      pageSize: this.#header.pageSize,
      pages: this.#pages,
      commitSize: this.#commitSize,
      size: this.#size,
      frames: this.#frames,
      committedFrames: this.#committedFrames,
    };
  }

  #complete(): void {
    const start = this.#size;
    this.#size += this.#buf.length;
    this.#fill = 0;
    if (!this.#header) return this.#takeHeader();
    this.#takeFrame(this.#buf, start);
  }

  #takeHeader(): void {
    const hdr = parseWALHeader(this.#buf);
    if (!hdr) throw new CorruptError(`wal segment ${this.#segment}: bad wal header (magic, page size or checksum)`);
    this.#header = hdr;
    this.#sum = [hdr.checksum1, hdr.checksum2];
    this.#buf = new Uint8Array(frameSize(hdr.pageSize));
  }

  /** takeFrame checks one whole frame `b` (at file offset `start`) and records its page. */
  #takeFrame(b: Uint8Array, start: number): void {
    const hdr = this.#header!;
    if (u32(b, 8) !== hdr.salt1 || u32(b, 12) !== hdr.salt2) throw this.#bad(start, 'salt does not match the wal header');
    const sum = frameChecksum(hdr, b, this.#sum);
    if (sum[0] !== u32(b, 16) || sum[1] !== u32(b, 20)) throw this.#bad(start, 'bad wal checksum');
    this.#sum = sum;
    this.#frames++;
    const pgno = u32(b, 0);
    if (pgno === 0) throw this.#bad(start, 'page number 0');
    this.#pending.push(pgno, start);
    const commit = u32(b, 4);
    if (commit === 0) return;
    for (let i = 0; i < this.#pending.length; i += 2) this.#pages.set(this.#pending[i], this.#pending[i + 1]);
    this.#pending.length = 0;
    this.#commitSize = commit;
    this.#committedFrames = this.#frames;
  }

  #bad(start: number, what: string): CorruptError {
    return new CorruptError(`wal segment ${this.#segment}: frame at offset ${hex8(start)}: ${what}`);
  }
}
