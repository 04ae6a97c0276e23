import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, ReplicaError } from '../../../src/errors.js';
import { Logger } from '../../../src/log.js';
import { createReplicaClient } from '../../../src/replicator/clients/index.js';
import { S3ReplicaClient, type S3ReplicaClientOptions } from '../../../src/replicator/clients/s3.js';
import { newGeneration } from '../../../src/replicator/pos.js';
import { TEST_KEYS } from '../../helpers/credentials.js';
import { startS3rver, type S3rver } from '../../helpers/s3rver.js';
import { waitUntil } from '../../helpers/wait.js';
import { collect, readAll, replicaClientContract } from '../replica-client.contract.js';

const BUCKET = 'lifeboat';
let server: S3rver;

beforeAll(async () => {
  server = await startS3rver();
  await server.bucket(BUCKET);
});
afterAll(async () => server?.stop());

/** captured returns a logger that keeps its lines. */
function captured(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) }), lines };
}

function client(path: string, opts: S3ReplicaClientOptions = {}): S3ReplicaClient {
  return new S3ReplicaClient({ bucket: BUCKET, path, endpoint: server.endpoint, ...TEST_KEYS }, { logger: captured().logger, ...opts });
}

// s3rver 3.7.1 ignores If-None-Match on PUT: a second createClaim overwrites there (claim.ts decides by listing).
replicaClientContract(
  's3',
  async () => {
    const c = client(`contract-${randomBytes(6).toString('hex')}/db`);
    return { client: c, cleanup: async () => {} };
  },
  { refusesOverwrite: false },
);

// The same contract through the AWS SDK (the client for the SDK's credential chain).
replicaClientContract(
  's3 through the AWS SDK',
  async () => {
    const c = client(`contract-sdk-${randomBytes(6).toString('hex')}/db`, { transport: 'sdk' });
    return { client: c, cleanup: async () => {} };
  },
  { refusesOverwrite: false },
);

describe('S3ReplicaClient on s3rver', () => {
  test('keys live under the path prefix; an empty or slashed path works', async () => {
    const gen = newGeneration();
    const cases: [string, string][] = [
      ['a/b', `a/b/generations/${gen}/wal/00000001_00004080.wal.lz4`],
      ['/slashed/', `slashed/generations/${gen}/wal/00000001_00004080.wal.lz4`],
      ['', `generations/${gen}/wal/00000001_00004080.wal.lz4`],
    ];
    for (const [path, key] of cases) {
      const c = client(path);
      server.resetRequests();
      await c.writeWALSegment({ generation: gen, index: 1, offset: 0x4080 }, Buffer.from('x'));
      expect((await server.requests()).map((r) => r.key)).toEqual([key]);
      expect(await c.generations()).toContain(gen);
      await c.close();
    }
  });

  test('issues only the requests asked for: one PUT per write, one GET per listing page', async () => {
    const prefix = `count-${randomBytes(4).toString('hex')}`;
    const c = client(prefix);
    const gen = newGeneration();
    server.resetRequests();
    expect(await server.requests()).toEqual([]);
    await c.writeWALSegment({ generation: gen, index: 0, offset: 0 }, Buffer.from('bytes'));
    await c.writeWALSegment({ generation: gen, index: 0, offset: 5 }, Readable.from([Buffer.from('small'), Buffer.from(' stream')]));
    await c.writeSnapshot(gen, 0, Buffer.from('snapshot'));
    const writes = await server.requests();
    expect(writes.map((r) => `${r.method} ${r.key.split('/').at(-1)} ${Object.keys(r.query).filter((q) => q !== 'x-id').join(',')}`)).toEqual([
      'PUT 00000000_00000000.wal.lz4 ',
      'PUT 00000000_00000005.wal.lz4 ',
      'PUT 00000000.snapshot.lz4 ',
    ]);

    server.resetRequests();
    expect(await c.generations()).toEqual([gen]);
    expect((await collect(c.walSegments(gen))).length).toBe(2);
    expect((await collect(c.snapshots(gen))).length).toBe(1);
    await readAll(await c.readWALSegment({ generation: gen, index: 0, offset: 0 }));
    const reads = await server.requests();
    expect(reads.map((r) => `${r.method} ${r.query['list-type'] ?? r.key.split('/').at(-1)}`)).toEqual(['GET 2', 'GET 2', 'GET 2', 'GET 00000000_00000000.wal.lz4']);
    expect(reads[0].query).toMatchObject({ delimiter: '/', prefix: `${prefix}/generations/` });

    server.resetRequests();
    await c.deleteGeneration(gen);
    expect((await server.requests()).map((r) => `${r.method} ${r.query['list-type'] ?? Object.keys(r.query)[0]}`)).toEqual(['GET 2', 'POST delete']);
    await c.close();
  });

  test('a listing of 1,001 keys takes two pages, and their deletion two batches', async () => {
    const cap = captured();
    const c = client(`paging-${randomBytes(4).toString('hex')}`, { logger: cap.logger });
    const gen = newGeneration();
    const positions = Array.from({ length: 1_001 }, (_, i) => ({ generation: gen, index: 0, offset: i * 32 }));
    const queue = [...positions];
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) await c.writeWALSegment(p, Buffer.from('.'));
    }));
    server.resetRequests();
    expect((await collect(c.walSegments(gen))).length).toBe(1_001);
    const pages = await server.requests();
    expect(pages.length).toBe(2);
    expect(pages[1].query['continuation-token']).toBeTruthy();

    server.resetRequests();
    await c.deleteWALSegments(positions);
    expect((await server.requests()).map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(await collect(c.walSegments(gen))).toEqual([]);
    expect(cap.lines).toEqual([]);
    await c.close();
  });

  test('constructing a client sends nothing and loads no SDK until the first call', async () => {
    server.resetRequests();
    const c = client('lazy');
    expect(await server.requests()).toEqual([]);
    expect(await c.generations()).toEqual([]);
    expect((await server.requests()).length).toBe(1);
    await c.close();
  });

  test('a streamed snapshot larger than one part goes multipart; an abort aborts the upload', async () => {
    const c = client(`multipart-${randomBytes(4).toString('hex')}`);
    const gen = newGeneration();
    server.resetRequests();
    const ac = new AbortController();
    const fast = new Readable({
      read() {
        setTimeout(() => this.push(Buffer.alloc(1024 * 1024, 2)), 2);
      },
    });
    setTimeout(() => ac.abort(), 800);
    await expect(c.writeSnapshot(gen, 0, fast, ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    const reqs = await server.requests();
    expect(reqs.some((r) => r.method === 'POST' && 'uploads' in r.query)).toBe(true);
    // The upload is aborted (AbortMultipartUpload), never completed.
    const all = await waitUntil(async () => {
      const now = await server.requests();
      return now.some((r) => r.method === 'DELETE' && 'uploadId' in r.query) && now;
    }, { what: 'an AbortMultipartUpload request' });
    expect(all.filter((r) => r.method === 'POST' && 'uploadId' in r.query)).toEqual([]);
    expect(await collect(c.snapshots(gen))).toEqual([]);
    await c.close();
  });

  test('a 503 SlowDown is retried with one log line per retry; a 403 is not', async () => {
    const { logger, lines } = captured();
    const c = client(`retry-${randomBytes(4).toString('hex')}`, { logger, retry: { attempts: 4, baseDelay: 20, maxDelay: 100 } });
    const gen = newGeneration();
    const key = `generations/${gen}/wal/00000001_00004080.wal.lz4`;
    await server.failNext({ count: 2, status: 503, code: 'SlowDown' });
    server.resetRequests();
    await c.writeWALSegment({ generation: gen, index: 1, offset: 0x4080 }, Buffer.from('x'));
    expect((await server.requests()).length).toBe(3);
    expect(lines.length).toBe(2);
    expect(lines[0]).toBe(`WARN retrying op="write wal" key=${key} attempt=2 delay=${/delay=(\d+)/.exec(lines[0])![1]} error="503 SlowDown"\n`);
    expect(lines[1]).toMatch(/^WARN retrying op="write wal" .* attempt=3 /);

    lines.length = 0;
    await server.failNext({ count: 10, status: 503, code: 'SlowDown' });
    server.resetRequests();
    const err = await c.readWALSegment({ generation: gen, index: 1, offset: 0x4080 }).catch((e: unknown) => e);
    await server.failNext({ count: 0, status: 503, code: 'SlowDown' });
    expect((err as Error).message).toBe(`read wal ${key}: 503 SlowDown`);
    expect((await server.requests()).length).toBe(4);
    expect(lines.length).toBe(3);

    lines.length = 0;
    server.resetRequests();
    await server.failNext({ count: 1, status: 403, code: 'AccessDenied' });
    const denied = await c.generations().catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ReplicaError);
    expect((denied as Error).message).toBe('list generations: 403 AccessDenied');
    expect((await server.requests()).length).toBe(1);
    expect(lines).toEqual([]);
    await c.close();
  });

  test('a missing bucket is an error, not an empty replica', async () => {
    const c = new S3ReplicaClient({ bucket: 'no-such-bucket', path: 'db', endpoint: server.endpoint, ...TEST_KEYS }, { logger: captured().logger });
    const err = await c.generations().catch((e: unknown) => e);
    expect((err as Error).message).toBe('list generations: 404 NoSuchBucket');
    expect((err as ReplicaError).notFound).toBe(false);
    await c.close();
  });

  test('createReplicaClient checks the s3 config before any request', () => {
    const base = { name: 's3', type: 's3' as const, path: 'db', retention: 0, retentionCheckInterval: 0, syncInterval: 0, snapshotInterval: 0, validationInterval: 0 };
    expect(() => createReplicaClient(base)).toThrow(ConfigError);
    expect(() => createReplicaClient({ ...base, bucket: 'b', endpoint: 'ftp://x' })).toThrow('endpoint: invalid endpoint "ftp://x": want http:// or https://');
    expect(() => createReplicaClient({ ...base, bucket: 'b', accessKeyId: 'AKID' })).toThrow('secret-access-key: required when access-key-id is set');
    const c = createReplicaClient({ ...base, bucket: 'b', endpoint: 'minio.local:9000' });
    expect(c).toBeInstanceOf(S3ReplicaClient);
    expect(c.location).toBe('s3://b/db?endpoint=https://minio.local:9000');
  });
});
