/**
 * s3-ops: the S3 requests an S3 replica is built from, each one request with no retry of
 * its own (the replica client retries, logs and wraps). Two implementations: our own
 * SigV4 client over node:http (s3-native.ts, for static keys) and the AWS SDK
 * (s3-sdk.ts, for the SDK's credential chain). Keys here are whole object keys.
 */
import type { Readable } from 'node:stream';
import type { ReadBody } from '../replica-client.js';
import type { DeleteFailure, ListPage } from './s3-xml.js';

/** S3Ops is one bucket's requests. Failures carry the SDK's error shape (s3-errors.ts reads them). */
export interface S3Ops {
  /** list fetches one ListObjectsV2 page under `prefix`, after `token`. */
  list(prefix: string, delimiter: string | undefined, token: string | undefined, signal?: AbortSignal): Promise<ListPage>;
  /** get fetches an object: its bytes whole when small, else a stream. */
  get(key: string, signal?: AbortSignal): Promise<ReadBody>;
  /** put stores bytes with one PutObject; `ifNoneMatch` makes it a conditional create. */
  put(key: string, body: Uint8Array, ifNoneMatch: boolean, signal?: AbortSignal): Promise<void>;
  /** delete removes one object (a missing one is fine). */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** deleteMany removes up to 1,000 objects with one DeleteObjects; returns the keys it could not delete. */
  deleteMany(keys: string[], signal?: AbortSignal): Promise<DeleteFailure[]>;
  /** multipart uploads a long stream as one multipart upload, aborting the upload on any failure. */
  multipart(key: string, stream: Readable, signal?: AbortSignal): Promise<void>;
  /** close releases what the implementation holds beyond the shared connection pools. */
  close(): void;
}
