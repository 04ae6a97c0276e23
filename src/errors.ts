/**
 * errors: the few typed errors Lifeboat raises. Messages are short verb phrases chained
 * with ": " (`download wal 00000001_00004080: 503 SlowDown`), never starting with the
 * command's name: the CLI prints `lifeboat <command>: message` on one line and maps the
 * class to an exit code.
 */

/** ConfigError is a bad configuration value; `field` names the key, `value` the bad value (never a secret). */
export class ConfigError extends Error {
  readonly field: string;
  readonly value: string | undefined;

  constructor(field: string, message: string, value?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'ConfigError';
    this.field = field;
    this.value = value;
  }
}

/** UsageError is a bad command line (unknown flag, missing argument); the CLI exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** ReplicaError is a failed storage operation `op` on `key`; `notFound` marks a missing object. */
export class ReplicaError extends Error {
  readonly op: string;
  readonly key: string;
  readonly notFound: boolean;
  /** midRead: the object was found and reading its bytes failed (starting the read over may work). */
  readonly midRead: boolean;

  constructor(op: string, key: string, cause: unknown, opts: { notFound?: boolean; midRead?: boolean } = {}) {
    super(`${op} ${key}: ${errorMessage(cause)}`, { cause });
    this.name = 'ReplicaError';
    this.op = op;
    this.key = key;
    this.notFound = opts.notFound ?? false;
    this.midRead = opts.midRead ?? false;
  }
}

/** ServiceExitError reports that a supervised service exited with `code` or died of `signal`. */
export class ServiceExitError extends Error {
  readonly service: string;
  readonly code: number | null;
  readonly signal: string | null;

  constructor(service: string, code: number | null, signal: string | null) {
    super(`${service}: ${signal ? `killed by ${signal}` : `exited with code ${code}`}`);
    this.name = 'ServiceExitError';
    this.service = service;
    this.code = code;
    this.signal = signal;
  }
}

/** errorMessage returns the message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** wrapError prefixes an error's message with `context: `, keeping the original as `cause`. */
export function wrapError(context: string, err: unknown): Error {
  const wrapped = new Error(`${context}: ${errorMessage(err)}`, { cause: err });
  if (err instanceof Error && 'code' in err) (wrapped as Error & { code: unknown }).code = err.code;
  return wrapped;
}

/** isNotFound reports whether an error means "no such file or object". */
export function isNotFound(err: unknown): boolean {
  if (err instanceof ReplicaError) return err.notFound;
  if (err instanceof Error && 'code' in err) return err.code === 'ENOENT';
  if (err instanceof Error && err.cause !== undefined) return isNotFound(err.cause);
  return false;
}

/** LOCAL_DISK_CODES are the errno codes of a local disk that cannot take a write. */
const LOCAL_DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EFBIG']);

/** isDiskFull reports whether an error (or one it wraps) is a local disk refusing a write: full, over quota, read-only. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof Error && 'code' in err && LOCAL_DISK_CODES.has(String(err.code))) return true;
  if (err instanceof Error && err.cause !== undefined) return isDiskFull(err.cause);
  return false;
}
