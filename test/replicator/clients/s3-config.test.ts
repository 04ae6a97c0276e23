import { describe, expect, test } from 'vitest';
import { bucketRegionFrom, createAgents, MAX_SOCKETS, normalizePrefix, planClient, s3Location } from '../../../src/replicator/clients/s3-config.js';
import { S3ReplicaClient } from '../../../src/replicator/clients/s3.js';
import { replicaFromURL } from '../../../src/config/url.js';

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

describe('s3Location', () => {
  test('keeps what locates the replica: endpoint, region, a non-default path style, skip-verify', () => {
    expect(s3Location({ bucket: 'b', path: '/db/' })).toBe('s3://b/db');
    expect(s3Location({ bucket: 'b', path: 'db', region: 'eu-west-3' })).toBe('s3://b/db?region=eu-west-3');
    expect(s3Location({ bucket: 'b', path: 'db', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true })).toBe(
      's3://b/db?endpoint=http://127.0.0.1:9000',
    );
    expect(s3Location({ bucket: 'b', path: 'db', endpoint: 'minio:9000', region: 'eu-west-3', forcePathStyle: false, skipVerify: true })).toBe(
      's3://b/db?endpoint=https://minio:9000&region=eu-west-3&force-path-style=false&skip-verify=true',
    );
    expect(s3Location({ bucket: 'b', path: 'db', forcePathStyle: true })).toBe('s3://b/db?force-path-style=true');
  });

  test('drops anything but scheme, host, port and path from the endpoint', () => {
    expect(s3Location({ bucket: 'b', path: 'db', endpoint: 'https://s3.local/base/?X-Amz-Credential=AKID&X-Amz-Signature=hunter2#x' })).toBe(
      's3://b/db?endpoint=https://s3.local/base',
    );
  });

  test('a client names its replica so: the URL it was given reads back the same, never with a key', () => {
    for (const url of ['s3://bkt/app?endpoint=http://127.0.0.1:9000', 's3://bkt/app?endpoint=https://minio:9000&region=eu-west-3&force-path-style=false']) {
      const r = replicaFromURL(url);
      const client = new S3ReplicaClient({ ...r, accessKeyId: 'AKIDLOCATION', secretAccessKey: 'hunter2-location' });
      expect(client.location).toBe(url);
      expect(replicaFromURL(client.location)).toEqual(r);
    }
    expect(new S3ReplicaClient(replicaFromURL('s3://bkt.localhost:9000/app')).location).toBe('s3://bkt/app?endpoint=http://localhost:9000');
  });
});
