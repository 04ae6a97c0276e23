import { describe, expect, test } from 'vitest';
import { ReplicaError } from '../../../src/errors.js';
import { describeS3Error, isRetryableS3Error, isS3NotFound, toReplicaError } from '../../../src/replicator/clients/s3-errors.js';

/** sdkError has the shape of an AWS SDK service exception. */
const sdkError = (status: number, name: string, message = 'service says no') =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const netError = (code: string, message: string, name = 'Error') => Object.assign(new Error(message), { code, name });

describe('s3 errors', () => {
  test('throttling, 5xx and dropped connections are retried; 4xx, TLS and aborts are not', () => {
    const retried = [
      sdkError(503, 'SlowDown'),
      sdkError(500, 'InternalError'),
      sdkError(429, 'TooManyRequests'),
      sdkError(400, 'RequestTimeout'),
      netError('ECONNRESET', 'read ECONNRESET', 'TimeoutError'),
      netError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      Object.assign(new Error('the request socket timed out'), { name: 'TimeoutError' }),
    ];
    const final = [
      sdkError(403, 'AccessDenied'),
      sdkError(404, 'NoSuchKey'),
      sdkError(404, 'NoSuchBucket'),
      sdkError(501, 'NotImplemented'),
      netError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
      Object.assign(new Error('aborted'), { name: 'AbortError' }),
    ];
    expect(retried.filter((e) => !isRetryableS3Error(e))).toEqual([]);
    expect(final.filter(isRetryableS3Error)).toEqual([]);
  });

  test('no credentials names what to set instead of the SDK\'s text', () => {
    const none = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(describeS3Error(none)).toBe(
      'no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY),' +
        ' or access-key-id and secret-access-key in the config, or use an AWS profile or role',
    );
    const profile = Object.assign(new Error('Could not resolve credentials using profile: [prod]'), { name: 'CredentialsProviderError' });
    expect(describeS3Error(profile)).toMatch(/^cannot load S3 credentials: Could not resolve credentials using profile: \[prod\] \(set AWS_ACCESS_KEY_ID /);
    expect(isRetryableS3Error(none)).toBe(false);
  });

  test('a missing key is notFound; a missing bucket is not', () => {
    expect(isS3NotFound(sdkError(404, 'NoSuchKey'))).toBe(true);
    expect(isS3NotFound(sdkError(404, 'NotFound'))).toBe(true);
    expect(isS3NotFound(sdkError(404, 'NoSuchBucket'))).toBe(false);
    expect(isS3NotFound(sdkError(403, 'AccessDenied'))).toBe(false);
  });

  test('messages are a few words', () => {
    expect(describeS3Error(sdkError(503, 'SlowDown'))).toBe('503 SlowDown');
    expect(describeS3Error(sdkError(500, 'Unknown', 'UnknownError'))).toBe('500 UnknownError');
    expect(describeS3Error(netError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'))).toBe('self-signed certificate (use skip-verify to accept it)');
    expect(describeS3Error(Object.assign(new Error('@smithy/node-http-handler - the request socket timed out after 300 ms'), { name: 'TimeoutError' }))).toBe('request timed out');
    expect(describeS3Error(netError('ECONNRESET', 'read ECONNRESET', 'TimeoutError'))).toBe('read ECONNRESET');
  });

  test('toReplicaError names the operation and key, and marks notFound', () => {
    const err = toReplicaError('read wal', 'generations/0123456789abcdef/wal/00000001_00004080.wal.lz4', sdkError(404, 'NoSuchKey')) as ReplicaError;
    expect(err).toBeInstanceOf(ReplicaError);
    expect(err.message).toBe('read wal generations/0123456789abcdef/wal/00000001_00004080.wal.lz4: 404 NoSuchKey');
    expect(err.notFound).toBe(true);
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toReplicaError('list', 'generations', abort)).toBe(abort);
  });
});
