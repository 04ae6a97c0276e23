/**
 * errors: the two kinds of restore failure a caller must tell apart. "No backup exists"
 * (NoBackupError) is what `-if-replica-exists` forgives; everything else — a backup that
 * exists but cannot be read — is a plain Error naming the missing or corrupt piece.
 */

/** NoBackupError: no generation at all, an unknown `-generation`, or a `-timestamp` outside every generation. */
export class NoBackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoBackupError';
  }
}

/** CorruptError: a stored piece fails verification (bad LZ4, bad WAL checksum, gap in offsets, …). */
export class CorruptError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptError';
  }
}
