/**
 * lifeboat restore: the built CLI as a black box — the reference fixtures by URL and by
 * config, the exit-code contract of -if-replica-exists / -if-db-not-exists (the init's
 * restore-on-boot form), bad flags, a corrupt piece, and SIGTERM mid-restore.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, decodeFrame } from '../../src/replicator/lz4/index.js';
import { FileReplicaClient } from '../../src/replicator/clients/file.js';
import { S3ReplicaClient } from '../../src/replicator/clients/s3.js';
import { OWNER_FILE, ownerOf } from '../../src/replicator/restore/abandoned.js';
import { formatBytes } from '../../src/replicator/restore/progress.js';
import { lifeboat } from '../helpers/cli.js';
import { TEST_KEYS, TEST_S3_ENV } from '../helpers/credentials.js';
import { unpackFixture } from '../helpers/fixtures.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { integrityCheck, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';
import { captureHistory, writeReplica, type History } from '../replicator/restore/history.js';

/** configFor writes a config naming `db` with one file replica at `replica`. */
function configFor(dir: string, db: string, replica: string): string {
  const cfg = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${replica}\n`);
  return cfg;
}

describe('lifeboat restore: reference fixtures', () => {
  it('basic by URL: exit 0, rows equal expected.json, summary on stdout, nothing else left', async () => {
    const fx = unpackFixture('basic');
    const out = path.join(fx.dir, 'out', 'restored.db');
    const res = await lifeboat(['restore', '-o', out, `file://${fx.replica}`]);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['restored.db']);
    expect(rowsDigest(out)).toEqual({ rows: fx.expected.rows, digest: fx.expected.digest });
    expect(res.stdout).toMatch(/^restored .*restored\.db from .* generation 6073f47898eb5422 snapshot 00000000 up to index 00000000\n/);
    expect(res.stdout).toMatch(/snapshot 16\.4 kB, wal .* in 7 segments \/ 1 indexes .* download \d+\.\d{3}s, apply \d+\.\d{3}s/);
  });

  it.each([
    ['latest', []],
    ['generation_1', ['-generation', '9747914359e303c1']],
    ['generation_1_index_0', ['-generation', '9747914359e303c1', '-index', '00000000']],
    ['generation_1_index_0', ['-generation', '9747914359e303c1', '-index', '0']],
  ])('multi by config: %s %j', async (key, flags) => {
    const fx = unpackFixture('multi');
    const db = path.join(fx.dir, 'app.db');
    const cfg = configFor(fx.dir, db, fx.replica);
    const res = await lifeboat(['restore', '-config', cfg, '-integrity-check', ...flags, db]);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(integrityCheck(db)).toBe('ok');
    expect(rowsDigest(db)).toEqual({ rows: fx.expected[key].rows, digest: fx.expected[key].digest });
    expect(res.stdout).toContain(`generation ${fx.expected[key].generation}`);
  });
});

describe('lifeboat restore: exit codes', () => {
  it('-if-replica-exists on an empty replica: exit 0, no file created', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const cfg = configFor(dir, db, path.join(dir, 'empty-replica'));
    const res = await lifeboat(['restore', '-config', cfg, '-if-db-not-exists', '-if-replica-exists', db]);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(res.stdout).toMatch(/no matching backups found/);
    expect(fs.readdirSync(dir)).toEqual(['lifeboat.yml']);
    const without = await lifeboat(['restore', '-config', cfg, db]);
    expect(without.exitCode).toBe(1);
    expect(without.stderr).toBe(`lifeboat restore: no generations found in ${dir}/empty-replica (no such directory)`);
  });

  it('no generations: names each replica it looked in', async () => {
    const dir = tmpDir();
    const typo = path.join(dir, 'bakups');
    const one = await lifeboat(['restore', '-o', path.join(dir, 'out.db'), `file://${typo}`]);
    expect(one.exitCode).toBe(1);
    expect(one.stderr).toBe(`lifeboat restore: no generations found in ${typo} (no such directory)`);
    const forgiven = await lifeboat(['restore', '-if-replica-exists', '-o', path.join(dir, 'out.db'), `file://${typo}`]);
    expect(forgiven.exitCode).toBe(0);
    expect(forgiven.stdout).toBe(`no matching backups found: no generations found in ${typo} (no such directory) (-if-replica-exists)`);
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const db = path.join(dir, 'app.db');
    const cfg = path.join(dir, 'two.yml');
    fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${empty}\n      - name: second\n        path: ${typo}\n`);
    const two = await lifeboat(['restore', '-config', cfg, db]);
    expect(two.exitCode).toBe(1);
    expect(two.stderr).toBe(`lifeboat restore: no generations found in file ${empty}, second ${typo} (no such directory)`);
  });

  it('-if-db-not-exists with an existing output: exit 0, untouched; without it: exit 1', async () => {
    const fx = unpackFixture('basic');
    const out = path.join(fx.dir, 'app.db');
    fs.writeFileSync(out, 'keep me');
    const before = fs.statSync(out).mtimeMs;
    const skip = await lifeboat(['restore', '-if-db-not-exists', '-o', out, `file://${fx.replica}`]);
    expect(skip.exitCode, String(skip.all)).toBe(0);
    expect(skip.stdout).toMatch(/already exists, skipping/);
    const refuse = await lifeboat(['restore', '-o', out, `file://${fx.replica}`]);
    expect(refuse.exitCode).toBe(1);
    expect(refuse.stderr).toContain(`lifeboat restore: output ${out} already exists`);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    expect(fs.statSync(out).mtimeMs).toBe(before);
  });

  it('bad flags exit 2 naming the value', async () => {
    const cases: [string[], string][] = [
      [['-index', 'zz'], 'invalid -index "zz"'],
      [['-generation', 'XYZ'], 'invalid -generation "XYZ"'],
      [['-timestamp', 'yesterday'], 'invalid -timestamp "yesterday"'],
      [['-parallelism', '0'], 'invalid -parallelism "0"'],
      [['-index', '1', '-timestamp', '2024-01-01T00:00:00Z'], 'cannot combine -index and -timestamp'],
    ];
    for (const [flags, msg] of cases) {
      const res = await lifeboat(['restore', ...flags, '-o', '/tmp/never', 'file:///nonexistent']);
      expect(res.exitCode, String(res.all)).toBe(2);
      expect(res.stderr).toContain(msg);
    }
    const noOut = await lifeboat(['restore', 'file:///nonexistent']);
    expect(noOut.exitCode).toBe(2);
    expect(String(noOut.stderr).split('\n')[0]).toBe('lifeboat restore: -o PATH is required when restoring from a replica URL or directory');
  });

  it('-if-replica-exists false: exit 2 naming the flag and the value, not the next argument', async () => {
    const res = await lifeboat(['restore', '-if-replica-exists', 'false', '-o', '/tmp/never', 'file:///nonexistent']);
    expect(res.exitCode).toBe(2);
    expect(String(res.stderr).split('\n')[0]).toBe('lifeboat restore: flag -if-replica-exists takes no value: "false" (write -if-replica-exists=false)');
  });

  it('names the command once in a usage error (no "restore: restore:")', async () => {
    const withConfig = await lifeboat(['restore', '-config', '/nonexistent.yml', '-o', '/tmp/never', 'file:///nonexistent']);
    expect(withConfig.exitCode).toBe(2);
    expect(String(withConfig.stderr).split('\n')[0]).toBe('lifeboat restore: cannot combine a replica URL with -config');
    const withReplica = await lifeboat(['generations', '-replica', 'file', 'file:///nonexistent']);
    expect(withReplica.exitCode).toBe(2);
    expect(String(withReplica.stderr).split('\n')[0]).toBe('lifeboat generations: cannot combine a replica URL with -replica');
  });

  it('a corrupt page: exit 1 naming the segment, no output file', async () => {
    const fx = unpackFixture('basic');
    const seg = path.join(fx.replica, 'generations/6073f47898eb5422/wal/00000000_0000d158.wal.lz4');
    const raw = decodeFrame(fs.readFileSync(seg));
    raw[24 + 4000] ^= 1;
    fs.writeFileSync(seg, encodeFrame(raw));
    const out = path.join(fx.dir, 'out', 'x.db');
    const res = await lifeboat(['restore', '-o', out, `file://${fx.replica}`]);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain('wal segment 6073f47898eb5422/00000000_0000d158.wal.lz4: frame at offset 0000d158: bad wal checksum');
    expect(fs.readdirSync(path.dirname(out))).toEqual([]);
  });
});

describe('lifeboat restore: a plain path', () => {
  const noConfig = { env: { LIFEBOAT_CONFIG: '', LITESTREAM_CONFIG: '' } };

  it('a directory holding generations/ is a file replica: restores as its file:// URL does', async () => {
    const dir = tmpDir();
    const replica = path.join(dir, 'replica');
    const history = captureHistory(dir, { pageSize: 4096, seed: 5, indexes: 2, steps: 2 });
    await writeReplica(new FileReplicaClient(replica), 'abcdefabcdef0125', history, 3);
    const out = path.join(dir, 'out.db');
    const res = await lifeboat(['restore', '-o', out, replica], noConfig);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^restored ${out} from ${replica} \\(replica file\\) generation abcdefabcdef0125 `));
    expect(integrityCheck(out)).toBe('ok');
    const noOut = await lifeboat(['restore', replica], noConfig);
    expect(noOut.exitCode).toBe(2);
    expect(String(noOut.stderr).split('\n')[0]).toBe('lifeboat restore: -o PATH is required when restoring from a replica URL or directory');
    const withConfig = await lifeboat(['restore', '-config', path.join(dir, 'x.yml'), '-o', out, replica]);
    expect(withConfig.exitCode).toBe(2);
    expect(String(withConfig.stderr).split('\n')[0]).toBe(`lifeboat restore: cannot combine a replica directory (${replica}) with -config`);
  });

  it('any other plain path is a database: without a config, says where it looked and how to name a replica', async () => {
    const dir = tmpDir();
    const res = await lifeboat(['restore', path.join(dir, 'app.db')], noConfig);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toBe(
      'lifeboat restore: no config file found (tried $LIFEBOAT_CONFIG, $LITESTREAM_CONFIG, /etc/lifeboat.yml, /etc/litestream.yml)' +
        ` to look up database ${dir}/app.db (for a replica, give its URL: file:///abs/dir, s3://bucket/path)`,
    );
    const bare = await lifeboat(['restore', '-o', path.join(dir, 'out.db'), dir], noConfig);
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toMatch(new RegExp(`database ${dir} \\(${dir} is a directory without generations/: for a replica, give file://${dir}\\)$`));
  });

  it('a database the config does not name: names the config and its databases', async () => {
    const dir = tmpDir();
    const cfg = configFor(dir, path.join(dir, 'app.db'), path.join(dir, 'replica'));
    const res = await lifeboat(['restore', '-config', cfg, path.join(dir, 'ap.db')]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toBe(
      `lifeboat restore: database not found in config ${cfg}: ${dir}/ap.db (its databases: ${dir}/app.db)` +
        ' (for a replica, give its URL: file:///abs/dir, s3://bucket/path)',
    );
  });
});

describe('lifeboat restore from s3, with faults on the link', () => {
  const keys = TEST_KEYS;
  const env = TEST_S3_ENV;
  let s3: S3rver;
  beforeAll(async () => {
    s3 = await startS3rver();
    await s3.bucket('bkt');
  });
  afterAll(async () => s3?.stop());

  /** store writes `history` as generation `gen` under `bkt/<prefix>`. */
  async function store(prefix: string, gen: string, history: History): Promise<void> {
    const client = new S3ReplicaClient({ bucket: 'bkt', path: prefix, endpoint: s3.endpoint, ...keys });
    await writeReplica(client, gen, history, 5);
    await client.close();
  }

  /** url is the replica `bkt/<prefix>` reached on `port` (a proxy's, or s3rver's own). */
  const url = (prefix: string, port: number) => `s3://bkt/${prefix}?endpoint=http://127.0.0.1:${port}&region=us-east-1`;

  it('without any S3 credentials: exit 1 naming the variables and config keys to set', async () => {
    const home = tmpDir();
    const bare = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, AWS_EC2_METADATA_DISABLED: 'true' };
    const out = path.join(home, 'out.db');
    const res = await lifeboat(['restore', '-o', out, url('none', s3.port)], { env: bare, extendEnv: false });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toBe(
      'lifeboat restore: list generations: no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' +
        ' (or LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY), or access-key-id and secret-access-key in the config,' +
        ' or use an AWS profile or role',
    );
    const withLitestreamKeys = await lifeboat(['restore', '-if-replica-exists', '-o', out, url('none', s3.port)], {
      env: { ...bare, LITESTREAM_ACCESS_KEY_ID: keys.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: keys.secretAccessKey },
      extendEnv: false,
    });
    expect(withLitestreamKeys.exitCode, String(withLitestreamKeys.all)).toBe(0);
  });

  it('SIGTERM mid-restore: exits 143 and leaves nothing behind', async () => {
    const dir = tmpDir();
    await store('sigterm', 'abcdefabcdef0123', captureHistory(dir, { pageSize: 4096, seed: 3, indexes: 6, steps: 3 }));
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port }, { latencyMs: 150 });
    const outDir = path.join(dir, 'out');
    const child = lifeboat(['restore', '-parallelism', '1', '-o', path.join(outDir, 'db'), url('sigterm', proxy.port)], { env });
    await waitUntil(() => fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0, { what: 'the restore to create its build directory' });
    child.kill('SIGTERM');
    const res = await child;
    await proxy.close();
    expect(res.exitCode, String(res.all)).toBe(143);
    expect(res.stderr).toMatch(/interrupted by SIGTERM/);
    expect(fs.readdirSync(outDir)).toEqual([]);
  });

  it('SIGKILL mid-restore leaves its build directory, which the next restore removes; one owned by a live process stays', async () => {
    const dir = tmpDir();
    await store('sigkill', 'abcdefabcdef0124', captureHistory(dir, { pageSize: 4096, seed: 4, indexes: 6, steps: 3 }));
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port }, { latencyMs: 150 });
    const outDir = path.join(dir, 'out');
    const out = path.join(outDir, 'db');
    const slow = lifeboat(['restore', '-parallelism', '1', '-o', out, url('sigkill', proxy.port)], { env });
    const owned = (): string[] => (fs.existsSync(outDir) ? fs.readdirSync(outDir).filter((n) => fs.existsSync(path.join(outDir, n, OWNER_FILE))) : []);
    await waitUntil(() => owned().length > 0, { what: 'the restore to own its build directory' });
    slow.kill('SIGKILL');
    expect((await slow).signal).toBe('SIGKILL');
    await proxy.close();
    const killed = owned();
    expect(killed).toHaveLength(1);
    const live = path.join(outDir, '.db.restore-live');
    fs.mkdirSync(live);
    fs.writeFileSync(path.join(live, OWNER_FILE), JSON.stringify(ownerOf(process.pid)));

    const res = await lifeboat(['restore', '-o', out, url('sigkill', s3.port)], { env });
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(res.stderr).toContain('removed the build directory of an interrupted restore');
    expect(fs.readdirSync(outDir).sort()).toEqual(['.db.restore-live', 'db']);
    expect(integrityCheck(out)).toBe('ok');
  });

  it('a connection reset in the middle of a download: starts it over, says so, and restores every byte', async () => {
    const dir = tmpDir();
    const src = path.join(dir, 'src.db');
    const db = openWAL(src);
    const blob = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 400; i++) blob.run(crypto.randomBytes(2000).toString('base64'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const snapshot = fs.readFileSync(src);
    await store('reset', 'abcdefabcdef0125', { pageSize: 4096, snapshot, indexes: [], dbPath: src });
    expect(encodeFrame(snapshot).length).toBeGreaterThan(600_000);
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
    proxy.resetAfter(300_000);
    const out = path.join(dir, 'out', 'db');
    const res = await lifeboat(['restore', '-o', out, url('reset', proxy.port)], { env });
    await proxy.close();
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(proxy.resets()).toBe(1);
    expect(res.stderr).toMatch(/download broke off: starting it over .*piece="snapshot abcdefabcdef0125\/00000000\.snapshot\.lz4" attempt=1/);
    expect(fs.readFileSync(out).equals(snapshot)).toBe(true);
    expect(res.stdout).toContain(`(${formatBytes(encodeFrame(snapshot).length)} downloaded)`);
  });
});
