/**
 * s3-sign: AWS Signature Version 4 for S3 requests, as the service documents it
 * ("Authenticating Requests: Using the Authorization Header"): a canonical request, the
 * string to sign, a signing key derived from the secret, date, region and service, and
 * the `Authorization` header. Pure apart from node:crypto; the secret never leaves it.
 */
import { loadCrypto } from '../../builtin.js';

/** SigningKeys are static credentials: an access key id, its secret, and an optional session token. */
export interface SigningKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** SignInput is one request to sign: everything the signature covers. */
export interface SignInput {
  method: string;
  /** host is the Host header: the host name, and the port when it is not the scheme's default. */
  host: string;
  /** path is the request path exactly as sent (already URI-encoded, see `encodeKeyPath`). */
  path: string;
  /** query holds the query parameters unencoded; they are encoded and sorted here. */
  query: [string, string][];
  /** headers are further headers to sign (names in lower case), such as `if-none-match`. */
  headers: Record<string, string>;
  /** payloadHash is the body's SHA-256 in hex (`EMPTY_SHA256` for none). */
  payloadHash: string;
  region: string;
  date: Date;
}

/** EMPTY_SHA256 is the SHA-256 of an empty body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** SERVICE is the signing name of S3. */
const SERVICE = 's3';

/**
 * uriEncode percent-encodes every byte but the unreserved characters (A–Z a–z 0–9 - . _ ~),
 * upper-case hex, as SigV4 requires (encodeURIComponent leaves `!'()*` alone).
 */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** encodeKeyPath encodes an object key for a request path: each segment encoded, the slashes kept. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(uriEncode).join('/');
}

/** canonicalQuery renders query parameters encoded and sorted by name, then value: the form both signed and sent. */
export function canonicalQuery(query: [string, string][]): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** amzDate renders a date as SigV4's basic ISO 8601 form, `20130524T000000Z`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** sha256Hex returns the SHA-256 of `data` in hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return loadCrypto().createHash('sha256').update(data).digest('hex');
}

function hmac(key: Uint8Array | string, data: string): Buffer {
  return loadCrypto().createHmac('sha256', key).update(data).digest();
}

/** signingKeys keeps the derived signing keys: one per day, region and key pair. */
const signingKeys = new Map<string, Buffer>();

function signingKey(keys: SigningKeys, day: string, region: string): Buffer {
  const id = `${day}\n${region}\n${keys.accessKeyId}\n${keys.secretAccessKey}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, day), region), SERVICE), 'aws4_request');
    if (signingKeys.size > 8) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * signRequest returns the headers that authenticate `req`: `x-amz-date`,
 * `x-amz-content-sha256`, `x-amz-security-token` (with a session token) and
 * `authorization`. The caller sends them with `req.headers` and the Host it signed.
 */
export function signRequest(req: SignInput, keys: SigningKeys): Record<string, string> {
  const stamp = amzDate(req.date);
  const day = stamp.slice(0, 8);
  const added: Record<string, string> = { 'x-amz-content-sha256': req.payloadHash, 'x-amz-date': stamp };
  if (keys.sessionToken) added['x-amz-security-token'] = keys.sessionToken;
  const all: Record<string, string> = { ...req.headers, ...added, host: req.host };
  const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([n, v]) => [n.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${lower[n].trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [req.method, req.path, canonicalQuery(req.query), canonicalHeaders, signedHeaders, req.payloadHash].join('\n');
  const scope = `${day}/${req.region}/${SERVICE}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = hmac(signingKey(keys, day, req.region), stringToSign).toString('hex');
  return {
    ...added,
    authorization: `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
