/**
 * s3-config: turns a replica's settings into a client plan — endpoint and addressing,
 * region, TLS verification, checksums — shared by both S3 clients, plus the keep-alive
 * agents, the timeouts and the AWS SDK's client options. Pure apart from creating the
 * agents; the clients themselves are loaded later, on first use.
 */
import type http from 'node:http';
import type https from 'node:https';
import { loadHttp, loadHttps } from '../../builtin.js';
import { ConfigError } from '../../errors.js';
import { DEFAULT_S3_REGION } from '../../config/defaults.js';
import { normalizeEndpoint } from '../../config/url.js';
import type { Logger } from '../../log.js';
import { withRetry, type RetryPolicy } from './retry.js';
import type { ResolvedCredentials } from './s3-credentials.js';
import { describeS3Error, isRetryableS3Error } from './s3-errors.js';

/** S3Settings are the replica keys an S3 client needs (a subset of ReplicaConfig). */
export interface S3Settings {
  bucket?: string;
  path: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  skipVerify?: boolean;
}

/** S3Timeouts: `connect` bounds the TCP/TLS handshake, `idle` a socket without traffic (ms). */
export interface S3Timeouts {
  connect: number;
  idle: number;
}

/** DEFAULT_S3_TIMEOUTS: 10 s to connect, 30 s without a byte either way before a request is dropped (and retried). */
export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connect: 10_000, idle: 30_000 };

/** MAX_SOCKETS is the keep-alive pool size per client: restore fetches 8+ objects at once. */
export const MAX_SOCKETS = 32;

/** normalizePrefix strips leading and trailing slashes from a replica's key prefix (`/db/` → `db`). */
export function normalizePrefix(path: string): string {
  return path.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** ClientPlan is what either S3 client is built from: every decision taken, no SDK types. */
export interface ClientPlan {
  endpoint?: string;
  /** region is undefined when it must be asked from the bucket first. */
  region?: string;
  forcePathStyle: boolean;
  /** whenRequiredChecksums: only the checksums an operation requires (custom endpoints). */
  whenRequiredChecksums: boolean;
  skipVerify: boolean;
}

/**
 * planClient applies the reference's defaults: with a custom endpoint, path-style
 * addressing and region us-east-1 unless given, and checksums only where required (the
 * SDK's default streaming checksums break uploads on s3rver and many S3-compatible
 * stores); without endpoint and region, the region is looked up from the bucket.
 */
export function planClient(s: S3Settings): ClientPlan {
  if (!s.bucket) throw new ConfigError('bucket', 'required for an s3 replica');
  const endpoint = s.endpoint ? normalizeEndpoint(s.endpoint, 'endpoint') : undefined;
  return {
    endpoint,
    region: s.region || (endpoint ? DEFAULT_S3_REGION : undefined),
    forcePathStyle: s.forcePathStyle ?? endpoint !== undefined,
    whenRequiredChecksums: endpoint !== undefined,
    skipVerify: s.skipVerify ?? false,
  };
}

/**
 * s3Location names an S3 replica for logs and messages as a URL that Lifeboat reads back:
 * `s3://bucket/prefix` plus what locates it beyond that — `endpoint` (origin and path only:
 * never userinfo or a query), `region` (unless the endpoint's implied us-east-1),
 * `force-path-style` where it differs from the default, `skip-verify=true`. Keys are
 * settings of their own, never part of it.
 */
export function s3Location(s: S3Settings): string {
  const plan = planClient(s);
  const q: [string, string][] = [];
  if (plan.endpoint) q.push(['endpoint', displayEndpoint(plan.endpoint)]);
  if (s.region && !(plan.endpoint && s.region === DEFAULT_S3_REGION)) q.push(['region', s.region]);
  if (plan.forcePathStyle !== (plan.endpoint !== undefined)) q.push(['force-path-style', String(plan.forcePathStyle)]);
  if (plan.skipVerify) q.push(['skip-verify', 'true']);
  const query = q.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%2F/gi, '/')}`).join('&');
  return `s3://${s.bucket}/${normalizePrefix(s.path)}${query ? `?${query}` : ''}`;
}

/** displayEndpoint keeps an endpoint's scheme, host, port and path: no userinfo, query or fragment. */
function displayEndpoint(endpoint: string): string {
  const u = new URL(endpoint);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Agents are the keep-alive connection pools of one client. */
export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/**
 * createAgents makes keep-alive pools of MAX_SOCKETS sockets; `skipVerify` accepts any TLS
 * certificate. node:https (TLS) is loaded here, on first use, not at start-up.
 */
export async function createAgents(skipVerify: boolean): Promise<Agents> {
  const http = loadHttp();
  const https = loadHttps();
  const common = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, noDelay: true };
  return {
    http: new http.Agent(common),
    https: new https.Agent({ ...common, rejectUnauthorized: !skipVerify }),
  };
}

/** sdkClientOptions builds the S3Client constructor options (SDK retries off: we retry ourselves). */
export function sdkClientOptions(plan: ClientPlan, region: string, creds: ResolvedCredentials, agents: Agents, timeouts: S3Timeouts) {
  return {
    region,
    ...(plan.endpoint ? { endpoint: plan.endpoint } : {}),
    forcePathStyle: plan.forcePathStyle,
    maxAttempts: 1,
    ...(plan.whenRequiredChecksums
      ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
      : {}),
    ...(creds.source === 'default-chain'
      ? {}
      : { credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken } }),
    requestHandler: {
      httpAgent: agents.http,
      httpsAgent: agents.https,
      connectionTimeout: timeouts.connect,
      socketTimeout: timeouts.idle,
    },
  };
}

/**
 * bucketRegionFrom reads the region a HeadBucket answer (or its 301/400/403 failure)
 * names in `x-amz-bucket-region`, or undefined when it names none.
 */
export function bucketRegionFrom(outcome: unknown): string | undefined {
  if (typeof outcome !== 'object' || outcome === null) return undefined;
  const o = outcome as { BucketRegion?: string; $response?: { headers?: Record<string, string | undefined> } };
  return o.BucketRegion || o.$response?.headers?.['x-amz-bucket-region'] || undefined;
}

/**
 * askBucketRegion sends `head` (a HEAD of the bucket, signed for us-east-1, by either
 * client) with retries and reads the region its answer — or its 301/400/403 failure —
 * names; us-east-1, with a warning, if the bucket will not say.
 */
export async function askBucketRegion(head: () => Promise<unknown>, p: { bucket: string; logger: Logger; retry: RetryPolicy }): Promise<string> {
  const ctx = { op: 'find region of bucket', key: p.bucket, logger: p.logger, policy: p.retry, retryable: isRetryableS3Error, describe: describeS3Error };
  try {
    return bucketRegionFrom(await withRetry(head, ctx)) ?? DEFAULT_S3_REGION;
  } catch (err) {
    const region = bucketRegionFrom(err);
    if (region) return region;
    p.logger.warn('cannot find bucket region, using us-east-1', { bucket: p.bucket, error: describeS3Error(err) });
    return DEFAULT_S3_REGION;
  }
}
