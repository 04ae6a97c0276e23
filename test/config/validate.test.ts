import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import * as D from '../../src/config/defaults.js';

const paths = { cwd: '/work', home: '/home/me' };
const validate = (raw: unknown) => validateConfig(raw, { paths });

/** errorOf returns the ConfigError thrown by validating `raw`. */
function errorOf(raw: unknown): ConfigError {
  try {
    validate(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('validateConfig: top level', () => {
  it('accepts an empty document (no databases)', () => {
    expect(validate(null)).toEqual({ logging: { level: 'info', type: 'text', stderr: true, timestamps: true }, health: { maxLag: 30_000, heartbeatInterval: 60_000 }, dbs: [], warnings: [] });
  });

  it('reads addr, exec, credentials and logging', () => {
    const c = validate({
      addr: ':9090',
      exec: 'myapp serve',
      'access-key-id': 'AKIA',
      'secret-access-key': 'SECRET',
      logging: { level: 'debug', type: 'json', stderr: 'false', timestamps: 'false' },
    });
    expect(c).toMatchObject({ addr: ':9090', exec: 'myapp serve', accessKeyId: 'AKIA', secretAccessKey: 'SECRET' });
    expect(c.logging).toEqual({ level: 'debug', type: 'json', stderr: false, timestamps: false });
  });

  it('reads shutdown-sync-timeout as a duration (Litestream v0.5 spelling); unset leaves the default to replicate', () => {
    expect(validate({ 'shutdown-sync-timeout': '2500ms' }).shutdownSyncTimeout).toBe(2500);
    expect(validate({ 'shutdown-sync-timeout': '10s' }).shutdownSyncTimeout).toBe(10_000);
    expect(validate({}).shutdownSyncTimeout).toBeUndefined();
  });

  it('accepts the reference level spellings (case-insensitive, "warning")', () => {
    expect(validate({ logging: { level: 'WARNING' } }).logging.level).toBe('warn');
    expect(validate({ logging: { level: 'Error' } }).logging.level).toBe('error');
  });

  it.each([
    [{ dbs: 'x' }, 'dbs: expected a list, got a string'],
    [['a'], '(top level): expected a mapping, got a list'],
    [{ addr: ['x'] }, 'addr: expected a string, got a list'],
    [{ logging: 'loud' }, 'logging: expected a mapping, got a string'],
    [{ logging: { level: 'verbose' } }, 'logging.level: invalid level "verbose" (want debug, info, warn or error)'],
    [{ logging: { type: 'xml' } }, 'logging.type: invalid type "xml" (want text or json)'],
    [{ logging: { stderr: 'maybe' } }, 'logging.stderr: invalid boolean "maybe"'],
    [{ logging: { timestamps: 'utc' } }, 'logging.timestamps: invalid boolean "utc"'],
    [{ 'access-key-id': { a: 1 } }, 'access-key-id: invalid value (hidden)'],
    [{ 'secret-access-key': ['s3cr3t'] }, 'secret-access-key: invalid value (hidden)'],
    [{ 'shutdown-sync-timeout': '-1s' }, 'shutdown-sync-timeout: must not be negative, got "-1s"'],
  ])('rejects %j', (raw, message) => {
    expect(errorOf(raw).message).toBe(message);
  });

  it('never echoes a secret', () => {
    const err = errorOf({ 'secret-access-key': ['s3cr3t-value'] });
    expect(err.message).not.toContain('s3cr3t-value');
    expect(err.value).toBeUndefined();
  });

  it('warns about unknown keys, naming their path', () => {
    const c = validate({
      'mcp-addr': ':3001',
      logging: { colour: 'yes' },
      dbs: [{ path: '/d.db', 'watermark-table': 'x', replicas: [{ path: '/b', frobnicate: 1 }] }],
    });
    expect(c.warnings).toEqual([
      'mcp-addr: unknown key, ignored',
      'logging.colour: unknown key, ignored',
      'dbs[0].replicas[0].frobnicate: unknown key, ignored',
      'dbs[0].watermark-table: unknown key, ignored',
    ]);
  });
});

describe('validateConfig: databases', () => {
  it('fills every default', () => {
    const c = validate({ dbs: [{ path: '/data/app.db' }] });
    expect(c.dbs).toEqual([
      {
        path: '/data/app.db',
        monitorInterval: D.DEFAULT_MONITOR_INTERVAL,
        checkpointInterval: D.DEFAULT_CHECKPOINT_INTERVAL,
        busyTimeout: D.DEFAULT_BUSY_TIMEOUT,
        minCheckpointPageCount: 1000,
        maxCheckpointPageCount: 10000,
        replicas: [],
      },
    ]);
    expect(D.DEFAULT_MONITOR_INTERVAL).toBe(1000);
    expect(D.DEFAULT_CHECKPOINT_INTERVAL).toBe(60_000);
  });

  it('reads every key, strings as YAML failsafe gives them', () => {
    const [db] = validate({
      dbs: [
        {
          path: 'data/app.db',
          'meta-path': '~/meta',
          'monitor-interval': '500ms',
          'checkpoint-interval': '30s',
          'busy-timeout': '5s',
          'min-checkpoint-page-count': '500',
          'max-checkpoint-page-count': '0',
        },
      ],
    }).dbs;
    expect(db).toEqual({
      path: '/work/data/app.db',
      metaPath: '/home/me/meta',
      monitorInterval: 500,
      checkpointInterval: 30_000,
      busyTimeout: 5000,
      minCheckpointPageCount: 500,
      maxCheckpointPageCount: 0,
      replicas: [],
    });
  });

  it('expands ~ and makes paths absolute', () => {
    expect(validate({ dbs: [{ path: '~/app.db' }] }).dbs[0].path).toBe('/home/me/app.db');
    expect(validate({ dbs: [{ path: './x/../app.db' }] }).dbs[0].path).toBe('/work/app.db');
  });

  it.each([
    [{ path: null }, 'dbs[0].path: required'],
    [{}, 'dbs[0].path: required'],
    [{ path: '~' }, 'dbs[0].path: required'], // a plain ~ is YAML null
    ['/data/app.db', 'dbs[0]: expected a mapping, got a string'],
    [{ path: '/d', 'monitor-interval': '0s' }, 'dbs[0].monitor-interval: must be greater than 0, got "0s"'],
    [{ path: '/d', 'monitor-interval': '1' }, 'dbs[0].monitor-interval: invalid duration "1"'],
    [{ path: '/d', 'checkpoint-interval': '-1m' }, 'dbs[0].checkpoint-interval: must not be negative, got "-1m"'],
    [{ path: '/d', 'min-checkpoint-page-count': '0' }, 'dbs[0].min-checkpoint-page-count: must be greater than 0, got 0'],
    [{ path: '/d', 'min-checkpoint-page-count': 'many' }, 'dbs[0].min-checkpoint-page-count: invalid integer "many"'],
    [{ path: '/d', 'min-checkpoint-page-count': '1.5' }, 'dbs[0].min-checkpoint-page-count: invalid integer "1.5"'],
    [{ path: '/d', 'max-checkpoint-page-count': '-1' }, 'dbs[0].max-checkpoint-page-count: must not be negative, got -1'],
    [{ path: '/d', replicas: { url: 's3://b/p' } }, 'dbs[0].replicas: expected a list, got a mapping'],
    [{ path: '/d', replica: { url: 's3://b/p' } }, 'dbs[0].replica: not supported (Litestream v0.4 form): use a "replicas:" list'],
  ])('rejects %j', (db, message) => {
    expect(errorOf({ dbs: [db] }).message).toBe(message);
  });

  it('rejects duplicate database paths (after resolving them)', () => {
    expect(errorOf({ dbs: [{ path: '/work/a.db' }, { path: 'b.db' }, { path: 'a.db' }] }).message).toBe(
      'dbs[2].path: duplicate database path "/work/a.db" (also dbs[0])',
    );
  });

  it('rejects duplicate replica names within one database, not across databases', () => {
    expect(errorOf({ dbs: [{ path: '/d', replicas: [{ path: '/b1' }, { path: '/b2' }] }] }).message).toBe(
      'dbs[0].replicas[1].name: duplicate replica name "file" (also replicas[0]): name each replica',
    );
    const c = validate({
      dbs: [
        { path: '/d1', replicas: [{ path: '/b1' }] },
        { path: '/d2', replicas: [{ path: '/b2' }, { name: 'second', path: '/b3' }] },
      ],
    });
    expect(c.dbs.map((d) => d.replicas.map((r) => r.name))).toEqual([['file'], ['file', 'second']]);
  });

  it('gives top-level credentials to s3 replicas without their own', () => {
    const c = validate({
      'access-key-id': 'TOP-ID',
      'secret-access-key': 'TOP-SECRET',
      dbs: [
        {
          path: '/d',
          replicas: [
            { name: 'a', url: 's3://b/p' },
            { name: 'b', url: 's3://b/q', 'access-key-id': 'OWN-ID', 'secret-access-key': 'OWN-SECRET' },
            { name: 'c', path: '/backup' },
          ],
        },
      ],
    });
    const [a, b, file] = c.dbs[0].replicas;
    expect([a.accessKeyId, a.secretAccessKey]).toEqual(['TOP-ID', 'TOP-SECRET']);
    expect([b.accessKeyId, b.secretAccessKey]).toEqual(['OWN-ID', 'OWN-SECRET']);
    expect(file.accessKeyId).toBeUndefined();
  });
});
