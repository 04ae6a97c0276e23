/**
 * s3-native: S3Ops as plain HTTP requests over node:http / node:https, signed with
 * SigV4 (s3-sign.ts), for replicas with static keys. It does what the replica layout
 * needs and nothing else: ListObjectsV2, GetObject, PutObject (optionally `If-None-Match:
 * *`), DeleteObject, DeleteObjects and multipart uploads. Loading it costs a few modules
 * where the AWS SDK costs ~30 MB and ~0.15 s of CPU per process (docs/benchmarks.md).
 *
 * Bodies: a PUT's payload is hashed into the signature (S3 checks it, so a body damaged on
 * the way is refused); a GET of up to WHOLE_LIMIT bytes is read whole before the call
 * returns, so a connection cut mid-body fails the request (and the replica client
 * retries it); a larger one is handed over as the response stream, whose length is
 * checked against Content-Length at its end.
 */
import type { ClientRequest, IncomingMessage, IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { addAbortSignal, Transform, type Readable } from 'node:stream';
import { loadCrypto, loadHttp, loadHttps } from '../../builtin.js';
import { DEFAULT_S3_REGION } from '../../config/defaults.js';
import type { Logger } from '../../log.js';
import type { ReadBody } from '../replica-client.js';
import type { RetryPolicy } from './retry.js';
import { PART_SIZE } from './s3-body.js';
import { askBucketRegion, type Agents, type ClientPlan, type S3Timeouts } from './s3-config.js';
import type { S3Ops } from './s3-ops.js';
import { EMPTY_SHA256, canonicalQuery, encodeKeyPath, sha256Hex, signRequest, type SigningKeys } from './s3-sign.js';
import { completeBody, deleteBody, parseDeleteFailures, parseErrorDoc, parseListPage, parseUploadId, type DeleteFailure, type ListPage } from './s3-xml.js';

/** WHOLE_LIMIT is the largest object a GET reads whole; larger ones stream. */
export const WHOLE_LIMIT = 1024 * 1024;

/** ERROR_BODY_LIMIT bounds how much of an error answer is kept. */
const ERROR_BODY_LIMIT = 64 * 1024;

/** TEXT_LIMIT bounds an XML answer (a listing page of 1,000 keys is a few hundred KB). */
const TEXT_LIMIT = 16 * 1024 * 1024;

/** SKEW_TOLERANCE_MS: a server clock further off than this from ours is followed when signing. */
const SKEW_TOLERANCE_MS = 5 * 60_000;

/**
 * ServerClock follows the server's clock when ours is off by more than SKEW_TOLERANCE_MS
 * (a host without NTP): S3 refuses a signature dated more than 15 minutes from its own
 * time (`RequestTimeTooSkewed`), and every answer's `Date` says what its time is. The SDK
 * does the same.
 */
class ServerClock {
  private offset = 0;

  /** observe takes the `Date` header of an answer. */
  observe(date: string | undefined): void {
    const server = date ? Date.parse(date) : NaN;
    if (Number.isNaN(server)) return;
    const diff = server - Date.now();
    this.offset = Math.abs(diff) > SKEW_TOLERANCE_MS ? diff : 0;
  }

  /** now is the time to sign with. */
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
}

/** NativeParams is what a native client is built from. */
export interface NativeParams {
  plan: ClientPlan;
  bucket: string;
  keys: SigningKeys;
  agents: Agents;
  timeouts: S3Timeouts;
  logger: Logger;
  retry: RetryPolicy;
}

/**
 * S3HttpError is an S3 answer outside 2xx, in the shape the SDK gives its errors
 * (`$metadata.httpStatusCode`, `Code`, `name`, `$response.headers`) so that s3-errors.ts
 * reads both alike. Its message is the service's, never the request.
 */
export class S3HttpError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $response: { headers: Record<string, string | undefined> };
  readonly Code?: string;

  constructor(status: number, code: string | undefined, message: string | undefined, headers: IncomingHttpHeaders) {
    super(message || loadHttp().STATUS_CODES[status] || 'error');
    this.name = code ?? (status === 404 ? 'NotFound' : status === 403 ? 'Forbidden' : 'Unknown');
    this.Code = code;
    this.$metadata = { httpStatusCode: status };
    this.$response = { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])) };
  }
}

/** Origin is where requests go: scheme, host (and port), and the path prefix before the key. */
interface Origin {
  https: boolean;
  hostname: string;
  port?: number;
  /** host is the Host header (the port only when it is not the scheme's default). */
  host: string;
  /** root is the encoded path of the bucket: `` (virtual-hosted) or `/bucket`, after any endpoint path. */
  root: string;
}

/** Reply is a 2xx answer: its headers, and its body as text when asked for. */
interface Reply {
  headers: IncomingHttpHeaders;
  text: string;
}

/** RequestSpec is one request: where, what, and what to read back. */
interface RequestSpec {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  /** key is the object key; undefined addresses the bucket. */
  key?: string;
  query?: [string, string][];
  body?: Uint8Array;
  /** headers are signed and sent (lower-case names). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** connectNative returns native S3Ops for the bucket, asking it for its region first when neither endpoint nor region is configured. */
export async function connectNative(p: NativeParams): Promise<S3Ops> {
  const region = p.plan.region ?? (await findRegion(p));
  return new NativeS3(p, region);
}

/** NativeS3 signs and sends each request itself. */
export class NativeS3 implements S3Ops {
  private readonly origin: Origin;
  private readonly region: string;
  private readonly keys: SigningKeys;
  private readonly agents: Agents;
  private readonly timeouts: S3Timeouts;
  private readonly clock = new ServerClock();

  constructor(p: Pick<NativeParams, 'plan' | 'bucket' | 'keys' | 'agents' | 'timeouts'>, region: string) {
    this.origin = originOf(p.plan, p.bucket, region);
    this.region = region;
    this.keys = p.keys;
    this.agents = p.agents;
    this.timeouts = p.timeouts;
  }

  async list(prefix: string, delimiter: string | undefined, token: string | undefined, signal?: AbortSignal): Promise<ListPage> {
    const query: [string, string][] = [['list-type', '2'], ['prefix', prefix]];
    if (delimiter !== undefined) query.push(['delimiter', delimiter]);
    if (token !== undefined) query.push(['continuation-token', token]);
    return parseListPage(expectDocument(await this.text({ method: 'GET', query, signal }), 'ListBucketResult', 'ListObjectsV2'));
  }

  async get(key: string, signal?: AbortSignal): Promise<ReadBody> {
    const res = await this.send({ method: 'GET', key, signal });
    const length = Number(res.headers['content-length']);
    if (Number.isSafeInteger(length) && length <= WHOLE_LIMIT) return readWhole(res, length);
    const body = Number.isSafeInteger(length) ? res.pipe(lengthChecked(length, res)) : res;
    return signal ? addAbortSignal(signal, body) : body;
  }

  async put(key: string, body: Uint8Array, ifNoneMatch: boolean, signal?: AbortSignal): Promise<void> {
    await this.done({ method: 'PUT', key, body, headers: ifNoneMatch ? { 'if-none-match': '*' } : {}, signal });
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.done({ method: 'DELETE', key, signal });
  }

  async deleteMany(keys: string[], signal?: AbortSignal): Promise<DeleteFailure[]> {
    const answer = await this.text({ method: 'POST', query: [['delete', '']], body: Buffer.from(deleteBody(keys)), signal });
    return parseDeleteFailures(expectDocument(answer, 'DeleteResult', 'DeleteObjects'));
  }

  async multipart(key: string, stream: Readable, signal?: AbortSignal): Promise<void> {
    const uploadId = parseUploadId(await this.text({ method: 'POST', key, query: [['uploads', '']], signal }));
    if (!uploadId) throw new S3HttpError(500, undefined, 'no UploadId in the answer to CreateMultipartUpload', {});
    const pending: Promise<void>[] = [];
    try {
      const etags: string[] = [];
      let failed: { err: unknown } | undefined;
      let number = 0;
      for await (const part of partsOf(stream, PART_SIZE)) {
        if (failed) throw failed.err;
        const n = ++number;
        const query: [string, string][] = [['partNumber', String(n)], ['uploadId', uploadId]];
        pending.push(
          this.done({ method: 'PUT', key, query, body: part, signal }).then(
            (r) => {
              if (!r.headers.etag) throw new S3HttpError(500, undefined, `no ETag in the answer to UploadPart ${n}`, {});
              etags[n - 1] = r.headers.etag;
            },
          ).catch((err: unknown) => void (failed ??= { err })),
        );
        if (pending.length >= 2) await pending.shift();
      }
      await Promise.all(pending);
      if (failed) throw failed.err;
      // CompleteMultipartUpload can fail after its 200 has started: `text` reads the error
      // in the body; anything but a result is a failure too.
      const answer = await this.text({ method: 'POST', key, query: [['uploadId', uploadId]], body: Buffer.from(completeBody(etags)), signal });
      expectDocument(answer, 'CompleteMultipartUploadResult', 'CompleteMultipartUpload');
    } catch (err) {
      // Parts still uploading when the upload is aborted may survive it: let them settle first.
      await Promise.allSettled(pending);
      await this.done({ method: 'DELETE', key, query: [['uploadId', uploadId]] }).catch(() => {});
      throw err;
    }
  }

  close(): void {}

  /**
   * text sends a request and returns its body as text. S3 may answer 200 and then an
   * `<Error>` document (a failure after the answer started): that is a failure, as a 500.
   */
  private async text(spec: RequestSpec): Promise<string> {
    const text = (await this.done(spec, true)).text;
    const error = /^\s*(<\?xml[^>]*\?>\s*)?<Error>/.test(text) ? parseErrorDoc(text) : undefined;
    if (error) throw new S3HttpError(500, error.code ?? 'InternalError', error.message, {});
    return text;
  }

  /** done sends a request and reads its answer to the end (the text only when asked). */
  private async done(spec: RequestSpec, keepText = false): Promise<Reply> {
    const res = await this.send(spec);
    const length = Number(res.headers['content-length'] ?? NaN);
    if (length > TEXT_LIMIT) {
      res.destroy();
      throw new S3HttpError(500, undefined, `answer of ${length} bytes to ${spec.method} is over ${TEXT_LIMIT}`, res.headers);
    }
    const body = await readWhole(res, length, TEXT_LIMIT);
    return { headers: res.headers, text: keepText ? body.toString('utf8') : '' };
  }

  /** send signs and sends a request; resolves with a 2xx response whose body is unread, rejects with S3HttpError otherwise. */
  send(spec: RequestSpec): Promise<IncomingMessage> {
    const o = this.origin;
    const path = `${o.root}/${spec.key === undefined ? '' : encodeKeyPath(spec.key)}`;
    const query = spec.query ?? [];
    const body = spec.body;
    const headers: Record<string, string> = { ...spec.headers };
    // Content-MD5 on every body: a store checks it too, and Object Lock buckets require it.
    const md5 = body && contentMd5(body);
    if (md5) headers['content-md5'] = md5;
    const signed = signRequest(
      { method: spec.method, host: o.host, path, query, headers, payloadHash: body ? sha256Hex(body) : EMPTY_SHA256, region: this.region, date: this.clock.now() },
      this.keys,
    );
    const qs = canonicalQuery(query);
    const sent: Record<string, string | number> = { ...headers, ...signed, host: o.host };
    if (body || spec.method === 'PUT' || spec.method === 'POST') sent['content-length'] = body?.byteLength ?? 0;
    const mod = o.https ? loadHttps() : loadHttp();
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = mod.request({
        protocol: o.https ? 'https:' : 'http:',
        hostname: o.hostname,
        port: o.port,
        method: spec.method,
        path: qs ? `${path}?${qs}` : path,
        headers: sent,
        agent: o.https ? this.agents.https : this.agents.http,
        signal: spec.signal,
      });
      this.bound(req);
      req.once('error', reject);
      req.once('response', (res) => {
        this.clock.observe(res.headers.date);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        // A cut error body still leaves the status: the error is built from what arrived.
        readWhole(res, NaN, ERROR_BODY_LIMIT).then(
          (b) => {
            const doc = parseErrorDoc(b.toString('utf8'));
            reject(new S3HttpError(status, doc.code, doc.message, res.headers));
          },
          () => reject(new S3HttpError(status, undefined, undefined, res.headers)),
        );
      });
      req.end(body);
    });
  }

  /** bound applies the connect timeout (a new socket that has not connected) and the idle timeout. */
  private bound(req: ClientRequest): void {
    req.setTimeout(this.timeouts.idle, () => req.destroy(timeoutError()));
    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => req.destroy(timeoutError()), this.timeouts.connect);
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
    });
  }
}

/** contentMd5 is a body's MD5 in base64, or undefined where MD5 is unavailable (an OpenSSL in FIPS mode). */
function contentMd5(body: Uint8Array): string | undefined {
  try {
    return loadCrypto().createHash('md5').update(body).digest('base64');
  } catch {
    return undefined;
  }
}

/**
 * expectDocument returns `text` if it is a whole `<root>` document: a 2xx answer that is
 * anything else (a proxy's page, a body cut short without a length) is a failure worth a
 * retry, never an empty or short result.
 */
function expectDocument(text: string, root: string, what: string): string {
  if (new RegExp(`<${root}[\\s>/]`).test(text) && (new RegExp(`</${root}>\\s*$`).test(text) || new RegExp(`<${root}[^>]*/>\\s*$`).test(text))) return text;
  throw new S3HttpError(500, undefined, `unexpected answer to ${what}: not a whole ${root}`, {});
}

/** timeoutError is a request that timed out, as describeS3Error and isRetryableS3Error know it. */
function timeoutError(): Error {
  const err = new Error('request timed out');
  err.name = 'TimeoutError';
  return err;
}

/**
 * originOf decides where a bucket's requests go. With an endpoint: path-style
 * (`endpoint/bucket/key`) or virtual-hosted (`bucket.endpoint-host/key`), as planned.
 * Without: AWS's regional endpoint. Virtual-hosted unless path-style is forced, the
 * bucket name cannot be a host name under TLS (dots, upper case) or the endpoint is an IP
 * address, as the SDK decides.
 */
export function originOf(plan: ClientPlan, bucket: string, region: string): Origin {
  const base = new URL(plan.endpoint ?? `https://s3.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`);
  const https = base.protocol === 'https:';
  const hostable = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);
  const pathStyle = plan.forcePathStyle || !hostable || isIP(base.hostname.replace(/^\[|\]$/g, '')) !== 0;
  const basePath = base.pathname.replace(/\/+$/, '');
  const hostname = (pathStyle ? '' : `${bucket}.`) + base.hostname;
  const port = base.port ? Number(base.port) : undefined;
  return {
    https,
    hostname: hostname.replace(/^\[|\]$/g, ''),
    port,
    host: hostname + (base.port ? `:${base.port}` : ''),
    root: basePath + (pathStyle ? `/${encodeKeyPath(bucket)}` : ''),
  };
}

/** findRegion asks AWS for a bucket's region: a HEAD of the bucket signed for us-east-1 names it in `x-amz-bucket-region`. */
async function findRegion(p: NativeParams): Promise<string> {
  const probe = new NativeS3(p, DEFAULT_S3_REGION);
  return askBucketRegion(async () => {
    const res = await probe.send({ method: 'HEAD' });
    res.resume();
    return { $response: { headers: res.headers } };
  }, p);
}

/**
 * readWhole reads a response body into one buffer. With a known `length`, a body that ends
 * short is an error (a cut connection); `limit` caps what is kept of an unknown length.
 */
function readWhole(res: IncomingMessage, length: number, limit = Infinity): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const known = Number.isSafeInteger(length);
    const whole = known ? Buffer.allocUnsafe(length) : undefined;
    const chunks: Buffer[] = [];
    let got = 0;
    res.on('data', (c: Buffer) => {
      if (whole) {
        if (got + c.length > length) return res.destroy(new Error(`response body longer than its Content-Length ${length}`));
        c.copy(whole, got);
      } else if (got < limit) chunks.push(c);
      got += c.length;
    });
    res.once('error', (err) => reject(isCutOff(err) ? shortBody(got, length) : err));
    res.once('end', () => {
      if (known && got !== length) return reject(shortBody(got, length));
      resolve(whole ?? Buffer.concat(chunks));
    });
    res.once('close', () => {
      if (!res.complete) reject(shortBody(got, length));
    });
  });
}

/** isCutOff reports Node's error for a response whose connection closed mid-body (`aborted`). */
function isCutOff(err: unknown): boolean {
  return err instanceof Error && err.message === 'aborted' && (err as Error & { code?: string }).code === 'ECONNRESET';
}

/** shortBody is a body cut off before its end: a connection reset, retried like one. */
function shortBody(got: number, length: number): Error {
  const err = new Error(`response body ended after ${got} of ${Number.isSafeInteger(length) ? length : 'unknown'} bytes`);
  (err as Error & { code: string }).code = 'ECONNRESET';
  return err;
}

/** lengthChecked passes a streamed body through and fails it if it ends short of `length`. */
function lengthChecked(length: number, res: IncomingMessage): Transform {
  let got = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      got += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      cb(got === length && res.complete ? null : shortBody(got, length));
    },
  });
  res.once('error', (err) => t.destroy(isCutOff(err) ? shortBody(got, length) : err));
  res.once('close', () => {
    if (!res.complete) t.destroy(shortBody(got, length));
  });
  t.once('close', () => {
    if (!res.complete) res.destroy();
  });
  return t;
}

/** partsOf cuts a stream into buffers of `size` bytes (the last one shorter). */
async function* partsOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let part = Buffer.allocUnsafe(size);
  let used = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (c.length > 0) {
      const n = Math.min(c.length, size - used);
      c.copy(part, used, 0, n);
      used += n;
      c = c.subarray(n);
      if (used === size) {
        yield part;
        part = Buffer.allocUnsafe(size);
        used = 0;
      }
    }
  }
  if (used > 0) yield part.subarray(0, used);
}
