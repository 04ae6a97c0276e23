import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  configForDatabase,
  isReplicaURL,
  parseReplicaURL,
  parseS3Host,
  replicaFromURL,
} from '../../src/config/url.js';

const ctx = { cwd: '/work', home: '/home/me' };

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('isReplicaURL', () => {
  it.each([
    ['s3://b/p', true],
    ['file:///x', true],
    ['gcs://b', true],
    ['/var/backups', false],
    ['backups', false],
    ['s3:/b', false],
    ['C:\\backups', false],
  ])('%s → %s', (s, want) => {
    expect(isReplicaURL(s)).toBe(want);
  });
});

describe('parseS3Host (reference s3.ParseHost)', () => {
  it.each([
    ['mybkt', { bucket: 'mybkt', forcePathStyle: false }],
    ['mybkt.litestream.io', { bucket: 'mybkt.litestream.io', forcePathStyle: false }],
    ['bucket.s3.amazonaws.com', { bucket: 'bucket.s3.amazonaws.com', forcePathStyle: false }],
    ['mybkt:9000', { bucket: 'mybkt', forcePathStyle: false }],
    ['bkt.localhost', { bucket: 'bkt', region: 'us-east-1', endpoint: 'http://localhost', forcePathStyle: true }],
    ['bkt.localhost:9000', { bucket: 'bkt', region: 'us-east-1', endpoint: 'http://localhost:9000', forcePathStyle: true }],
    ['localhost:9000', { bucket: undefined, region: 'us-east-1', endpoint: 'http://localhost:9000', forcePathStyle: true }],
    ['bkt.s3.us-west-002.backblazeb2.com', { bucket: 'bkt', region: 'us-west-002', endpoint: 'https://s3.us-west-002.backblazeb2.com', forcePathStyle: true }],
    ['bkt.s3.filebase.com', { bucket: 'bkt', region: undefined, endpoint: 'https://s3.filebase.com', forcePathStyle: true }],
    ['bkt.nyc3.digitaloceanspaces.com', { bucket: 'bkt', region: 'nyc3', endpoint: 'https://nyc3.digitaloceanspaces.com', forcePathStyle: true }],
    ['bkt.s3.fr-par.scw.cloud', { bucket: 'bkt', region: 'fr-par', endpoint: 'https://s3.fr-par.scw.cloud', forcePathStyle: true }],
    ['bkt.us-east-1.linodeobjects.com', { bucket: 'bkt', region: 'us-east-1', endpoint: 'https://us-east-1.linodeobjects.com', forcePathStyle: true }],
    ['my.dotted.bkt.nyc3.digitaloceanspaces.com', { bucket: 'my.dotted.bkt', region: 'nyc3', endpoint: 'https://nyc3.digitaloceanspaces.com', forcePathStyle: true }],
  ])('%s', (host, want) => {
    expect(parseS3Host(host)).toEqual(want);
  });
});

describe('parseReplicaURL', () => {
  it('reads file URLs', () => {
    expect(parseReplicaURL('file:///var/backups/db')).toEqual({ type: 'file', url: 'file:///var/backups/db', path: '/var/backups/db' });
    expect(parseReplicaURL('file://localhost/a/./b/../c/').path).toBe('/a/c');
    expect(parseReplicaURL('file:///with%20space').path).toBe('/with space');
  });

  it('reads s3 URLs: bucket, cleaned key prefix', () => {
    expect(parseReplicaURL('s3://bkt/a//b/../c/')).toEqual({ type: 's3', url: 's3://bkt/a//b/../c/', path: 'a/c', bucket: 'bkt' });
    expect(parseReplicaURL('s3://bkt').path).toBe('');
    expect(parseReplicaURL('s3://bkt/').path).toBe('');
  });

  it('reads the query-parameter extension', () => {
    const u = 's3://bkt/db?endpoint=localhost:9000&region=eu-central-1&force-path-style=true&skip-verify=1';
    expect(parseReplicaURL(u)).toEqual({
      type: 's3',
      url: u,
      path: 'db',
      bucket: 'bkt',
      endpoint: 'https://localhost:9000',
      region: 'eu-central-1',
      forcePathStyle: true,
      skipVerify: true,
    });
  });

  it.each([
    ['/var/backups', 'url: invalid replica URL "/var/backups": scheme:// required'],
    ['file://relative/dir', 'url: file URL must not name a host ("relative"): use file:///absolute/path'],
    ['file://', 'url: file URL has no path'],
    ['file:///b?x=1', 'url: unknown query parameter "x"'],
    ['s3://bkt/db?foo=1&bar=2&foo=3', 'url: unknown query parameters "foo", "bar"'],
    ['s3://bkt/db?region=', 'url: empty query parameter "region"'],
    ['s3://bkt/db?force-path-style=yes', 'url: query parameter force-path-style: invalid boolean "yes"'],
    ['s3://bkt/db?endpoint=ftp://x', 'url: invalid endpoint "ftp://x": want http:// or https://'],
    ['s3://bkt/db#frag', 'url: unexpected fragment "#frag"'],
    ['s3://bkt/%zz', 'url: invalid percent-encoding in URL path "/%zz"'],
    ['abs://acct@host/c', 'url: credentials in a replica URL are not supported'],
    ['s3://AKIA:s3cr3t@bkt/db', 'url: credentials in a replica URL are not supported'],
    ['webdav://h/p', 'url: unknown replica type "webdav"'],
  ])('rejects %s', (u, message) => {
    expect(messageOf(() => parseReplicaURL(u))).toBe(message);
  });

  it('names the field it was given', () => {
    expect(messageOf(() => parseReplicaURL('s3://b?x=1', 'dbs[0].replicas[2].url'))).toBe('dbs[0].replicas[2].url: unknown query parameter "x"');
  });
});

describe('replicaFromURL', () => {
  it('fills every default for an s3 URL', () => {
    expect(replicaFromURL('s3://bkt.localhost:9000/app')).toEqual({
      name: 's3',
      type: 's3',
      url: 's3://bkt.localhost:9000/app',
      path: 'app',
      bucket: 'bkt',
      region: 'us-east-1',
      endpoint: 'http://localhost:9000',
      forcePathStyle: true,
      skipVerify: false,
      retention: 86_400_000,
      retentionCheckInterval: 3_600_000,
      syncInterval: 1000,
      snapshotInterval: 0,
      validationInterval: 0,
    });
  });

  it('treats a plain path as a file replica, absolute', () => {
    expect(replicaFromURL('backups/app', { ctx })).toMatchObject({ type: 'file', name: 'file', path: '/work/backups/app', syncInterval: 0 });
    expect(replicaFromURL('~/bk', { ctx }).path).toBe('/home/me/bk');
  });

  it('requires a bucket', () => {
    expect(messageOf(() => replicaFromURL('s3://localhost:9000/app'))).toBe('url: no bucket in "s3://localhost:9000/app"');
  });
});

describe('configForDatabase', () => {
  it('builds a whole config for `replicate DB TARGET…`, naming same-type replicas apart', () => {
    const c = configForDatabase('app.db', ['s3://b1/app', '/backups/app', 's3://b2/app', 'file:///more'], ctx);
    expect(c.logging).toEqual({ level: 'info', type: 'text', stderr: true, timestamps: true });
    expect(c.dbs).toHaveLength(1);
    expect(c.dbs[0]).toMatchObject({ path: '/work/app.db', monitorInterval: 1000, minCheckpointPageCount: 1000 });
    expect(c.dbs[0].replicas.map((r) => [r.name, r.type, r.bucket ?? r.path])).toEqual([
      ['s3', 's3', 'b1'],
      ['file', 'file', '/backups/app'],
      ['s3-2', 's3', 'b2'],
      ['file-2', 'file', '/more'],
    ]);
  });

  it('names the bad target by position', () => {
    expect(messageOf(() => configForDatabase('/a.db', ['/b', 's3://b?nope=1'], ctx))).toBe('replica 2: unknown query parameter "nope"');
  });
});
