/**
 * assembly: one WAL index put together from segments downloaded in any order. Each
 * segment's bytes are written at its own offset in the index's file (so segments of one
 * index download in parallel); a segment that would run past the next one's offset is an
 * overlap at once. When the last segment lands, the file is read back in offset order
 * through the WALIndexer: every gap, salt and chained checksum is checked, and the
 * committed frames are indexed. The file is in the page cache; the pass costs little.
 */
import fsp from 'node:fs/promises';
import { walSegmentName } from '../layout.js';
import { hex8 } from '../pos.js';
import type { QueuedWAL } from './apply.js';
import { CorruptError } from './errors.js';
import type { IndexPlan } from './plan.js';
import { WALIndexer } from './walindex.js';

/** READ_CHUNK is how much of the index file the verification pass reads at once. */
const READ_CHUNK = 1 << 20;

/** IndexAssembly collects one index's segments into `path` and verifies them once all have landed. */
export class IndexAssembly {
  readonly #plan: IndexPlan;
  readonly #generation: string;
  readonly #path: string;
  #fh: Promise<fsp.FileHandle> | undefined;
  readonly #lengths: (number | undefined)[];
  #remaining: number;

  constructor(generation: string, plan: IndexPlan, path: string) {
    this.#generation = generation;
    this.#plan = plan;
    this.#path = path;
    this.#lengths = plan.segments.map(() => undefined);
    this.#remaining = plan.segments.length;
  }

  /** handle opens the index file on first use (shared by the segments' positional writes). */
  handle(): Promise<fsp.FileHandle> {
    this.#fh ??= fsp.open(this.#path, 'w');
    return this.#fh;
  }

  /** limit is how many bytes segment `j` may hold: up to the next segment's offset (the last is unbounded). */
  limit(j: number): number {
    const next = this.#plan.segments[j + 1];
    return next ? next.offset - this.#plan.segments[j].offset : Infinity;
  }

  /** key names segment `j` as `<generation>/<index>_<offset>.wal.lz4`. */
  key(j: number): string {
    const s = this.#plan.segments[j];
    return `${this.#generation}/${walSegmentName(s.index, s.offset)}`;
  }

  /** landed records segment `j`'s decompressed length; true when it was the last one outstanding. */
  landed(j: number, length: number): boolean {
    this.#lengths[j] = length;
    return --this.#remaining === 0;
  }

  /** finish closes the file and verifies and indexes it in offset order. */
  async finish(): Promise<QueuedWAL> {
    await this.close();
    const indexer = new WALIndexer(this.#plan.index);
    const fh = await fsp.open(this.#path, 'r');
    try {
      const window = new ReadWindow(fh);
      for (const [j, seg] of this.#plan.segments.entries()) {
        indexer.beginSegment(this.key(j), seg.offset);
        const end = seg.offset + this.#lengths[j]!;
        for (let pos = seg.offset; pos < end; ) {
          const chunk = await window.at(pos, end);
          indexer.push(chunk);
          pos += chunk.length;
        }
        indexer.endSegment();
      }
    } finally {
      await fh.close();
    }
    return { ...indexer.finish(), path: this.#path };
  }

  /** close releases the write handle (after a failure too). */
  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    if (fh) await (await fh).close();
  }

  /** overlap is the error for segment `j` decompressing past the next segment's offset. */
  overlap(j: number): CorruptError {
    const next = this.#plan.segments[j + 1];
    return new CorruptError(
      `wal index ${hex8(this.#plan.index)}: overlap: segment ${this.key(j)} runs past offset ${hex8(next.offset)}, where the next segment starts`,
    );
  }
}

/**
 * ReadWindow reads a file forward in READ_CHUNK reads, whatever the segments' boundaries:
 * an index of hundreds of small segments takes a few reads, not one or more per segment.
 */
class ReadWindow {
  readonly #fh: fsp.FileHandle;
  readonly #buf = Buffer.allocUnsafe(READ_CHUNK);
  #start = 0;
  #len = 0;

  constructor(fh: fsp.FileHandle) {
    this.#fh = fh;
  }

  /** at returns the bytes from `pos` on, up to `end` and at most one read's worth. */
  async at(pos: number, end: number): Promise<Buffer> {
    if (pos < this.#start || pos >= this.#start + this.#len) {
      const { bytesRead } = await this.#fh.read(this.#buf, 0, this.#buf.length, pos);
      if (bytesRead === 0) throw new Error(`read wal file: unexpected end at offset ${pos}`);
      this.#start = pos;
      this.#len = bytesRead;
    }
    const from = pos - this.#start;
    return this.#buf.subarray(from, from + Math.min(end - pos, this.#len - from));
  }
}
