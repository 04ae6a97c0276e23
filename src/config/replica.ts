/**
 * replica: validate one `dbs[i].replicas[j]` entry into a complete `ReplicaConfig`.
 * Rules (reference v0.3.13 unless marked): the URL scheme wins over `type`; default type
 * `file`; `url` with `path` (or `bucket`) is an error, as is a URL-looking `path`; keys
 * given explicitly win over what a URL's host implies; **Lifeboat:** a key also given as a
 * URL query parameter is an error; encryption (`age`) and the gcs/abs/sftp keys fail.
 */
import { ConfigError } from '../errors.js';
import { RawMap, dropUndefined } from './fields.js';
import { fillReplica, type ReplicaDraft } from './fill.js';
import { expandPath, type PathContext } from './paths.js';
import type { ReplicaConfig, ReplicaType } from './types.js';
import {
  cleanKeyPrefix,
  isReplicaURL,
  normalizeEndpoint,
  parseReplicaURLParts,
  replicaType,
  type ReplicaURLParts,
} from './url.js';

/** NOT_YET_KEYS are reference keys for features Lifeboat does not have; their presence is an error. */
const NOT_YET_KEYS: Record<string, string> = {
  age: 'not supported yet (age encryption; refusing to replicate unencrypted)',
  'account-name': 'not supported yet (abs replicas)',
  'account-key': 'not supported yet (abs replicas)',
  host: 'not supported yet (sftp replicas)',
  user: 'not supported yet (sftp replicas)',
  password: 'not supported yet (sftp replicas)',
  'key-path': 'not supported yet (sftp replicas)',
};

/** S3_ONLY_KEYS are ignored (with a warning) on file replicas. */
const S3_ONLY_KEYS = ['bucket', 'region', 'endpoint', 'force-path-style', 'skip-verify', 'access-key-id', 'secret-access-key'];

/** ReplicaContext carries what a replica inherits and where its findings go. */
export interface ReplicaContext {
  paths: PathContext;
  accessKeyId?: string;
  secretAccessKey?: string;
  warnings: string[];
}

/** validateReplica turns one raw replica mapping at `at` (e.g. `dbs[0].replicas[1]`) into a ReplicaConfig. */
export function validateReplica(raw: unknown, at: string, ctx: ReplicaContext): ReplicaConfig {
  const m = new RawMap(at, raw);
  for (const [key, why] of Object.entries(NOT_YET_KEYS)) {
    if (m.has(key)) throw new ConfigError(m.at(key), why);
  }
  const url = m.string('url');
  const givenPath = m.string('path');
  const givenType = m.string('type');
  if (givenPath !== undefined && isReplicaURL(givenPath)) {
    throw new ConfigError(m.at('path'), `${JSON.stringify(givenPath)} looks like a URL: use the url key`, givenPath);
  }
  if (url !== undefined && givenPath !== undefined) throw new ConfigError(m.at('path'), 'cannot specify both url and path');
  if (url === undefined && givenPath === undefined && m.has('url')) {
    throw new ConfigError(m.at('url'), 'empty (an unset environment variable?)');
  }
  const parts = url !== undefined ? parseReplicaURLParts(url, m.at('url')) : undefined;
  const type = parts?.type ?? (givenType !== undefined ? replicaType(givenType, m.at('type')) : 'file');
  if (parts && givenType !== undefined && givenType !== parts.type) {
    ctx.warnings.push(`${m.at('type')}: ${JSON.stringify(givenType)} ignored, the url scheme says ${JSON.stringify(parts.type)}`);
  }
  const draft: ReplicaDraft = {
    ...readCommon(m),
    ...(type === 'file' ? fileLocation(m, parts, givenPath, ctx) : s3Location(m, parts, givenPath, ctx)),
  };
  if (url !== undefined) draft.url = url;
  if ((draft.validationInterval ?? 0) > 0) {
    ctx.warnings.push(`${m.at('validation-interval')}: validation restores are not implemented, ignored`);
  }
  ctx.warnings.push(...m.unknownKeys().map((k) => `${k}: unknown key, ignored`));
  return fillReplica(draft);
}

/** readCommon reads the settings every replica type has. */
function readCommon(m: RawMap): Partial<ReplicaConfig> {
  const r: Partial<ReplicaConfig> = {};
  const name = m.string('name');
  if (name !== undefined) r.name = name;
  r.retention = m.duration('retention');
  r.retentionCheckInterval = m.positiveDuration('retention-check-interval');
  r.syncInterval = m.nonNegativeDuration('sync-interval');
  r.snapshotInterval = m.nonNegativeDuration('snapshot-interval');
  r.validationInterval = m.nonNegativeDuration('validation-interval');
  return dropUndefined(r);
}

function fileLocation(m: RawMap, parts: ReplicaURLParts | undefined, givenPath: string | undefined, ctx: ReplicaContext) {
  for (const key of S3_ONLY_KEYS) {
    if (m.has(key)) {
      m.raw(key);
      ctx.warnings.push(`${m.at(key)}: ignored for a file replica`);
    }
  }
  const p = parts?.location.path ?? (givenPath !== undefined ? expandPath(givenPath, ctx.paths) : undefined);
  if (p === undefined) throw new ConfigError(m.at('path'), 'required for a file replica');
  return { type: 'file' as ReplicaType, path: p };
}

function s3Location(m: RawMap, parts: ReplicaURLParts | undefined, givenPath: string | undefined, ctx: ReplicaContext) {
  const given = dropUndefined<Partial<ReplicaConfig>>({
    bucket: m.string('bucket'),
    region: m.string('region'),
    endpoint: mapDefined(m.string('endpoint'), (e) => normalizeEndpoint(e, m.at('endpoint'))),
    forcePathStyle: m.bool('force-path-style'),
    skipVerify: m.bool('skip-verify'),
    accessKeyId: m.secret('access-key-id') ?? ctx.accessKeyId,
    secretAccessKey: m.secret('secret-access-key') ?? ctx.secretAccessKey,
  });
  if (parts && given.bucket !== undefined) throw new ConfigError(m.at('bucket'), 'cannot specify both url and bucket');
  for (const k of Object.keys(parts?.query ?? {}) as (keyof ReplicaConfig)[]) {
    if (given[k] !== undefined) {
      throw new ConfigError(m.at(KEY_NAMES[k] ?? k), 'also given as a url query parameter');
    }
  }
  const path = parts?.location.path ?? cleanKeyPrefix(givenPath ?? '');
  const draft: ReplicaDraft = { ...parts?.location, ...parts?.query, ...given, type: 's3', path };
  if (draft.bucket === undefined) throw new ConfigError(m.at('bucket'), 'required for an s3 replica');
  return draft;
}

const KEY_NAMES: Partial<Record<keyof ReplicaConfig, string>> = {
  forcePathStyle: 'force-path-style',
  skipVerify: 'skip-verify',
};

function mapDefined<T, U>(v: T | undefined, f: (v: T) => U): U | undefined {
  return v === undefined ? undefined : f(v);
}
