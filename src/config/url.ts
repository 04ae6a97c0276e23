/**
 * url: replica URLs as the reference reads them (`file:///backups/db`,
 * `s3://bucket/path`, provider host forms such as `s3://bucket.localhost:9000/path` or
 * `s3://bucket.nyc3.digitaloceanspaces.com/path`), plus Lifeboat's query-parameter
 * extension for s3: `?endpoint=…&region=…&force-path-style=true|false&skip-verify=true|false`.
 */
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { fillDb, fillReplica, type ReplicaDraft } from './fill.js';
import { defaultHealth } from './health.js';
import { defaultLogging } from './logging.js';
import { expandPath, type PathContext } from './paths.js';
import type { Config, ReplicaConfig, ReplicaType } from './types.js';

/** SUPPORTED_TYPES are the replica backends Lifeboat implements. */
export const SUPPORTED_TYPES: readonly ReplicaType[] = ['file', 's3'];

/** NOT_YET_TYPES are the reference's other backends: configs naming them fail with "not supported yet". */
export const NOT_YET_TYPES: readonly string[] = ['gcs', 'abs', 'sftp'];

const S3_QUERY_PARAMS = ['endpoint', 'region', 'force-path-style', 'skip-verify'];

/** isReplicaURL reports whether `s` looks like a URL (`scheme://…`), as the reference's `isURL`. */
export function isReplicaURL(s: string): boolean {
  return /^\w+:\/\//.test(s);
}

/** replicaType checks a `type` / URL scheme and returns it as a supported type. */
export function replicaType(t: string, field: string): ReplicaType {
  if ((SUPPORTED_TYPES as readonly string[]).includes(t)) return t as ReplicaType;
  if (NOT_YET_TYPES.includes(t)) throw new ConfigError(field, `replica type ${JSON.stringify(t)} not supported yet`, t);
  throw new ConfigError(field, `unknown replica type ${JSON.stringify(t)}`, t);
}

/** ReplicaURLParts separates what a URL's location gives from what its query parameters give. */
export interface ReplicaURLParts {
  type: ReplicaType;
  /** location: path (file: absolute directory; s3: key prefix) and what the host implies. */
  location: Partial<ReplicaConfig> & { path: string };
  /** query: settings from Lifeboat's query-parameter extension (s3 only). */
  query: Partial<ReplicaConfig>;
}

/** parseReplicaURL parses a replica URL into settings (type, path, bucket, region, endpoint, …). */
export function parseReplicaURL(url: string, field = 'url'): Partial<ReplicaConfig> {
  const parts = parseReplicaURLParts(url, field);
  return { type: parts.type, url, ...parts.location, ...parts.query };
}

/** parseReplicaURLParts parses a replica URL, keeping location-derived and query-derived settings apart. */
export function parseReplicaURLParts(url: string, field = 'url'): ReplicaURLParts {
  const m = /^(\w+):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(url);
  if (!m) throw new ConfigError(field, `invalid replica URL ${JSON.stringify(url)}: scheme:// required`, url);
  const [, scheme, host, rawPath, search, fragment] = m;
  if (host.includes('@')) throw new ConfigError(field, 'credentials in a replica URL are not supported');
  if (fragment !== undefined) throw new ConfigError(field, `unexpected fragment ${JSON.stringify(fragment)}`);
  const type = replicaType(scheme, field);
  const upath = decodePath(rawPath, field);
  const params = new URLSearchParams(search ?? '');
  if (type === 'file') {
    checkParams(params, [], field);
    if (host !== '' && host !== 'localhost') {
      throw new ConfigError(field, `file URL must not name a host (${JSON.stringify(host)}): use file:///absolute/path`);
    }
    if (upath === '') throw new ConfigError(field, 'file URL has no path');
    return { type, location: { path: cleanAbsolute(upath) }, query: {} };
  }
  checkParams(params, S3_QUERY_PARAMS, field);
  const h = parseS3Host(host);
  const location: ReplicaURLParts['location'] = { path: cleanKeyPrefix(upath) };
  if (h.bucket !== undefined) location.bucket = h.bucket;
  if (h.region !== undefined) location.region = h.region;
  if (h.endpoint !== undefined) location.endpoint = h.endpoint;
  if (h.forcePathStyle) location.forcePathStyle = true;
  return { type, location, query: s3Query(params, field) };
}

/** S3Host is what a provider-specific host name implies (reference: `s3.ParseHost`). */
export interface S3Host {
  bucket?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

const S3_PROVIDERS: { re: RegExp; endpoint: (region: string) => string; region?: string; scheme?: string }[] = [
  { re: /^(?:(.+)\.)?localhost$/, endpoint: () => 'localhost', region: 'us-east-1', scheme: 'http' },
  { re: /^(?:(.+)\.)?s3\.([^.]+)\.backblazeb2\.com$/, endpoint: (r) => `s3.${r}.backblazeb2.com` },
  { re: /^(?:(.+)\.)?s3\.filebase\.com$/, endpoint: () => 's3.filebase.com' },
  { re: /^(?:(.+)\.)?([^.]+)\.digitaloceanspaces\.com$/, endpoint: (r) => `${r}.digitaloceanspaces.com` },
  { re: /^(?:(.+)\.)?s3\.([^.]+)\.scw\.cloud$/, endpoint: (r) => `s3.${r}.scw.cloud` },
  { re: /^(?:(.+)\.)?([^.]+)\.linodeobjects\.com$/, endpoint: (r) => `${r}.linodeobjects.com` },
];

/**
 * parseS3Host reads bucket, region and endpoint from a URL host the way the reference does:
 * `bucket.localhost:9000` → http://localhost:9000 (us-east-1); Backblaze, Filebase,
 * DigitalOcean, Scaleway and Linode host names → their endpoint; anything else is the
 * bucket name itself (AWS, virtual-hosted style, port dropped).
 */
export function parseS3Host(hostport: string): S3Host {
  const { host, port } = splitHostPort(hostport);
  for (const p of S3_PROVIDERS) {
    const a = p.re.exec(host);
    if (!a) continue;
    const region = p.region ?? a[2];
    let endpoint = p.endpoint(region);
    if (port !== '') endpoint = `${endpoint}:${port}`;
    return { bucket: a[1] || undefined, region, endpoint: `${p.scheme ?? 'https'}://${endpoint}`, forcePathStyle: true };
  }
  return { bucket: host || undefined, forcePathStyle: false };
}

/** splitHostPort mimics Go's net.SplitHostPort, falling back to the whole string as host. */
function splitHostPort(s: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(s);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] };
  const i = s.lastIndexOf(':');
  if (i < 0 || s.slice(0, i).includes(':') || s.startsWith('[')) return { host: s, port: '' };
  return { host: s.slice(0, i), port: s.slice(i + 1) };
}

function decodePath(p: string, field: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new ConfigError(field, `invalid percent-encoding in URL path ${JSON.stringify(p)}`, p);
  }
}

/** cleanAbsolute normalises an absolute path like Go's path.Clean (no trailing slash). */
function cleanAbsolute(p: string): string {
  return path.posix.resolve('/', p);
}

/** cleanKeyPrefix turns a URL or config path into an object-key prefix: cleaned, no leading/trailing slash. */
export function cleanKeyPrefix(p: string): string {
  return path.posix.resolve('/', p).slice(1);
}

function checkParams(params: URLSearchParams, allowed: string[], field: string): void {
  const unknown = [...new Set(params.keys())].filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  const names = unknown.map((k) => JSON.stringify(k)).join(', ');
  throw new ConfigError(field, `unknown query parameter${unknown.length > 1 ? 's' : ''} ${names}`);
}

function s3Query(params: URLSearchParams, field: string): Partial<ReplicaConfig> {
  const q: Partial<ReplicaConfig> = {};
  const get = (k: string) => {
    const v = params.getAll(k).at(-1);
    if (v === '') throw new ConfigError(field, `empty query parameter ${JSON.stringify(k)}`);
    return v;
  };
  const endpoint = get('endpoint');
  if (endpoint !== undefined) q.endpoint = normalizeEndpoint(endpoint, field);
  const region = get('region');
  if (region !== undefined) q.region = region;
  const fps = get('force-path-style');
  if (fps !== undefined) q.forcePathStyle = parseGoBool(fps, `${field}: query parameter force-path-style`);
  const sv = get('skip-verify');
  if (sv !== undefined) q.skipVerify = parseGoBool(sv, `${field}: query parameter skip-verify`);
  return q;
}

/** parseGoBool accepts Go strconv.ParseBool's spellings (1, t, true, TRUE, 0, f, false, …). */
export function parseGoBool(v: string, field: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new ConfigError(field, `invalid boolean ${JSON.stringify(v)}`, v);
}

/** normalizeEndpoint adds `https://` to a bare host[:port] and checks that the result is an http(s) URL. */
export function normalizeEndpoint(s: string, field: string): string {
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s) ? s : `https://${s}`;
  // Checked before parsing so that no message can echo a password.
  if (/^[^/]*\/\/[^/]*@/.test(withScheme)) throw new ConfigError(field, 'credentials in an endpoint are not supported');
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new ConfigError(field, `invalid endpoint ${JSON.stringify(s)}`, s);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(field, `invalid endpoint ${JSON.stringify(s)}: want http:// or https://`, s);
  }
  return withScheme.replace(/\/+$/, '');
}

/** ReplicaFromURLOptions name the field used in messages and where relative paths resolve. */
export interface ReplicaFromURLOptions {
  field?: string;
  ctx?: PathContext;
}

/**
 * replicaFromURL builds a complete replica (defaults filled) from one command-line target:
 * a replica URL, or a plain directory path (a file replica).
 */
export function replicaFromURL(target: string, opts: ReplicaFromURLOptions = {}): ReplicaConfig {
  const field = opts.field ?? 'url';
  if (!isReplicaURL(target)) return fillReplica({ type: 'file', path: expandPath(target, opts.ctx) });
  const parts = parseReplicaURLParts(target, field);
  const draft: ReplicaDraft = { type: parts.type, url: target, ...parts.location, ...parts.query };
  if (draft.type === 's3' && draft.bucket === undefined) {
    throw new ConfigError(field, `no bucket in ${JSON.stringify(target)}`, target);
  }
  return fillReplica(draft);
}

/**
 * configForDatabase builds the whole Config for the single-database command-line form
 * (`lifeboat replicate DB TARGET…`): absolute db path, one replica per target, defaults
 * filled. Replicas of the same type are named `s3`, `s3-2`, `s3-3`, ….
 */
export function configForDatabase(dbPath: string, targets: string[], ctx?: PathContext): Config {
  const seen = new Map<string, number>();
  const replicas = targets.map((t, i) => {
    const r = replicaFromURL(t, { field: `replica ${i + 1}`, ctx });
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    if (n > 1) r.name = `${r.name}-${n}`;
    return r;
  });
  return { logging: defaultLogging(process.env), health: defaultHealth(process.env), dbs: [fillDb(expandPath(dbPath, ctx), replicas)], warnings: [] };
}
