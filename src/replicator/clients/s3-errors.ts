/**
 * s3-errors: what an S3 failure means (missing object, worth a retry) and how it reads in
 * one short line (`503 SlowDown`, `connect ECONNREFUSED 127.0.0.1:9000`). Messages are
 * built only from the status, the error code and the transport message: never from the
 * request, so they cannot carry a credential.
 */
import { ReplicaError, errorMessage } from '../../errors.js';

/** SdkErrorShape is the part of an AWS SDK / Node network error that the checks read. */
interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

const RETRYABLE_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  // The native client follows the server's clock from the answer that refused it (the SDK too).
  'RequestTimeTooSkewed',
]);

/** UNTRUSTED_CERT_CODES are Node's TLS verification failures that `skip-verify` accepts. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** s3Status returns the HTTP status of a failed S3 request, or undefined for a transport error. */
export function s3Status(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

function s3Code(err: unknown): string | undefined {
  const e = shape(err);
  const code = e.Code ?? e.name;
  return code && code !== 'Error' && code !== 'Unknown' && code !== 'UnknownError' ? code : undefined;
}

/** isS3NotFound reports a missing object (NoSuchKey, or a 404 that is not a missing bucket). */
export function isS3NotFound(err: unknown): boolean {
  const code = s3Code(err);
  if (code === 'NoSuchKey' || code === 'NotFound') return true;
  return s3Status(err) === 404 && code !== 'NoSuchBucket';
}

/** isAbortError reports an aborted request. */
export function isAbortError(err: unknown): boolean {
  return shape(err).name === 'AbortError';
}

/**
 * isRetryableS3Error reports failures worth another attempt: throttling (429, 503 SlowDown),
 * other 5xx except 501, S3's RequestTimeout, request timeouts and dropped or refused
 * connections. 4xx answers (403, 404, …), TLS failures and aborts are final.
 */
export function isRetryableS3Error(err: unknown): boolean {
  if (isAbortError(err)) return false;
  const status = s3Status(err);
  if (status === 429 || (status !== undefined && status >= 500 && status !== 501)) return true;
  const e = shape(err);
  if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.Code && RETRYABLE_NAMES.has(e.Code)) return true;
  if (e.code && RETRYABLE_CODES.has(e.code)) return true;
  return /socket hang up/i.test(e.message ?? '');
}

/** SET_CREDENTIALS names every place Lifeboat takes an S3 key pair from (see s3-credentials.ts). */
export const SET_CREDENTIALS =
  'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY),' +
  ' or access-key-id and secret-access-key in the config, or use an AWS profile or role';

/**
 * describeCredentialsError words the SDK's CredentialsProviderError (its default chain found
 * no keys, or a profile it was sent to is broken), naming what to set.
 */
function describeCredentialsError(e: SdkErrorShape): string {
  if (/could not load credentials from any providers/i.test(e.message ?? '')) return `no S3 credentials found: ${SET_CREDENTIALS}`;
  return `cannot load S3 credentials: ${e.message} (${SET_CREDENTIALS})`;
}

/** describeS3Error renders a failure in a few words: `503 SlowDown`, `self-signed certificate (use skip-verify to accept it)`. */
export function describeS3Error(err: unknown): string {
  const e = shape(err);
  if (e.name === 'CredentialsProviderError') return describeCredentialsError(e);
  // Node 26 appends a hint about --use-system-ca after a ';': the reason is the part before it.
  if (e.code && UNTRUSTED_CERT_CODES.has(e.code)) return `${(e.message ?? e.code).split(';')[0]} (use skip-verify to accept it)`;
  // The SDK's handler renames ECONNRESET and EPIPE failures TimeoutError too: keep their message.
  if (e.name === 'TimeoutError' && (!e.code || e.code === 'ETIMEDOUT')) return 'request timed out';
  const status = s3Status(err);
  if (status !== undefined) {
    const code = s3Code(err);
    return code && code !== String(status) ? `${status} ${code}` : `${status} ${e.message || 'error'}`;
  }
  return errorMessage(err);
}

/**
 * toReplicaError wraps an S3 failure of `op` on `key` (a key relative to the replica root):
 * `read wal generations/…/00000001_00004080.wal.lz4: 503 SlowDown`. Aborts pass through.
 */
export function toReplicaError(op: string, key: string, err: unknown): unknown {
  if (isAbortError(err) || err instanceof ReplicaError) return err;
  return new ReplicaError(op, key, new Error(describeS3Error(err), { cause: err }), { notFound: isS3NotFound(err) });
}
