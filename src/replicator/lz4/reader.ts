/** reader: hands out contiguous byte ranges from input that arrives in chunks of any size. */

const EMPTY = new Uint8Array(0);

/**
 * ByteReader gives the decoder `n` contiguous bytes at a time. A range inside the current
 * chunk is returned in place; one that spans chunks is gathered into a scratch buffer
 * (reused; it grows to the largest range asked, at most one block; not zeroed: every
 * byte handed out was copied in first).
 */
export class ByteReader {
  /** buf and off locate the range the last successful take() returned. */
  buf: Uint8Array = EMPTY;
  off = 0;
  /** start is the stream offset of buf[off]; total counts every byte fed. */
  start = 0;
  total = 0;
  #next = 0;
  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  #scratch: Uint8Array = EMPTY;
  #staged = 0;
  #want = 0;

  /** feed sets the next input chunk; the previous one must have been used up. */
  feed(chunk: Uint8Array): void {
    this.#chunk = chunk;
    this.#pos = 0;
    this.total += chunk.length;
  }

  /** pending is how many fed bytes have not been handed out yet. */
  get pending(): number {
    return this.#staged + this.#chunk.length - this.#pos;
  }

  /** take makes the next n bytes available as buf[off..off+n); false means the chunk ran out (call again with the same n after feed). */
  take(n: number): boolean {
    if (this.#want === 0) {
      if (this.#chunk.length - this.#pos >= n) {
        this.#hand(this.#chunk, this.#pos, n);
        this.#pos += n;
        return true;
      }
      if (this.#scratch.length < n) this.#scratch = Buffer.allocUnsafe(n);
      this.#want = n;
    }
    const k = Math.min(this.#want - this.#staged, this.#chunk.length - this.#pos);
    this.#scratch.set(this.#chunk.subarray(this.#pos, this.#pos + k), this.#staged);
    this.#pos += k;
    this.#staged += k;
    if (this.#staged < this.#want) return false;
    this.#hand(this.#scratch, 0, n);
    this.#want = this.#staged = 0;
    return true;
  }

  /** skip drops up to n bytes of the current chunk (never while a take is gathering); returns how many. */
  skip(n: number): number {
    const k = Math.min(n, this.#chunk.length - this.#pos);
    this.#pos += k;
    this.#next += k;
    return k;
  }

  #hand(buf: Uint8Array, off: number, n: number): void {
    this.buf = buf;
    this.off = off;
    this.start = this.#next;
    this.#next += n;
  }
}
