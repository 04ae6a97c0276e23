/** error: the one error type of the LZ4 codec. */

/** Lz4Error is malformed or corrupt LZ4 input (bad magic, checksum mismatch, truncated frame, bad block). */
export class Lz4Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Lz4Error';
  }
}
