/**
 * s3-sdk: S3Ops through the AWS SDK, for replicas that sign with the SDK's default
 * credential chain (shared config files, SSO, container and instance roles) or when
 * `LIFEBOAT_S3_CLIENT=sdk` asks for it. The SDK is loaded on first use only: `lifeboat
 * init` and `replicate` start without it. Its own retries are off (the replica client
 * retries); without an endpoint or a region the bucket is asked for its region, as the
 * reference does.
 */
import { addAbortSignal, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_S3_REGION } from '../../config/defaults.js';
import type { Logger } from '../../log.js';
import type { ReadBody } from '../replica-client.js';
import type { RetryPolicy } from './retry.js';
import { PART_SIZE } from './s3-body.js';
import { askBucketRegion, sdkClientOptions, type Agents, type ClientPlan, type S3Timeouts } from './s3-config.js';
import type { ResolvedCredentials } from './s3-credentials.js';
import type { S3Ops } from './s3-ops.js';
import type { DeleteFailure, ListPage } from './s3-xml.js';

/** Sdk is the `@aws-sdk/client-s3` module. */
type Sdk = typeof import('@aws-sdk/client-s3');

/** ConnectParams is everything a client is built from. */
export interface ConnectParams {
  plan: ClientPlan;
  bucket: string;
  creds: ResolvedCredentials;
  agents: Agents;
  timeouts: S3Timeouts;
  logger: Logger;
  retry: RetryPolicy;
}

/** connectSdk imports the SDK and returns S3Ops on a client for the bucket's region. */
export async function connectSdk(p: ConnectParams): Promise<S3Ops> {
  const sdk = await import('@aws-sdk/client-s3');
  const region = p.plan.region ?? (await findRegion(sdk, p));
  const s3 = quietly(() => new sdk.S3Client(sdkClientOptions(p.plan, region, p.creds, p.agents, p.timeouts)));
  return new SdkS3(sdk, s3, p.bucket);
}

/** SdkS3 sends each request as one SDK command. */
class SdkS3 implements S3Ops {
  constructor(
    private readonly sdk: Sdk,
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async list(prefix: string, delimiter: string | undefined, token: string | undefined, signal?: AbortSignal): Promise<ListPage> {
    const page = await this.s3.send(
      new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
      { abortSignal: signal },
    );
    return {
      objects: (page.Contents ?? []).flatMap((o) => (o.Key ? [{ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) }] : [])),
      prefixes: (page.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : [])),
      ...(page.IsTruncated && page.NextContinuationToken ? { nextToken: page.NextContinuationToken } : {}),
    };
  }

  async get(key: string, signal?: AbortSignal): Promise<ReadBody> {
    const out = await this.s3.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    const body = out.Body as Readable;
    return signal ? addAbortSignal(signal, body) : body;
  }

  async put(key: string, body: Uint8Array, ifNoneMatch: boolean, signal?: AbortSignal): Promise<void> {
    const input = { Bucket: this.bucket, Key: key, Body: body, ContentLength: body.byteLength, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) };
    await this.s3.send(new this.sdk.PutObjectCommand(input), { abortSignal: signal });
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.s3.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
  }

  async deleteMany(keys: string[], signal?: AbortSignal): Promise<DeleteFailure[]> {
    const out = await this.s3.send(
      new this.sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      { abortSignal: signal },
    );
    return (out.Errors ?? []).map((e) => ({ key: e.Key, code: e.Code, message: e.Message }));
  }

  async multipart(key: string, stream: Readable, signal?: AbortSignal): Promise<void> {
    const { Upload } = await import('@aws-sdk/lib-storage');
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const upload = new Upload({
        client: this.s3,
        params: { Bucket: this.bucket, Key: key, Body: stream },
        partSize: PART_SIZE,
        queueSize: 2,
        leavePartsOnError: false,
        abortController,
      });
      await upload.done();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.s3.destroy();
  }
}

/** findRegion asks the bucket for its region through the SDK (following redirects). */
async function findRegion(sdk: Sdk, p: ConnectParams): Promise<string> {
  const options = { ...sdkClientOptions(p.plan, DEFAULT_S3_REGION, p.creds, p.agents, p.timeouts), followRegionRedirects: true };
  const probe = quietly(() => new sdk.S3Client(options));
  return askBucketRegion(() => probe.send(new sdk.HeadBucketCommand({ Bucket: p.bucket })), p);
}

/**
 * quietly constructs an SDK client without its NodeVersionSupportWarning: on Node < 22 the
 * SDK prints a 9-line notice about its releases after January 2027 to stderr of every run;
 * Lifeboat keeps its output to its own log lines. The toggle is scoped to the (synchronous)
 * constructor, so the environment children inherit is unchanged.
 */
function quietly<T>(construct: () => T): T {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  const previous = process.env[name];
  process.env[name] = 'true';
  try {
    return construct();
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
}
