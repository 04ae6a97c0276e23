import { describe, expect, test } from 'vitest';
import { bucketRegionFrom, createAgents, MAX_SOCKETS, normalizePrefix, planClient } from '../../../src/replicator/clients/s3-config.js';

describe('planClient', () => {
  test('a custom endpoint means path-style, us-east-1 and only required checksums', () => {
    expect(planClient({ bucket: 'b', path: 'db', endpoint: 'http://127.0.0.1:9000' })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      whenRequiredChecksums: true,
      skipVerify: false,
    });
    expect(planClient({ bucket: 'b', path: '', endpoint: 'minio:9000', region: 'eu-west-3', forcePathStyle: false, skipVerify: true })).toMatchObject({
      endpoint: 'https://minio:9000',
      region: 'eu-west-3',
      forcePathStyle: false,
      skipVerify: true,
    });
  });

  test('AWS without a region leaves the region to be asked from the bucket', () => {
    expect(planClient({ bucket: 'b', path: 'db' })).toEqual({ region: undefined, endpoint: undefined, forcePathStyle: false, whenRequiredChecksums: false, skipVerify: false });
    expect(planClient({ bucket: 'b', path: 'db', region: 'us-west-2' }).region).toBe('us-west-2');
  });

  test('bad settings are ConfigErrors naming the field', () => {
    expect(() => planClient({ path: 'db' })).toThrow('bucket: required for an s3 replica');
    expect(() => planClient({ bucket: 'b', path: 'db', endpoint: 'http://[bad' })).toThrow('endpoint: invalid endpoint "http://[bad"');
    expect(() => planClient({ bucket: 'b', path: 'db', endpoint: 'https://AKID:hunter2@s3.local' })).toThrow(/^endpoint: credentials in an endpoint are not supported$/);
    expect(() => planClient({ bucket: 'b', path: 'db', endpoint: 'https://AKID:hunter2@[bad' })).toThrow(/^endpoint: credentials in an endpoint are not supported$/);
  });
});

describe('s3 config helpers', () => {
  test('normalizePrefix', () => {
    expect(['', '/', 'db', '/db/', 'a/b//'].map(normalizePrefix)).toEqual(['', '', 'db', 'db', 'a/b']);
  });

  test('agents keep connections alive with room for parallel restore', async () => {
    const a = await createAgents(true);
    expect(MAX_SOCKETS).toBeGreaterThanOrEqual(16);
    expect(a.https.maxSockets).toBe(MAX_SOCKETS);
    expect((a.http as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    expect(a.https.options.rejectUnauthorized).toBe(false);
    expect((await createAgents(false)).https.options.rejectUnauthorized).toBe(true);
  });

  test('bucketRegionFrom reads HeadBucket answers and failures', () => {
    expect(bucketRegionFrom({ BucketRegion: 'eu-central-1' })).toBe('eu-central-1');
    expect(bucketRegionFrom({ $response: { headers: { 'x-amz-bucket-region': 'ap-south-1' } } })).toBe('ap-south-1');
    expect(bucketRegionFrom(new Error('x'))).toBeUndefined();
    expect(bucketRegionFrom(undefined)).toBeUndefined();
  });
});
