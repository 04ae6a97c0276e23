import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { validateReplica } from '../../src/config/replica.js';

const paths = { cwd: '/work', home: '/home/me' };

function replica(raw: unknown, extra: { accessKeyId?: string; secretAccessKey?: string } = {}) {
  const warnings: string[] = [];
  const r = validateReplica(raw, 'dbs[0].replicas[0]', { paths, warnings, ...extra });
  return { r, warnings };
}

function errorOf(raw: unknown): string {
  try {
    replica(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('validateReplica: file', () => {
  it('defaults to type file, named after its type, with file defaults', () => {
    expect(replica({ path: '/backups/app' }).r).toEqual({
      name: 'file',
      type: 'file',
      path: '/backups/app',
      retention: 86_400_000,
      retentionCheckInterval: 3_600_000,
      syncInterval: 0,
      snapshotInterval: 0,
      validationInterval: 0,
    });
  });

  it('expands ~ and resolves relative paths against the cwd', () => {
    expect(replica({ path: '~/bk' }).r.path).toBe('/home/me/bk');
    expect(replica({ path: 'bk/../bk2/' }).r.path).toBe('/work/bk2');
  });

  it('reads a file:// URL', () => {
    const { r } = replica({ url: 'file:///backups/app/' });
    expect(r).toMatchObject({ type: 'file', name: 'file', path: '/backups/app', url: 'file:///backups/app/' });
  });

  it('warns about s3 keys on a file replica', () => {
    const { warnings } = replica({ path: '/b', bucket: 'x', region: 'eu-west-1' });
    expect(warnings).toEqual([
      'dbs[0].replicas[0].bucket: ignored for a file replica',
      'dbs[0].replicas[0].region: ignored for a file replica',
    ]);
  });
});

describe('validateReplica: s3', () => {
  it('reads a plain AWS URL: bucket from the host, no endpoint, region left to discovery', () => {
    expect(replica({ url: 's3://mybkt.litestream.io/db' }).r).toEqual({
      name: 's3',
      type: 's3',
      url: 's3://mybkt.litestream.io/db',
      path: 'db',
      bucket: 'mybkt.litestream.io',
      region: undefined,
      endpoint: undefined,
      forcePathStyle: false,
      skipVerify: false,
      retention: 86_400_000,
      retentionCheckInterval: 3_600_000,
      syncInterval: 1000,
      snapshotInterval: 0,
      validationInterval: 0,
    });
  });

  it('reads separate fields; an endpoint turns on path style and region us-east-1', () => {
    const { r } = replica({ type: 's3', bucket: 'b', path: '/a/b/', endpoint: 'http://minio:9000' });
    expect(r).toMatchObject({ bucket: 'b', path: 'a/b', endpoint: 'http://minio:9000', forcePathStyle: true, region: 'us-east-1' });
  });

  it('keeps explicit force-path-style and region over the endpoint defaults', () => {
    const { r } = replica({ type: 's3', bucket: 'b', endpoint: 'minio:9000', 'force-path-style': 'false', region: 'eu-1' });
    expect(r).toMatchObject({ endpoint: 'https://minio:9000', forcePathStyle: false, region: 'eu-1' });
  });

  it('lets explicit keys override what the URL host implies', () => {
    const { r } = replica({ url: 's3://bkt.nyc3.digitaloceanspaces.com/db', region: 'sfo3' });
    expect(r).toMatchObject({ bucket: 'bkt', region: 'sfo3', endpoint: 'https://nyc3.digitaloceanspaces.com', forcePathStyle: true });
  });

  it('takes query parameters (Lifeboat extension)', () => {
    const { r } = replica({ url: 's3://bkt/db?endpoint=http://127.0.0.1:9000&force-path-style=false&skip-verify=true' });
    expect(r).toMatchObject({ bucket: 'bkt', endpoint: 'http://127.0.0.1:9000', forcePathStyle: false, skipVerify: true, region: 'us-east-1' });
  });

  it('lets the URL scheme win over type, with a warning', () => {
    const { r, warnings } = replica({ type: 'file', url: 's3://bkt/db' });
    expect(r.type).toBe('s3');
    expect(warnings).toEqual(['dbs[0].replicas[0].type: "file" ignored, the url scheme says "s3"']);
  });

  it('reads the durations', () => {
    const { r } = replica({
      url: 's3://b/p',
      retention: '4h',
      'retention-check-interval': '10m',
      'sync-interval': '10s',
      'snapshot-interval': '1h30m',
      'validation-interval': '6h',
    });
    expect(r).toMatchObject({
      retention: 4 * 3_600_000,
      retentionCheckInterval: 600_000,
      syncInterval: 10_000,
      snapshotInterval: 5_400_000,
      validationInterval: 6 * 3_600_000,
    });
  });

  it('warns that validation-interval is accepted but not acted on', () => {
    expect(replica({ path: '/b', 'validation-interval': '6h' }).warnings).toEqual([
      'dbs[0].replicas[0].validation-interval: validation restores are not implemented, ignored',
    ]);
    expect(replica({ path: '/b', 'validation-interval': '0s' }).warnings).toEqual([]);
  });

  it('caps the default retention check at the retention; retention <= 0 is off', () => {
    expect(replica({ path: '/b', retention: '10m' }).r.retentionCheckInterval).toBe(600_000);
    expect(replica({ path: '/b', retention: '0s' }).r).toMatchObject({ retention: 0, retentionCheckInterval: 3_600_000 });
    expect(replica({ path: '/b', retention: '-1h' }).r.retention).toBe(0);
    expect(replica({ path: '/b', retention: '10m', 'retention-check-interval': '2h' }).r.retentionCheckInterval).toBe(7_200_000);
  });

  it('inherits top-level credentials', () => {
    const { r } = replica({ url: 's3://b/p' }, { accessKeyId: 'ID', secretAccessKey: 'SECRET' });
    expect([r.accessKeyId, r.secretAccessKey]).toEqual(['ID', 'SECRET']);
  });
});

describe('validateReplica: errors', () => {
  it.each([
    [{ 'sync-interval': '5 seconds', path: '/b' }, 'dbs[0].replicas[0].sync-interval: invalid duration "5 seconds"'],
    [{ 'sync-interval': '-1s', path: '/b' }, 'dbs[0].replicas[0].sync-interval: must not be negative, got "-1s"'],
    [{ 'snapshot-interval': '1', path: '/b' }, 'dbs[0].replicas[0].snapshot-interval: invalid duration "1"'],
    [{ 'retention-check-interval': '0', path: '/b' }, 'dbs[0].replicas[0].retention-check-interval: must be greater than 0, got "0"'],
    [{ 'validation-interval': '1d', path: '/b' }, 'dbs[0].replicas[0].validation-interval: invalid duration "1d"'],
    [{ retention: '1 day', path: '/b' }, 'dbs[0].replicas[0].retention: invalid duration "1 day"'],
    [{ url: 's3://b/p', path: '/b' }, 'dbs[0].replicas[0].path: cannot specify both url and path'],
    [{ path: 's3://b/p' }, 'dbs[0].replicas[0].path: "s3://b/p" looks like a URL: use the url key'],
    [{ url: 's3://b/p', bucket: 'b' }, 'dbs[0].replicas[0].bucket: cannot specify both url and bucket'],
    [{ type: 's3', path: 'p' }, 'dbs[0].replicas[0].bucket: required for an s3 replica'],
    [{ url: 's3://localhost:9000/p' }, 'dbs[0].replicas[0].bucket: required for an s3 replica'],
    [{ type: 'file' }, 'dbs[0].replicas[0].path: required for a file replica'],
    [{}, 'dbs[0].replicas[0].path: required for a file replica'],
    [{ url: '' }, 'dbs[0].replicas[0].url: empty (an unset environment variable?)'],
    [{ type: 'ftp', path: '/b' }, 'dbs[0].replicas[0].type: unknown replica type "ftp"'],
    [{ type: 'gcs', bucket: 'b' }, 'dbs[0].replicas[0].type: replica type "gcs" not supported yet'],
    [{ type: 'abs', bucket: 'b' }, 'dbs[0].replicas[0].type: replica type "abs" not supported yet'],
    [{ type: 'sftp', path: '/b' }, 'dbs[0].replicas[0].type: replica type "sftp" not supported yet'],
    [{ url: 'gcs://bkt/db' }, 'dbs[0].replicas[0].url: replica type "gcs" not supported yet'],
    [{ url: 'sftp://host/db' }, 'dbs[0].replicas[0].url: replica type "sftp" not supported yet'],
    [{ url: 'http://bkt/db' }, 'dbs[0].replicas[0].url: unknown replica type "http"'],
    [{ url: '/backups/db' }, 'dbs[0].replicas[0].url: invalid replica URL "/backups/db": scheme:// required'],
    [{ url: 's3://b/p?sse=on' }, 'dbs[0].replicas[0].url: unknown query parameter "sse"'],
    [{ url: 's3://b/p?region=x', region: 'y' }, 'dbs[0].replicas[0].region: also given as a url query parameter'],
    [{ url: 's3://b/p?force-path-style=true', 'force-path-style': 'yes' }, 'dbs[0].replicas[0].force-path-style: also given as a url query parameter'],
    [{ url: 's3://b/p', 'skip-verify': 'sometimes' }, 'dbs[0].replicas[0].skip-verify: invalid boolean "sometimes"'],
    [{ url: 's3://b/p', endpoint: 'ftp://x' }, 'dbs[0].replicas[0].endpoint: invalid endpoint "ftp://x": want http:// or https://'],
    [{ url: 's3://b/p', 'access-key-id': ['AKIA-SECRET-ISH'] }, 'dbs[0].replicas[0].access-key-id: invalid value (hidden)'],
    [{ url: 's3://b/p', 'secret-access-key': { v: 'hunter2' } }, 'dbs[0].replicas[0].secret-access-key: invalid value (hidden)'],
    ['s3://b/p', 'dbs[0].replicas[0]: expected a mapping, got a string'],
  ])('%j', (raw, message) => {
    expect(errorOf(raw)).toBe(message);
  });

  it.each([
    ['age', { identities: ['AGE-SECRET-KEY-1'] }, 'not supported yet (age encryption; refusing to replicate unencrypted)'],
    ['age', null, 'not supported yet (age encryption; refusing to replicate unencrypted)'],
    ['account-name', 'acct-zz9', 'not supported yet (abs replicas)'],
    ['account-key', 'key-zz9', 'not supported yet (abs replicas)'],
    ['host', 'example.com:22', 'not supported yet (sftp replicas)'],
    ['user', 'user-zz9', 'not supported yet (sftp replicas)'],
    ['password', 'hunter2', 'not supported yet (sftp replicas)'],
    ['key-path', '/keys/zz9', 'not supported yet (sftp replicas)'],
  ])('refuses %s (value %j)', (key, value, why) => {
    const message = errorOf({ url: 's3://b/p', [key]: value });
    expect(message).toBe(`dbs[0].replicas[0].${key}: ${why}`);
    if (typeof value === 'string') expect(message).not.toContain(value);
  });
});
