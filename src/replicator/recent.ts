/**
 * recent: the bytes most recently appended to the shadow WAL, kept in a fixed ring so
 * that replicas upload them without reading the file back. A reused buffer matters here:
 * reading into freshly allocated memory costs ~10× a reused one (page faults), and a busy
 * database appends tens of MB a second.
 */

/** RECENT_BYTES is the size of the ring (allocated on first use). */
export const RECENT_BYTES = 8 * 1024 * 1024;

/** RecentBytes holds the latest bytes of one shadow WAL index, contiguous, up to its capacity. */
export class RecentBytes {
  private readonly cap: number;
  private buf: Uint8Array | undefined;
  private index = -1;
  /** end is the shadow offset just past the newest byte held. */
  private end = 0;
  /** len is how many bytes are held (the oldest is at offset end - len). */
  private len = 0;
  /** head is where in `buf` the oldest byte sits. */
  private head = 0;
  /** added counts every byte ever added (the metrics' total shadow WAL bytes). */
  added = 0;

  constructor(cap = RECENT_BYTES) {
    this.cap = cap;
  }

  /** add records `bytes` written at `offset` of shadow index `index`; a jump elsewhere starts over. */
  add(index: number, offset: number, bytes: Uint8Array): void {
    if (index !== this.index || offset !== this.end) {
      this.index = index;
      this.end = offset;
      this.len = 0;
      this.head = 0;
    }
    const buf = (this.buf ??= new Uint8Array(this.cap));
    this.added += bytes.length;
    this.end = offset + bytes.length;
    if (bytes.length >= this.cap) {
      buf.set(bytes.subarray(bytes.length - this.cap));
      this.head = 0;
      this.len = this.cap;
      return;
    }
    let at = (this.head + this.len) % this.cap;
    for (let done = 0; done < bytes.length; ) {
      const n = Math.min(bytes.length - done, this.cap - at);
      buf.set(bytes.subarray(done, done + n), at);
      done += n;
      at = (at + n) % this.cap;
    }
    const total = this.len + bytes.length;
    if (total > this.cap) this.head = (this.head + total - this.cap) % this.cap;
    this.len = Math.min(total, this.cap);
  }

  /**
   * get returns bytes [start, end) of `index` if all of them are held. The result may be a
   * view into the ring: use it before the next add.
   */
  get(index: number, start: number, end: number): Buffer | undefined {
    if (!this.buf || index !== this.index || start < this.end - this.len || end > this.end || start > end) return undefined;
    const from = (this.head + (start - (this.end - this.len))) % this.cap;
    const n = end - start;
    if (from + n <= this.cap) return Buffer.from(this.buf.buffer, this.buf.byteOffset + from, n);
    const first = Buffer.from(this.buf.buffer, this.buf.byteOffset + from, this.cap - from);
    const second = Buffer.from(this.buf.buffer, this.buf.byteOffset, n - first.length);
    return Buffer.concat([first, second]);
  }
}
