/**
 * s3-connect: loads the AWS SDK (on first use only: `lifeboat init` and `replicate` start
 * without it) and builds the S3 client, asking the bucket for its region when neither
 * an endpoint nor a region is configured, as the reference does.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_S3_REGION } from '../../config/defaults.js';
import type { Logger } from '../../log.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { bucketRegionFrom, sdkClientOptions, type Agents, type ClientPlan, type S3Timeouts } from './s3-config.js';
import type { ResolvedCredentials } from './s3-credentials.js';
import { describeS3Error, isRetryableS3Error } from './s3-errors.js';

/** Sdk is the `@aws-sdk/client-s3` module. */
export type Sdk = typeof import('@aws-sdk/client-s3');

/** Conn is a loaded SDK and a client built from it. */
export interface Conn {
  sdk: Sdk;
  s3: S3Client;
}

/** ConnectParams is everything the client is built from. */
export interface ConnectParams {
  plan: ClientPlan;
  bucket: string;
  creds: ResolvedCredentials;
  agents: Agents;
  timeouts: S3Timeouts;
  logger: Logger;
  retry: RetryPolicy;
}

/** connectS3 imports the SDK and returns a client for the bucket's region. */
export async function connectS3(p: ConnectParams): Promise<Conn> {
  const sdk = await import('@aws-sdk/client-s3');
  const region = p.plan.region ?? (await findRegion(sdk, p));
  const s3 = quietly(() => new sdk.S3Client(sdkClientOptions(p.plan, region, p.creds, p.agents, p.timeouts)));
  return { sdk, s3 };
}

/** findRegion reads HeadBucket's x-amz-bucket-region (following redirects); us-east-1 if the bucket will not say. */
async function findRegion(sdk: Sdk, p: ConnectParams): Promise<string> {
  const options = { ...sdkClientOptions(p.plan, DEFAULT_S3_REGION, p.creds, p.agents, p.timeouts), followRegionRedirects: true };
  const probe = quietly(() => new sdk.S3Client(options));
  const ctx = { op: 'find region of bucket', key: p.bucket, logger: p.logger, policy: p.retry, retryable: isRetryableS3Error, describe: describeS3Error };
  try {
    const out = await withRetry(() => probe.send(new sdk.HeadBucketCommand({ Bucket: p.bucket })), ctx);
    return bucketRegionFrom(out) ?? DEFAULT_S3_REGION;
  } catch (err) {
    const region = bucketRegionFrom(err);
    if (region) return region;
    p.logger.warn('cannot find bucket region, using us-east-1', { bucket: p.bucket, error: describeS3Error(err) });
    return DEFAULT_S3_REGION;
  }
}

/**
 * quietly constructs an SDK client without its NodeVersionSupportWarning: on Node < 22 the
 * SDK prints a 9-line notice about its releases after January 2027 to stderr of every run;
 * Lifeboat supports Node 20 and keeps its output to its own log lines. The toggle is
 * scoped to the (synchronous) constructor, so the environment children inherit is unchanged.
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
