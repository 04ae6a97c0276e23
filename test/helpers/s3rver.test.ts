import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { TEST_ACCESS_KEY_ID, TEST_KEYS } from './credentials.js';
import { startS3rver, type S3rver } from './s3rver.js';

/** The harness patches s3rver's store; these tests show the patch is needed and right. */
describe('s3rver harness', () => {
  const servers: S3rver[] = [];
  let fixed: S3rver;
  let unfixed: S3rver;
  beforeAll(async () => {
    [fixed, unfixed] = await Promise.all([startS3rver(), startS3rver({ fixPrefixes: false })]);
    servers.push(fixed, unfixed);
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  function sdk(server: S3rver): S3Client {
    return new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: TEST_KEYS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
  }

  async function seed(server: S3rver): Promise<S3Client> {
    await server.bucket('b');
    const s3 = sdk(server);
    for (const Key of ['db/generations/aaaaaaaaaaaaaaaa/wal/00000000_00000000.wal.lz4', 'db/generations/bbbbbbbbbbbbbbbb/snapshots/00000000.snapshot.lz4', 'db/generations/cccccccccccccccc/top-level-object', 'db/other']) {
      await s3.send(new PutObjectCommand({ Bucket: 'b', Key, Body: 'x' }));
    }
    return s3;
  }

  const list = (s3: S3Client, Prefix: string) => s3.send(new ListObjectsV2Command({ Bucket: 'b', Prefix, Delimiter: '/' }));

  test('plain s3rver drops common prefixes of directories without a direct object', async () => {
    const s3 = await seed(unfixed);
    const out = await list(s3, 'db/generations/');
    expect((out.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['db/generations/cccccccccccccccc/']);
    s3.destroy();
  });

  test('the patched store returns every common prefix, once, as S3 does', async () => {
    const s3 = await seed(fixed);
    const out = await list(s3, 'db/generations/');
    expect((out.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual([
      'db/generations/aaaaaaaaaaaaaaaa/',
      'db/generations/bbbbbbbbbbbbbbbb/',
      'db/generations/cccccccccccccccc/',
    ]);
    expect(out.Contents ?? []).toEqual([]);
    const top = await list(s3, 'db/');
    expect((top.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['db/generations/']);
    expect((top.Contents ?? []).map((o) => o.Key)).toEqual(['db/other']);
    const partial = await list(s3, 'db/generations/b');
    expect((partial.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['db/generations/bbbbbbbbbbbbbbbb/']);
    s3.destroy();
  });

  test('records every request with the signing key id, and injects faults', async () => {
    const s3 = sdk(fixed);
    fixed.resetRequests();
    await list(s3, 'db/');
    await fixed.failNext({ count: 1, status: 503, code: 'SlowDown' });
    const err = await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' })).catch((e: { name: string }) => e);
    expect(err).toMatchObject({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const reqs = await fixed.requests();
    expect(reqs.map((r) => [r.method, r.key, r.accessKeyId])).toEqual([
      ['GET', '', TEST_ACCESS_KEY_ID],
      ['PUT', 'k', TEST_ACCESS_KEY_ID],
    ]);
    expect(reqs[0].query).toMatchObject({ 'list-type': '2', prefix: 'db/', delimiter: '/' });
    s3.destroy();
  });

  test('a PUT replaces an object only when its body is complete: during an upload and after an aborted one, GET returns the previous object', async () => {
    await fixed.bucket('b');
    const s3 = sdk(fixed);
    const get = async () => (await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'kept' }))).Body!.transformToString();
    await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'kept', Body: 'previous' }));
    fixed.resetRequests();
    const req = http.request(`${fixed.endpoint}/b/kept`, { method: 'PUT', headers: { 'content-length': '1000' } });
    req.on('error', () => {});
    req.write('partial body');
    const deadline = Date.now() + 10_000;
    while (!(await fixed.requests()).some((r) => r.method === 'PUT' && r.key === 'kept')) {
      if (Date.now() > deadline) throw new Error('the server never received the partial PUT');
      await sleep(20);
    }
    expect(await get()).toBe('previous');
    req.destroy();
    expect(await get()).toBe('previous');
    const listed = await list(s3, '');
    expect((listed.Contents ?? []).map((o) => [o.Key, o.Size])).toContainEqual(['kept', 8]);
    s3.destroy();
  });
});
