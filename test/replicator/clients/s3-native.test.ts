/**
 * The native S3 client against answers s3rver never gives: a real HTTP server on
 * 127.0.0.1 that answers each request as the test says — a 200 that is not the document
 * asked for, a 200 carrying an `<Error>`, a clock far from ours, an error without a body,
 * a CompleteMultipartUpload that fails after its 200. What the client does with them is
 * what is tested: retries, errors, the requests it sends.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { Logger } from '../../../src/log.js';
import { planClient } from '../../../src/replicator/clients/s3-config.js';
import { originOf } from '../../../src/replicator/clients/s3-native.js';
import { S3ReplicaClient } from '../../../src/replicator/clients/s3.js';
import { newGeneration } from '../../../src/replicator/pos.js';
import { TEST_KEYS } from '../../helpers/credentials.js';

/** Seen is one request the server answered. */
interface Seen {
  method: string;
  url: string;
  amzDate: string;
  contentMd5?: string;
  bodyBytes: number;
}

type Answer = (req: http.IncomingMessage, n: number) => { status: number; body?: string; headers?: Record<string, string> };

let servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** answering starts a server that answers request number n (from 0) with `answer(req, n)` after reading its body. */
async function answering(answer: Answer): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, amzDate: String(req.headers['x-amz-date']), contentMd5: req.headers['content-md5'] as string | undefined, bodyBytes: bytes });
      const a = answer(req, seen.length - 1);
      res.writeHead(a.status, { 'content-type': 'application/xml', ...a.headers });
      res.end(a.body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function captured(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) }), lines };
}

function client(endpoint: string, logger: Logger, attempts = 3): S3ReplicaClient {
  return new S3ReplicaClient({ bucket: 'bkt', path: 'db', endpoint, ...TEST_KEYS }, { logger, transport: 'native', retry: { attempts, baseDelay: 5, maxDelay: 10 } });
}

const EMPTY_LIST = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bkt</Name><IsTruncated>false</IsTruncated></ListBucketResult>';

describe('the native S3 client and answers s3rver never gives', () => {
  test('a 200 that is not a listing (a proxy page, a cut body) is retried, never taken as an empty replica', async () => {
    const bad = ['<html><body>gateway</body></html>', '<?xml version="1.0"?><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>db/generations/0123456789abcdef/x'];
    const s = await answering((_req, n) => ({ status: 200, body: bad[n % 2] }));
    const { logger, lines } = captured();
    const c = client(s.endpoint, logger);
    const err = await c.generations().catch((e: unknown) => e);
    expect((err as Error).message).toBe('list generations: 500 unexpected answer to ListObjectsV2: not a whole ListBucketResult');
    expect(s.seen.length).toBe(3);
    expect(lines.length).toBe(2);
    await c.close();
  });

  test('a 200 carrying an <Error> is that error, retried; the next good answer is used', async () => {
    const s = await answering((_req, n) => (n === 0 ? { status: 200, body: '<?xml version="1.0"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>' } : { status: 200, body: EMPTY_LIST }));
    const { logger, lines } = captured();
    const c = client(s.endpoint, logger);
    expect(await c.generations()).toEqual([]);
    expect(lines).toEqual([expect.stringMatching(/^WARN retrying op=list key=generations attempt=2 delay=\d+ error="500 InternalError"/)]);
    await c.close();
  });

  test('a server clock an hour ahead: RequestTimeTooSkewed once, then requests are signed with its time', async () => {
    const ahead = 3_600_000;
    const s = await answering((req) => {
      const stamp = String(req.headers['x-amz-date']).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
      const serverNow = Date.now() + ahead;
      const date = new Date(serverNow).toUTCString();
      if (Math.abs(Date.parse(stamp) - serverNow) > 15 * 60_000) {
        return { status: 403, headers: { date }, body: '<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>' };
      }
      return { status: 200, headers: { date }, body: EMPTY_LIST };
    });
    const { logger, lines } = captured();
    const c = client(s.endpoint, logger);
    expect(await c.generations()).toEqual([]);
    expect(await c.generations()).toEqual([]);
    expect(s.seen.length).toBe(3);
    expect(lines).toEqual([expect.stringMatching(/error="403 RequestTimeTooSkewed"/)]);
    await c.close();
  });

  test('an error without a body reads as its status; a 403 is not retried', async () => {
    const s = await answering((_req, n) => ({ status: n === 0 ? 503 : 403 }));
    const { logger, lines } = captured();
    const c = client(s.endpoint, logger, 2);
    const err = await c.generations().catch((e: unknown) => e);
    expect((err as Error).message).toBe('list generations: 403 Forbidden');
    expect(lines).toEqual([expect.stringMatching(/error="503 Service Unavailable"/)]);
    await c.close();
  });

  test('a multipart upload whose completion fails after its 200 fails, and is aborted', async () => {
    const s = await answering((req) => {
      const url = new URL(req.url!, 'http://x');
      if (req.method === 'POST' && url.searchParams.has('uploads')) return { status: 200, body: '<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>' };
      if (req.method === 'PUT' && url.searchParams.has('partNumber')) return { status: 200, headers: { etag: `"etag-${url.searchParams.get('partNumber')}"` } };
      if (req.method === 'POST' && url.searchParams.has('uploadId')) return { status: 200, body: '<?xml version="1.0"?><Error><Code>InternalError</Code><Message>late failure</Message></Error>' };
      return { status: 204 };
    });
    const { logger } = captured();
    const c = client(s.endpoint, logger);
    const body = Readable.from((function* () {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(1024 * 1024, i);
    })());
    const err = await c.writeSnapshot(newGeneration(), 0, body).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^write snapshot generations\/[0-9a-f]{16}\/snapshots\/00000000\.snapshot\.lz4: 500 InternalError$/);
    const kinds = s.seen.map((r) => `${r.method} ${new URL(r.url, 'http://x').search.replace(/=[^&]*/g, '')}`);
    expect(kinds).toEqual(['POST ?uploads', 'PUT ?partNumber&uploadId', 'PUT ?partNumber&uploadId', 'PUT ?partNumber&uploadId', 'POST ?uploadId', 'DELETE ?uploadId']);
    // Two parts go up at once: they may arrive in either order.
    expect(s.seen.filter((r) => r.method === 'PUT').map((r) => r.bodyBytes).sort((a, b) => a - b)).toEqual([4 * 1024 * 1024, 8 * 1024 * 1024, 8 * 1024 * 1024]);
    expect(s.seen.filter((r) => r.bodyBytes > 0).every((r) => r.contentMd5 !== undefined)).toBe(true);
    await c.close();
  });
});

describe('originOf', () => {
  test('an IP endpoint is addressed path-style even when virtual-hosted is asked for, as the SDK does', () => {
    for (const endpoint of ['http://127.0.0.1:9000', 'http://[::1]:9000']) {
      const o = originOf(planClient({ bucket: 'bkt', path: '', endpoint, forcePathStyle: false }), 'bkt', 'us-east-1');
      expect(o.root, endpoint).toBe('/bkt');
      expect(o.host, endpoint).toBe(new URL(endpoint).host);
    }
    const named = originOf(planClient({ bucket: 'bkt', path: '', endpoint: 'https://minio.example:9000', forcePathStyle: false }), 'bkt', 'us-east-1');
    expect([named.host, named.root]).toEqual(['bkt.minio.example:9000', '']);
    const dotted = originOf(planClient({ bucket: 'my.bucket', path: '' }), 'my.bucket', 'eu-west-1');
    expect([dotted.host, dotted.root]).toEqual(['s3.eu-west-1.amazonaws.com', '/my.bucket']);
    expect(originOf(planClient({ bucket: 'b-1', path: '' }), 'b-1', 'cn-north-1').host).toBe('b-1.s3.cn-north-1.amazonaws.com.cn');
  });
});
