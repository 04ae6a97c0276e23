/**
 * s3: the S3 (and S3-compatible) backend of ReplicaClient. Keys are
 * `<path>/generations/…` in one bucket. Requests go through S3Ops (s3-ops.ts): our own
 * SigV4 client when the keys are static (the config's or the environment's), the AWS SDK
 * when they come from its default chain, or when `LIFEBOAT_S3_CLIENT` says which
 * (`chooseTransport`). Either is loaded on first use, so commands that never touch S3
 * start fast. Every request is retried here with capped backoff, and issues nothing the
 * caller did not ask for: no HEAD before a PUT, no LIST per write.
 *
 * Retries: requests with replayable input (listings, reads, deletes, PUTs of bytes — a
 * stream that ends within one part is read into bytes first) are retried on throttling,
 * 5xx and connection failures. A longer stream goes out as one multipart upload,
 * attempted once: a failure aborts it and surfaces as a ReplicaError, and the caller
 * writes again from its source. A read is retried until its response starts; an error
 * while its body streams reaches the reader as a stream error.
 */
import { addAbortSignal, Readable } from 'node:stream';
import { ConfigError, ReplicaError } from '../../errors.js';
import { log, type Logger } from '../../log.js';
import { GENERATIONS_DIR, claimsKey, generationKey, isClaimName, isLegacyWALName, parseSnapshotName, parseWALSegmentName, snapshotKey, snapshotsKey, walKey, walSegmentKey } from '../layout.js';
import { isGeneration, type Pos } from '../pos.js';
import type { ReadBody, ReplicaClient, SnapshotInfo, WALSegmentInfo, WriteBody } from '../replica-client.js';
import { checkGeneration, claimKey, LEGACY_LAYOUT_MESSAGE } from './common.js';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from './retry.js';
import { prepareBody } from './s3-body.js';
import { createAgents, DEFAULT_S3_TIMEOUTS, normalizePrefix, planClient, s3Location, type Agents, type ClientPlan, type S3Settings, type S3Timeouts } from './s3-config.js';
import { resolveCredentials, type KeyPair, type ResolvedCredentials } from './s3-credentials.js';
import { describeS3Error, isRetryableS3Error, s3Status, toReplicaError } from './s3-errors.js';
import type { S3Ops } from './s3-ops.js';

/** S3ReplicaConfig is the part of a ReplicaConfig an S3 client reads. */
export type S3ReplicaConfig = S3Settings & KeyPair & { name?: string };

/** S3ReplicaClientOptions: the config's top-level keys, and knobs that tests turn. */
export interface S3ReplicaClientOptions {
  globals?: KeyPair;
  logger?: Logger;
  retry?: RetryPolicy;
  timeouts?: S3Timeouts;
  env?: NodeJS.ProcessEnv;
  /** transport overrides `chooseTransport`'s choice. */
  transport?: S3Transport;
}

/** S3Transport names the implementation of the requests: our own SigV4 client, or the AWS SDK. */
export type S3Transport = 'native' | 'sdk';

/** S3_CLIENT_ENV names the variable that picks the transport (`native` or `sdk`; unset: automatic). */
export const S3_CLIENT_ENV = 'LIFEBOAT_S3_CLIENT';

/**
 * SDK_ONLY_ENV are the AWS variables only the SDK honours (an endpoint, FIPS or dual-stack
 * endpoints): when one is set, the automatic choice is the SDK, so it keeps applying them.
 */
const SDK_ONLY_ENV = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'];

/**
 * chooseTransport picks the S3 client: `LIFEBOAT_S3_CLIENT` when set (anything but
 * `native` or `sdk` is a ConfigError), else our own for static keys (config or
 * environment) unless an SDK-only variable is set or the region is an isolated one
 * (`us-iso…`), else the SDK (its credential chain).
 */
export function chooseTransport(creds: ResolvedCredentials, env: NodeJS.ProcessEnv = process.env, region?: string): S3Transport {
  const asked = env[S3_CLIENT_ENV];
  if (asked) {
    if (asked !== 'native' && asked !== 'sdk') throw new ConfigError(S3_CLIENT_ENV, `invalid value ${JSON.stringify(asked)}: want native or sdk`);
    if (asked === 'native' && creds.source === 'default-chain') throw new ConfigError(S3_CLIENT_ENV, `native needs static keys: ${SET_STATIC_KEYS}`);
    return asked;
  }
  if (creds.source === 'default-chain' || SDK_ONLY_ENV.some((n) => env[n])) return 'sdk';
  // The isolated regions' endpoints are not under amazonaws.com: the SDK knows them.
  if (region?.startsWith('us-iso')) return 'sdk';
  return 'native';
}

/** SET_STATIC_KEYS says where static keys come from. */
const SET_STATIC_KEYS = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or access-key-id and secret-access-key in the config';

/** DELETE_BATCH is the most keys one DeleteObjects request takes. */
const DELETE_BATCH = 1000;

/** S3ReplicaClient stores a replica under `<path>/` in an S3 bucket. */
export class S3ReplicaClient implements ReplicaClient {
  readonly type = 's3';
  readonly location: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly plan: ClientPlan;
  private readonly creds: ResolvedCredentials;
  /** transport is the implementation requests go through. */
  readonly transport: S3Transport;
  private agents?: Agents;
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;
  private readonly timeouts: S3Timeouts;
  private conn?: Promise<S3Ops>;

  constructor(cfg: S3ReplicaConfig, opts: S3ReplicaClientOptions = {}) {
    this.plan = planClient(cfg);
    this.bucket = cfg.bucket as string;
    this.prefix = normalizePrefix(cfg.path);
    this.creds = resolveCredentials(cfg, opts.globals, opts.env);
    this.transport = opts.transport ?? chooseTransport(this.creds, opts.env, this.plan.region);
    this.location = s3Location(cfg);
    this.logger = opts.logger ?? log.child({ replica: cfg.name ?? 's3' });
    this.retry = opts.retry ?? DEFAULT_RETRY_POLICY;
    this.timeouts = opts.timeouts ?? DEFAULT_S3_TIMEOUTS;
  }

  async generations(signal?: AbortSignal): Promise<string[]> {
    const prefix = this.key(GENERATIONS_DIR) + '/';
    const names: string[] = [];
    for await (const page of this.list(GENERATIONS_DIR, prefix, '/', signal)) {
      for (const p of page.prefixes) {
        const name = p.slice(prefix.length).replace(/\/$/, '');
        if (name && isGeneration(name)) names.push(name);
      }
    }
    return names;
  }

  async *snapshots(generation: string, signal?: AbortSignal): AsyncIterable<SnapshotInfo> {
    for await (const { name, size, createdAt } of this.objects(snapshotsKey(checkGeneration('list', generation)), signal)) {
      const index = parseSnapshotName(name);
      if (index !== undefined) yield { generation, index, size, createdAt };
    }
  }

  async *walSegments(generation: string, signal?: AbortSignal): AsyncIterable<WALSegmentInfo> {
    const dir = walKey(checkGeneration('list', generation));
    for await (const { name, size, createdAt } of this.objects(dir, signal)) {
      const parsed = parseWALSegmentName(name);
      if (parsed) yield { generation, ...parsed, size, createdAt };
      else if (isLegacyWALName(name)) throw new ReplicaError('list', dir, LEGACY_LAYOUT_MESSAGE);
    }
  }

  async writeSnapshot(generation: string, index: number, body: WriteBody, signal?: AbortSignal): Promise<SnapshotInfo> {
    const size = await this.put('write snapshot', snapshotKey(checkGeneration('write snapshot', generation), index), body, signal);
    return { generation, index, size, createdAt: new Date() };
  }

  async readSnapshot(generation: string, index: number, signal?: AbortSignal): Promise<ReadBody> {
    return this.get('read snapshot', snapshotKey(checkGeneration('read snapshot', generation), index), signal);
  }

  async writeWALSegment(pos: Pos, body: WriteBody, signal?: AbortSignal): Promise<WALSegmentInfo> {
    const size = await this.put('write wal', walSegmentKey(checkGeneration('write wal', pos.generation), pos.index, pos.offset), body, signal);
    return { ...pos, size, createdAt: new Date() };
  }

  async readWALSegment(pos: Pos, signal?: AbortSignal): Promise<ReadBody> {
    return this.get('read wal', walSegmentKey(checkGeneration('read wal', pos.generation), pos.index, pos.offset), signal);
  }

  async deleteSnapshot(generation: string, index: number, signal?: AbortSignal): Promise<void> {
    const rel = snapshotKey(checkGeneration('delete snapshot', generation), index);
    await this.call('delete snapshot', rel, signal, (ops) => ops.delete(this.key(rel), signal));
  }

  async deleteWALSegments(positions: Pos[], signal?: AbortSignal): Promise<void> {
    const rels = positions.map((p) => walSegmentKey(checkGeneration('delete wal', p.generation), p.index, p.offset));
    for (let i = 0; i < rels.length; i += DELETE_BATCH) {
      await this.deleteKeys('delete wal', rels.slice(i, i + DELETE_BATCH), signal);
    }
  }

  async claims(generation: string, signal?: AbortSignal): Promise<string[]> {
    const names: string[] = [];
    for await (const { name } of this.objects(claimsKey(checkGeneration('list claims', generation)), signal)) {
      if (isClaimName(name)) names.push(name);
    }
    return names;
  }

  /**
   * createClaim is one PutObject with `If-None-Match: *`: 412 (or 409, a concurrent
   * conditional write) means the object exists. A 412 after a retry may be our own first
   * attempt that landed: the stored bytes decide.
   */
  async createClaim(generation: string, name: string, body: Uint8Array, signal?: AbortSignal): Promise<boolean> {
    const rel = claimKey('create claim', generation, name);
    try {
      await this.call('create claim', rel, signal, (ops) => ops.put(this.key(rel), body, true, signal));
      return true;
    } catch (err) {
      const status = causeStatus(err);
      if (status !== 412 && status !== 409) throw err;
      const stored = await this.readClaim(generation, name, signal).catch(() => undefined);
      return stored !== undefined && Buffer.from(body).equals(stored);
    }
  }

  async readClaim(generation: string, name: string, signal?: AbortSignal): Promise<Buffer> {
    const body = await this.get('read claim', claimKey('read claim', generation, name), signal);
    if (!(body instanceof Readable)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async deleteClaim(generation: string, name: string, signal?: AbortSignal): Promise<void> {
    const rel = claimKey('delete claim', generation, name);
    await this.call('delete claim', rel, signal, (ops) => ops.delete(this.key(rel), signal));
  }

  async deleteGeneration(generation: string, signal?: AbortSignal): Promise<void> {
    const rel = generationKey(checkGeneration('delete', generation));
    for await (const page of this.list(rel, this.key(rel) + '/', undefined, signal)) {
      const keys = page.objects.map((o) => o.key);
      if (keys.length > 0) await this.deleteKeys('delete generation', keys.map((k) => this.unkey(k)), signal);
    }
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.then((ops) => ops.close(), () => {});
    this.agents?.http.destroy();
    this.agents?.https.destroy();
  }

  /** key maps a layout key to its object key under the prefix. */
  private key(rel: string): string {
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  private unkey(key: string): string {
    return this.prefix ? key.slice(this.prefix.length + 1) : key;
  }

  /** list pages through ListObjectsV2 under `prefix` (1,000 keys a page). */
  private async *list(rel: string, prefix: string, delimiter: string | undefined, signal?: AbortSignal) {
    let token: string | undefined;
    do {
      const page = await this.call('list', rel, signal, (ops) => ops.list(prefix, delimiter, token, signal));
      yield page;
      token = page.nextToken;
    } while (token);
  }

  /** objects lists the objects directly in layout folder `rel` by base name. */
  private async *objects(rel: string, signal?: AbortSignal) {
    const prefix = this.key(rel) + '/';
    for await (const page of this.list(rel, prefix, undefined, signal)) {
      for (const o of page.objects) {
        const name = o.key.slice(prefix.length);
        if (!name || name.includes('/')) continue;
        yield { name, size: o.size, createdAt: o.lastModified };
      }
    }
  }

  private async get(op: string, rel: string, signal?: AbortSignal): Promise<ReadBody> {
    return this.call(op, rel, signal, (ops) => ops.get(this.key(rel), signal));
  }

  /** put uploads a body and returns its size: bytes by one (retried) PutObject, long streams by multipart. */
  private async put(op: string, rel: string, body: WriteBody, signal?: AbortSignal): Promise<number> {
    let prepared;
    try {
      if (signal && !(body instanceof Uint8Array)) addAbortSignal(signal, body);
      prepared = await prepareBody(body);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new ReplicaError(op, rel, err);
    }
    if ('bytes' in prepared) {
      const bytes = prepared.bytes;
      await this.call(op, rel, signal, (ops) => ops.put(this.key(rel), bytes, false, signal));
      return bytes.byteLength;
    }
    const { stream, size } = prepared;
    try {
      await this.call(op, rel, signal, (ops) => ops.multipart(this.key(rel), stream, signal), { ...this.retry, attempts: 1 });
    } finally {
      stream.destroy();
    }
    return size();
  }

  /** deleteKeys removes up to 1,000 layout keys with one DeleteObjects; missing keys are fine. */
  private async deleteKeys(op: string, rels: string[], signal?: AbortSignal): Promise<void> {
    if (rels.length === 0) return;
    const failures = await this.call(op, rels[0], signal, (ops) => ops.deleteMany(rels.map((r) => this.key(r)), signal));
    const failed = failures[0];
    if (failed) throw new ReplicaError(op, failed.key ? this.unkey(failed.key) : rels[0], `${failed.code ?? 'error'} ${failed.message ?? ''}`.trim());
  }

  /** call runs one request with retries; failures become ReplicaError(op, rel), aborts reject with the signal's reason. */
  private async call<T>(op: string, rel: string, signal: AbortSignal | undefined, fn: (ops: S3Ops) => Promise<T>, policy = this.retry): Promise<T> {
    try {
      signal?.throwIfAborted();
      const conn = await this.connection();
      return await withRetry(() => fn(conn), {
        op,
        key: rel,
        logger: this.logger,
        policy,
        signal,
        retryable: isRetryableS3Error,
        describe: describeS3Error,
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw toReplicaError(op, rel, err);
    }
  }

  /** connection loads the transport and builds the client once; a failure is retried by the next call. */
  private connection(): Promise<S3Ops> {
    const { plan, bucket, creds, timeouts, logger, retry } = this;
    this.conn ??= (async () => {
      this.agents ??= await createAgents(plan.skipVerify);
      const agents = this.agents;
      if (this.transport === 'native' && creds.source !== 'default-chain') {
        const { connectNative } = await import('./s3-native.js');
        return connectNative({ plan, bucket, keys: creds, agents, timeouts, logger, retry });
      }
      const { connectSdk } = await import('./s3-sdk.js');
      return connectSdk({ plan, bucket, creds, agents, timeouts, logger, retry });
    })().catch((err) => {
      this.conn = undefined;
      throw err;
    });
    return this.conn;
  }
}

/** causeStatus finds the HTTP status along an error's cause chain (a ReplicaError wraps the SDK's error). */
function causeStatus(err: unknown): number | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const status = s3Status(e);
    if (status !== undefined) return status;
  }
  return undefined;
}
