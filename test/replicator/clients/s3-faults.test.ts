import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ReplicaError } from '../../../src/errors.js';
import { Logger } from '../../../src/log.js';
import { S3ReplicaClient, type S3ReplicaClientOptions } from '../../../src/replicator/clients/s3.js';
import { newGeneration } from '../../../src/replicator/pos.js';
import { TEST_KEYS } from '../../helpers/credentials.js';
import { startS3rver, type S3rver } from '../../helpers/s3rver.js';
import { startProxy } from '../../helpers/tcp-proxy.js';
import { readAll } from '../replica-client.contract.js';

const BUCKET = 'faults';
let plain: S3rver;
let tls: S3rver;

beforeAll(async () => {
  [plain, tls] = await Promise.all([startS3rver(), startS3rver({ https: true })]);
  await plain.bucket(BUCKET);
  await tls.bucket(BUCKET);
});
afterAll(async () => {
  await plain?.stop();
  await tls?.stop();
});

function captured(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) }), lines };
}

function client(endpoint: string, opts: S3ReplicaClientOptions & { skipVerify?: boolean } = {}): S3ReplicaClient {
  const path = `faults-${randomBytes(4).toString('hex')}`;
  return new S3ReplicaClient({ bucket: BUCKET, path, endpoint, skipVerify: opts.skipVerify, ...TEST_KEYS }, opts);
}

describe('S3ReplicaClient under faults', () => {
  test('retries through cut connections and succeeds once they are restored, logging each retry once', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: plain.port });
    // The connections come back once two retries have been logged (not after a fixed time).
    const lines: string[] = [];
    const logger = new Logger({
      level: 'debug',
      timestamps: false,
      write: (l) => {
        if (lines.push(l) === 2) proxy.restore();
      },
    });
    const c = client(`http://127.0.0.1:${proxy.port}`, { logger, retry: { attempts: 8, baseDelay: 100, maxDelay: 400 } });
    const gen = newGeneration();
    const pos = { generation: gen, index: 1, offset: 0x4080 };
    const body = randomBytes(5000);
    try {
      expect(await c.generations()).toEqual([]);
      const before = proxy.connections();
      proxy.cut();
      await c.writeWALSegment(pos, body);
      expect(proxy.connections()).toBeGreaterThan(before);
      expect((await readAll(await c.readWALSegment(pos))).equals(body)).toBe(true);

      const key = `generations/${gen}/wal/00000001_00004080.wal.lz4`;
      expect(lines.length).toBeGreaterThanOrEqual(2);
      lines.forEach((line, i) => {
        expect(line).toMatch(new RegExp(`^WARN retrying op="write wal" key=${key} attempt=${i + 2} delay=\\d+ error=`));
        expect(line).toMatch(/error="((read|write|connect) ECONNRESET|write EPIPE|socket hang up)( 127\.0\.0\.1:\d+)?"/);
      });
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  test('a small object cut off mid-body is read again whole; a large one fails its stream, never ends short', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: plain.port });
    const { logger, lines } = captured();
    const c = client(`http://127.0.0.1:${proxy.port}`, { logger, retry: { attempts: 4, baseDelay: 10, maxDelay: 20 } });
    const gen = newGeneration();
    const pos = { generation: gen, index: 0, offset: 0 };
    const small = randomBytes(600_000);
    const large = randomBytes(3_000_000);
    try {
      await c.writeWALSegment(pos, small);
      await c.writeSnapshot(gen, 0, large);
      proxy.resetAfter(200_000);
      const body = await c.readWALSegment(pos);
      expect(body).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(body as Uint8Array).equals(small)).toBe(true);
      expect(proxy.resets()).toBe(1);
      expect(lines).toEqual([expect.stringMatching(/^WARN retrying op="read wal" .* attempt=2 delay=\d+ error="(response body ended after \d+ of 600000 bytes|read ECONNRESET)"/)]);

      const stream = await c.readSnapshot(gen, 0);
      proxy.resetAfter(1_000_000);
      const err = await readAll(stream).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/^response body ended after \d+ of 3000000 bytes$|^read ECONNRESET$/);
      expect(proxy.resets()).toBe(2);
      expect((await readAll(await c.readSnapshot(gen, 0))).equals(large)).toBe(true);
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  test('connections are kept alive and reused; parallel reads open their own', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: plain.port }, { latencyMs: 5 });
    const c = client(`http://127.0.0.1:${proxy.port}`, { logger: captured().logger });
    const gen = newGeneration();
    try {
      for (let i = 0; i < 20; i++) await c.writeWALSegment({ generation: gen, index: 0, offset: i }, Buffer.from([i]));
      expect(proxy.connections()).toBe(1);
      const reads = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => readAll(await c.readWALSegment({ generation: gen, index: 0, offset: i }))),
      );
      expect(reads.map((b) => b[0])).toEqual(Array.from({ length: 16 }, (_, i) => i));
      expect(proxy.connections()).toBe(16);
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  test('a black-holed connection times out, is retried, then fails clearly', async () => {
    const proxy = await startProxy({ host: '127.0.0.1', port: plain.port }, { latencyMs: 60_000 });
    const { logger, lines } = captured();
    const c = client(`http://127.0.0.1:${proxy.port}`, {
      logger,
      retry: { attempts: 2, baseDelay: 10, maxDelay: 10 },
      timeouts: { connect: 1_000, idle: 300 },
    });
    try {
      const started = Date.now();
      const err = await c.generations().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReplicaError);
      expect((err as Error).message).toBe('list generations: request timed out');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/^WARN retrying op=list key=generations attempt=2 delay=\d+ error="request timed out"/);
      expect(proxy.connections()).toBe(2);
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  test('an abort stops the retry wait at once', async () => {
    const { logger } = captured();
    const c = client('http://127.0.0.1:1', { logger, retry: { attempts: 10, baseDelay: 5_000, maxDelay: 5_000 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const started = Date.now();
    await expect(c.generations(ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    // Well under the 5 s retry wait it cut short.
    expect(Date.now() - started).toBeLessThan(4_000);
    await c.close();
  });

  test('HTTPS with a self-signed certificate works with skip-verify', async () => {
    const c = client(tls.endpoint, { skipVerify: true, logger: captured().logger });
    const gen = newGeneration();
    const body = randomBytes(100_000);
    await c.writeSnapshot(gen, 0, body);
    expect(await c.generations()).toEqual([gen]);
    expect((await readAll(await c.readSnapshot(gen, 0))).equals(body)).toBe(true);
    await c.close();
  });

  test('HTTPS with a self-signed certificate fails clearly without skip-verify, and is not retried', async () => {
    const { logger, lines } = captured();
    const c = client(tls.endpoint, { logger });
    tls.resetRequests();
    const err = await c.generations().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicaError);
    expect((err as Error).message).toBe('list generations: self-signed certificate (use skip-verify to accept it)');
    expect(lines).toEqual([]);
    expect(await tls.requests()).toEqual([]);
    await c.close();
  });
});
