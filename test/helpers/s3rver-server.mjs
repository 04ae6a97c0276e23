// s3rver-server: runs s3rver 3.7.1 as a child process for tests (started by s3rver.ts with
// `node --openssl-legacy-provider`, which s3rver's DES continuation tokens need once a
// listing passes 1,000 keys). Argument: one JSON object
//   { dir, requestLog, address, key?, cert?, fixPrefixes }
// Prints `{"port":N}` on stdout once listening. Differences from plain s3rver:
//   - quiet (no per-request logging);
//   - every request is appended to `requestLog` as one JSON line before it is handled;
//   - any access key id is accepted (s3rver only knows `S3RVER`; it never checks V4
//     signatures), so tests can sign with keys of their own and read them back from the log;
//   - `POST /__lifeboat/fail` with `{count, status, code, method?}` makes the next `count`
//     requests (of that method) fail with an S3 error (replacing any fault still pending;
//     count 0 clears);
//   - with `fixPrefixes`, ListObjects with a delimiter also returns the common prefixes of
//     "directories" that hold no object directly (s3rver drops them: `prefix=db/generations/
//     delimiter=/` returned nothing while `db/generations/<gen>/wal/…` existed);
//   - a DeleteObjects of many keys in one directory no longer fails with 500 (a race in
//     s3rver's cleanup of emptied directories);
//   - a PUT replaces an object only once its whole body has arrived, as on S3 (s3rver wrote
//     the body over the object as it came, so a PUT the client aborted left an empty or
//     truncated object behind the previous metadata).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
const AWSAccount = require('s3rver/lib/models/account');

const opts = JSON.parse(process.argv[2]);
const OBJECT_SUFFIX = '._S3rver_object';

/** objectKeysUnder yields every object key stored below `dir` (a directory of the bucket). */
function* objectKeysUnder(bucketPath, dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return;
    throw err;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* objectKeysUnder(bucketPath, p);
    else if (e.name.endsWith(OBJECT_SUFFIX)) yield p.slice(bucketPath.length + 1, -OBJECT_SUFFIX.length);
  }
}

/** fixCommonPrefixes wraps FilesystemStore#listObjects to report every common prefix, as S3 does. */
function fixCommonPrefixes() {
  const listObjects = FilesystemStore.prototype.listObjects;
  FilesystemStore.prototype.listObjects = async function (bucket, options) {
    const result = await listObjects.call(this, bucket, options);
    const { delimiter, prefix = '', startAfter = '' } = options;
    if (!delimiter) return result;
    const bucketPath = this.getBucketPath(bucket);
    const dirOfPrefix = path.join(bucketPath, prefix.slice(0, prefix.lastIndexOf('/') + 1));
    const last = result.isTruncated ? result.objects[result.objects.length - 1]?.key : undefined;
    const prefixes = new Set(result.commonPrefixes);
    for (const key of objectKeysUnder(bucketPath, dirOfPrefix)) {
      if (!key.startsWith(prefix)) continue;
      const idx = key.slice(prefix.length).indexOf(delimiter);
      if (idx === -1) continue;
      const common = key.slice(0, prefix.length + idx + delimiter.length);
      if (common > startAfter && (last === undefined || common < last)) prefixes.add(common);
    }
    result.commonPrefixes = [...prefixes].sort();
    return result;
  };
}

/**
 * tolerateConcurrentDeletes: s3rver's deleteObject removes emptied parent directories
 * after the object; concurrent deletes in one directory (DeleteObjects runs its keys in
 * parallel) race there and fail with ENOENT/ENOTEMPTY although the object is gone.
 */
function tolerateConcurrentDeletes() {
  const deleteObject = FilesystemStore.prototype.deleteObject;
  FilesystemStore.prototype.deleteObject = async function (bucket, key) {
    try {
      await deleteObject.call(this, bucket, key);
    } catch (err) {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY') throw err;
    }
  };
}

/**
 * atomicPuts: FilesystemStore#putObject writes the body to a temporary file beside the
 * object (a name listings skip) and renames it over the object only when the request body
 * was complete; an aborted upload leaves the previous object as it was.
 */
function atomicPuts() {
  let serial = 0;
  FilesystemStore.prototype.putObject = async function (object) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
    const tmp = `${objectPath}.partial-${++serial}`;
    const md5Context = crypto.createHash('md5');
    let size = 0;
    const body = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    const count = new Transform({
      transform(chunk, encoding, callback) {
        md5Context.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, count, fs.createWriteStream(tmp));
      if (body.complete === false) throw new Error(`incomplete body for ${object.bucket}/${object.key}`);
      await fs.promises.rename(tmp, objectPath);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
    const md5 = md5Context.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size, md5 };
  };
}

/** acceptAnyKey makes every access key id belong to s3rver's one dummy account. */
function acceptAnyKey() {
  const get = AWSAccount.registry.get.bind(AWSAccount.registry);
  AWSAccount.registry.get = (id) => get(id) ?? AWSAccount.DUMMY_ACCOUNT;
}

/** accessKeyIdOf reads the key id from a V4 `Credential=<id>/<date>/…` or V2 `AWS <id>:…` header. */
function accessKeyIdOf(authorization) {
  if (!authorization) return undefined;
  const v4 = /Credential=([^/,\s]+)\//.exec(authorization);
  if (v4) return v4[1];
  const v2 = /^AWS ([^:]+):/.exec(authorization);
  return v2 ? v2[1] : undefined;
}

const faults = [];

function errorXML(code) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test server</Message></Error>`;
}

/** control serves POST /__lifeboat/fail. */
async function control(ctx) {
  let body = '';
  for await (const chunk of ctx.req) body += chunk;
  const f = JSON.parse(body || '{}');
  faults.length = 0;
  faults.push({ count: f.count ?? 1, status: f.status ?? 503, code: f.code ?? 'SlowDown', method: f.method });
  ctx.status = 204;
}

/** recordAndFail logs each request, then answers it with an injected fault if one is pending. */
async function recordAndFail(ctx, next) {
  if (ctx.path.startsWith('/__lifeboat/')) return control(ctx);
  const [, bucket = '', ...rest] = ctx.path.split('/');
  const entry = {
    method: ctx.method,
    bucket,
    key: decodeURIComponent(rest.join('/')),
    query: { ...ctx.query },
    accessKeyId: accessKeyIdOf(ctx.get('authorization')),
    securityToken: ctx.get('x-amz-security-token') || undefined,
  };
  fs.appendFileSync(opts.requestLog, JSON.stringify(entry) + '\n');
  const fault = faults.find((f) => f.count > 0 && (!f.method || f.method === ctx.method));
  if (!fault) return next();
  fault.count--;
  ctx.req.resume();
  ctx.status = fault.status;
  ctx.type = 'application/xml';
  ctx.body = errorXML(fault.code);
}

if (opts.fixPrefixes) fixCommonPrefixes();
tolerateConcurrentDeletes();
atomicPuts();
acceptAnyKey();
const tls = opts.key ? { key: fs.readFileSync(opts.key), cert: fs.readFileSync(opts.cert) } : {};
const server = new S3rver({ address: opts.address, port: 0, directory: opts.dir, silent: true, ...tls });
server.middleware.unshift(recordAndFail);
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
// Exit on SIGTERM, or when the test process that started us goes away (stdin closes).
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
