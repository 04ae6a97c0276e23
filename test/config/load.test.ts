import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { decodeParsedText, loadConfig, parseConfigText, resolveConfigPath, type ParsedText } from '../../src/config/load.js';
import { tmpDir } from '../helpers/tmp.js';

function write(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

async function loadError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
}

describe('resolveConfigPath', () => {
  const dir = tmpDir();
  const a = write(dir, 'a.yml', '');
  const b = write(dir, 'b.yml', '');
  const c = write(dir, 'c.yml', '');
  const missing = path.join(dir, 'missing.yml');

  it('prefers the flag, then $LIFEBOAT_CONFIG, then $LITESTREAM_CONFIG', () => {
    const env = { LIFEBOAT_CONFIG: b, LITESTREAM_CONFIG: c };
    expect(resolveConfigPath(a, env, [])).toEqual({ path: a, explicit: true });
    expect(resolveConfigPath(undefined, env, [])).toEqual({ path: b, explicit: true });
    expect(resolveConfigPath(undefined, { LITESTREAM_CONFIG: c }, [])).toEqual({ path: c, explicit: true });
    expect(resolveConfigPath('', { LIFEBOAT_CONFIG: '', LITESTREAM_CONFIG: c }, [])).toEqual({ path: c, explicit: true });
  });

  it('falls back to the first existing search path, not explicit', () => {
    expect(resolveConfigPath(undefined, {}, [missing, b, c])).toEqual({ path: b, explicit: false });
    expect(resolveConfigPath(undefined, {}, [missing])).toBeUndefined();
  });

  it('uses $LIFEBOAT_DEFAULT_CONFIG (the image demo\'s) only when the user gave none, and only when it exists', () => {
    const demo = { LIFEBOAT_DEFAULT_CONFIG: c };
    expect(resolveConfigPath(undefined, demo, [missing])).toEqual({ path: c, explicit: false, fallback: true });
    // A user's /etc/litestream.yml (a search path), $LITESTREAM_CONFIG or -config wins over it.
    expect(resolveConfigPath(undefined, demo, [missing, b])).toEqual({ path: b, explicit: false });
    expect(resolveConfigPath(undefined, { ...demo, LITESTREAM_CONFIG: a }, [missing])).toEqual({ path: a, explicit: true });
    expect(resolveConfigPath(a, demo, [b])).toEqual({ path: a, explicit: true });
    // Missing or empty: as if unset (a default, not a file the user named).
    expect(resolveConfigPath(undefined, { LIFEBOAT_DEFAULT_CONFIG: missing }, [])).toBeUndefined();
    expect(resolveConfigPath(undefined, { LIFEBOAT_DEFAULT_CONFIG: '' }, [])).toBeUndefined();
  });

  it('fails when an explicitly named file is missing, naming where it came from', () => {
    expect(() => resolveConfigPath(missing, {}, [a])).toThrow(`config file not found: ${missing} (from -config)`);
    expect(() => resolveConfigPath(undefined, { LITESTREAM_CONFIG: missing }, [a])).toThrow(
      `config file not found: ${missing} (from $LITESTREAM_CONFIG)`,
    );
  });

  it('expands ~ and makes the flag absolute', () => {
    const home = process.env.HOME;
    process.env.HOME = dir;
    try {
      expect(resolveConfigPath('~/a.yml', {}, [])).toEqual({ path: a, explicit: true });
    } finally {
      process.env.HOME = home;
    }
  });
});

// A config in the style of the Litestream docs (reference/config, s3 guides).
const LITESTREAM_YML = `
# Global credentials, as the Litestream docs suggest.
access-key-id: \${LITESTREAM_ACCESS_KEY_ID}
secret-access-key: $LITESTREAM_SECRET_ACCESS_KEY
addr: ":9090"
exec: php-fpm -F

logging:
  level: debug
  type: json
  stderr: false

dbs:
  - path: /var/lib/app/db.sqlite
    monitor-interval: 1s
    checkpoint-interval: 1m
    min-checkpoint-page-count: 1000
    max-checkpoint-page-count: 10000
    replicas:
      - name: b2
        url: s3://\${BUCKET}.s3.us-west-002.backblazeb2.com/db
        retention: 72h
        retention-check-interval: 1h
        snapshot-interval: 24h
        sync-interval: 10s
        validation-interval: 6h
      - type: s3
        name: minio
        bucket: backups
        path: app/db
        endpoint: http://localhost:9000
        region: us-east-1
        force-path-style: true
        skip-verify: false
      - path: /mnt/backup/db

  - path: \${DATA_DIR}/second.db
    replicas:
      - url: s3://mybkt.litestream.io/second
        access-key-id: AKIAOWN
        secret-access-key: "$OWN_SECRET"
`;

const ENV = {
  LITESTREAM_ACCESS_KEY_ID: 'AKIATOP',
  LITESTREAM_SECRET_ACCESS_KEY: 'top/secret',
  BUCKET: 'my-b2-bucket',
  DATA_DIR: '/srv/data',
  OWN_SECRET: 'own$ecret',
};

describe('loadConfig', () => {
  const dir = tmpDir();

  it('applies LIFEBOAT_HEALTH_MAX_LAG only when asked (replicate, status, init): other commands never read it', async () => {
    const file = write(dir, 'health-env.yml', 'dbs:\n  - path: /data/app.db\n');
    expect((await loadConfig({ path: file, env: { LIFEBOAT_HEALTH_MAX_LAG: 'soon' } })).health.maxLag).toBe(30_000);
    expect((await loadConfig({ path: file, env: { LIFEBOAT_HEALTH_MAX_LAG: '5s' }, healthEnv: true })).health.maxLag).toBe(5_000);
    expect(await loadError(loadConfig({ path: file, env: { LIFEBOAT_HEALTH_MAX_LAG: 'soon' }, healthEnv: true }))).toBe(
      `${file}: LIFEBOAT_HEALTH_MAX_LAG: invalid duration "soon" (want e.g. 30s or 1m)`,
    );
  });

  it('loads a reference-style litestream.yml unchanged', async () => {
    const file = write(dir, 'litestream.yml', LITESTREAM_YML);
    const c = await loadConfig({ path: file, env: ENV });
    const common = { retention: 86_400_000, retentionCheckInterval: 3_600_000, snapshotInterval: 0, validationInterval: 0 };
    expect(c).toEqual({
      file,
      addr: ':9090',
      exec: 'php-fpm -F',
      accessKeyId: 'AKIATOP',
      secretAccessKey: 'top/secret',
      logging: { level: 'debug', type: 'json', stderr: false, timestamps: true },
      health: { maxLag: 30_000, heartbeatInterval: 60_000 },
      warnings: ['dbs[0].replicas[0].validation-interval: validation restores are not implemented, ignored'],
      dbs: [
        {
          path: '/var/lib/app/db.sqlite',
          monitorInterval: 1000,
          checkpointInterval: 60_000,
          busyTimeout: 1000,
          minCheckpointPageCount: 1000,
          maxCheckpointPageCount: 10000,
          replicas: [
            {
              name: 'b2',
              type: 's3',
              url: 's3://my-b2-bucket.s3.us-west-002.backblazeb2.com/db',
              path: 'db',
              bucket: 'my-b2-bucket',
              region: 'us-west-002',
              endpoint: 'https://s3.us-west-002.backblazeb2.com',
              forcePathStyle: true,
              skipVerify: false,
              accessKeyId: 'AKIATOP',
              secretAccessKey: 'top/secret',
              retention: 72 * 3_600_000,
              retentionCheckInterval: 3_600_000,
              snapshotInterval: 86_400_000,
              syncInterval: 10_000,
              validationInterval: 6 * 3_600_000,
            },
            {
              ...common,
              name: 'minio',
              type: 's3',
              path: 'app/db',
              bucket: 'backups',
              region: 'us-east-1',
              endpoint: 'http://localhost:9000',
              forcePathStyle: true,
              skipVerify: false,
              accessKeyId: 'AKIATOP',
              secretAccessKey: 'top/secret',
              syncInterval: 1000,
            },
            { ...common, name: 'file', type: 'file', path: '/mnt/backup/db', syncInterval: 0 },
          ],
        },
        {
          path: '/srv/data/second.db',
          monitorInterval: 1000,
          checkpointInterval: 60_000,
          busyTimeout: 1000,
          minCheckpointPageCount: 1000,
          maxCheckpointPageCount: 10000,
          replicas: [
            {
              ...common,
              name: 's3',
              type: 's3',
              url: 's3://mybkt.litestream.io/second',
              path: 'second',
              bucket: 'mybkt.litestream.io',
              region: undefined,
              endpoint: undefined,
              forcePathStyle: false,
              skipVerify: false,
              accessKeyId: 'AKIAOWN',
              secretAccessKey: 'own$ecret',
              syncInterval: 1000,
            },
          ],
        },
      ],
    });
  });

  it('keeps $VAR literal with expandEnv: false (-no-expand-env)', async () => {
    const file = write(dir, 'literal.yml', 'secret-access-key: pa$$word$X\ndbs:\n  - path: /d/$NAME.db\n');
    const expanded = await loadConfig({ path: file, env: { X: 'x', NAME: 'app' } });
    expect([expanded.secretAccessKey, expanded.dbs[0].path]).toEqual(['pawordx', '/d/app.db']); // Go: "$$" is the (unset) variable "$"
    const literal = await loadConfig({ path: file, env: { X: 'x', NAME: 'app' }, expandEnv: false });
    expect([literal.secretAccessKey, literal.dbs[0].path]).toEqual(['pa$$word$X', '/d/$NAME.db']);
  });

  it('keeps scalars as written (no YAML 1.2 number or 1.1 octal coercion)', async () => {
    const file = write(dir, 'scalars.yml', 'dbs:\n  - path: /d\n    replicas:\n      - url: s3://0123/x\n        region: 1e3\n');
    const c = await loadConfig({ path: file, env: {} });
    expect(c.dbs[0].replicas[0]).toMatchObject({ bucket: '0123', region: '1e3' });
  });

  it('supports anchors and merge keys', async () => {
    const text = 'defaults: &r\n  retention: 4h\n  sync-interval: 5s\ndbs:\n  - path: /d\n    replicas:\n      - <<: *r\n        url: s3://b/p\n';
    const c = await loadConfig({ path: write(dir, 'merge.yml', text), env: {} });
    expect(c.dbs[0].replicas[0]).toMatchObject({ retention: 4 * 3_600_000, syncInterval: 5000 });
    expect(c.warnings).toEqual(['defaults: unknown key, ignored']);
  });

  it('reports a YAML syntax error as one line with file:line:col', async () => {
    const file = write(dir, 'bad.yml', 'dbs:\n  - path: /d\n   replicas: [\n');
    const message = await loadError(loadConfig({ path: file, env: {} }));
    expect(message).toBe(`${file}:3:1: invalid YAML: Sequence item without - indicator`);
    expect(message).not.toContain('\n');
  });

  it('reports duplicate keys and tabs as YAML errors', async () => {
    const dup = write(dir, 'dup.yml', 'addr: a\naddr: b\n');
    expect(await loadError(loadConfig({ path: dup, env: {} }))).toBe(`${dup}:2:1: invalid YAML: Map keys must be unique`);
    const tab = write(dir, 'tab.yml', 'dbs:\n\t- path: /d\n');
    expect(await loadError(loadConfig({ path: tab, env: {} }))).toMatch(new RegExp(`^${tab}:2:1: invalid YAML: `));
  });

  it('prefixes validation errors with the file', async () => {
    const file = write(dir, 'invalid.yml', 'dbs:\n  - path: /d\n    replicas:\n      - path: /b\n        sync-interval: 5 seconds\n');
    expect(await loadError(loadConfig({ path: file, env: {} }))).toBe(
      `${file}: dbs[0].replicas[0].sync-interval: invalid duration "5 seconds"`,
    );
  });

  it('fails on encryption settings rather than replicating unencrypted', async () => {
    const file = write(dir, 'age.yml', 'dbs:\n  - path: /d\n    replicas:\n      - url: s3://b/p\n        age:\n          recipients: [age1xyz]\n');
    expect(await loadError(loadConfig({ path: file, env: {} }))).toBe(
      `${file}: dbs[0].replicas[0].age: not supported yet (age encryption; refusing to replicate unencrypted)`,
    );
  });

  it('fails on a missing file, and when no file is named or found', async () => {
    const missing = path.join(dir, 'nope.yml');
    expect(await loadError(loadConfig({ path: missing, env: {} }))).toBe(`config file not found: ${missing}`);
    const env = { LIFEBOAT_CONFIG: missing };
    expect(await loadError(loadConfig({ env }))).toBe(`config file not found: ${missing} (from $LIFEBOAT_CONFIG)`);
  });

  it('accepts an empty file', async () => {
    const c = await loadConfig({ path: write(dir, 'empty.yml', '# nothing\n'), env: {} });
    expect(c.dbs).toEqual([]);
  });
});

describe('parseConfigText', () => {
  it('expands from the given env and resolves relative paths against the given cwd', () => {
    const c = parseConfigText('dbs:\n  - path: $D/app.db\n', { env: { D: 'data' }, paths: { cwd: '/srv', home: '/root' } });
    expect(c.dbs[0].path).toBe('/srv/data/app.db');
  });
});

describe('a parse handed over by another process (the init and its prestarted replicator)', () => {
  const text = 'dbs:\n  - path: /data/${DB_NAME}\n    replicas:\n      - path: /replica\n';

  it('onParsed gets the expanded text and its tree; parsed is used for exactly that text', () => {
    let handed: ParsedText | undefined;
    const first = parseConfigText(text, { env: { DB_NAME: 'app.db' }, onParsed: (p) => (handed = p) });
    expect(first.dbs[0].path).toBe('/data/app.db');
    expect(handed?.src).toBe(text.replace('${DB_NAME}', 'app.db'));
    const over = decodeParsedText(JSON.stringify(handed));
    expect(over).toEqual(handed);
    // The same text: the tree is taken as is (a tree edited on purpose shows it is not parsed again).
    const edited = { src: over!.src, tree: { dbs: [{ path: '/elsewhere.db', replicas: [{ path: '/replica' }] }] } };
    expect(parseConfigText(text, { env: { DB_NAME: 'app.db' }, parsed: edited }).dbs[0].path).toBe('/elsewhere.db');
    // Another expansion of the text: parsed here, the handed tree ignored.
    expect(parseConfigText(text, { env: { DB_NAME: 'other.db' }, parsed: edited }).dbs[0].path).toBe('/data/other.db');
  });

  it('decodeParsedText refuses what is not one', () => {
    expect(decodeParsedText('')).toBeUndefined();
    expect(decodeParsedText('{"tree":{}}')).toBeUndefined();
    expect(decodeParsedText('{"src":1,"tree":{}}')).toBeUndefined();
    expect(decodeParsedText('{"src":"a: b"')).toBeUndefined();
    expect(decodeParsedText('{"src":"a: b","tree":{"a":"b"}}')).toEqual({ src: 'a: b', tree: { a: 'b' } });
  });
});
