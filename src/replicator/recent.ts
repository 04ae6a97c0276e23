/**
 * recent: the bytes most recently appended to the shadow WAL, kept in a fixed ring so
 * that replicas upload them without reading the file back. A reused buffer matters here:
 * reading into freshly allocated memory costs ~10× a reused one (page faults), and a busy
 * database appends tens of MB a second. The ring holds the tail of the last indexes, not
 * only the current one: a busy database moves to index+1 at each WAL restart, usually
 * before the replicas have uploaded the end of the previous index.
 */

/** RECENT_BYTES is the size of the ring (allocated on first use). */
export const RECENT_BYTES = 8 * 1024 * 1024;

/** Span is one index's run of contiguous bytes in the ring. */
interface Span {
  index: number;
  /** start is the shadow offset of the span's first byte (which may since have been overwritten). */
  start: number;
  /** end is the shadow offset just past its newest byte. */
  end: number;
  /** at is the ring position (counted over every byte ever added) of the byte at `start`. */
  at: number;
}

/** RecentBytes holds the latest bytes appended to the shadow WAL, up to its capacity. */
export class RecentBytes {
  private readonly cap: number;
  private buf: Uint8Array | undefined;
  /** spans, oldest first; the last one is where the next add continues. */
  private spans: Span[] = [];
  /** added counts every byte ever added (the metrics' total shadow WAL bytes); it is also the ring position. */
  added = 0;

  constructor(cap = RECENT_BYTES) {
    this.cap = cap;
  }

  /**
   * add records `bytes` written at `offset` of shadow index `index`. The same index at its
   * end continues the last span, a higher index starts a new one; anything else (an index
   * going back, a jump in offsets: a new generation) forgets everything held.
   */
  add(index: number, offset: number, bytes: Uint8Array): void {
    const last = this.spans[this.spans.length - 1];
    if (!last || index !== last.index || offset !== last.end) {
      if (last && (index < last.index || (index === last.index && offset !== last.end))) this.spans = [];
      this.spans.push({ index, start: offset, end: offset, at: this.added });
    }
    const span = this.spans[this.spans.length - 1];
    const buf = (this.buf ??= new Uint8Array(this.cap));
    const keep = bytes.subarray(Math.max(0, bytes.length - this.cap));
    let at = (this.added + bytes.length - keep.length) % this.cap;
    for (let done = 0; done < keep.length; ) {
      const n = Math.min(keep.length - done, this.cap - at);
      buf.set(keep.subarray(done, done + n), at);
      done += n;
      at = (at + n) % this.cap;
    }
    this.added += bytes.length;
    span.end += bytes.length;
    while (this.spans.length > 1 && this.spans[0].at + (this.spans[0].end - this.spans[0].start) <= this.added - this.cap) this.spans.shift();
  }

  /** clear forgets everything held (a new generation: its indexes start over). */
  clear(): void {
    this.spans = [];
  }

  /**
   * get returns bytes [start, end) of `index` if all of them are held. The result may be a
   * view into the ring: use it before the next add.
   */
  get(index: number, start: number, end: number): Buffer | undefined {
    const span = this.spans.find((s) => s.index === index);
    if (!this.buf || !span || start < span.start || end > span.end || start > end) return undefined;
    const pos = span.at + (start - span.start);
    if (pos < this.added - this.cap) return undefined;
    const from = pos % this.cap;
    const n = end - start;
    if (from + n <= this.cap) return Buffer.from(this.buf.buffer, this.buf.byteOffset + from, n);
    const first = Buffer.from(this.buf.buffer, this.buf.byteOffset + from, this.cap - from);
    const second = Buffer.from(this.buf.buffer, this.buf.byteOffset, n - first.length);
    return Buffer.concat([first, second]);
  }
}
