import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pageCount } from '../../src/replicator/checkpoint.js';
import { lifeboat } from '../helpers/cli.js';
import { TEST_ACCESS_KEY_ID, TEST_S3_ENV, TEST_SECRET_ACCESS_KEY } from '../helpers/credentials.js';
import { caughtUp, fetchMetrics, metricsBase, positions, type Positions, waitForSyncs } from '../helpers/metrics.js';
import { runWriter, startReplicate } from '../helpers/replicate.js';
import { type S3rver, useS3rver } from '../helpers/s3rver.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { integrityCheck, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

let s3: S3rver;
useS3rver('bkt', (started) => (s3 = started));

function url(prefix: string): string {
  return `s3://bkt/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}`;
}

describe('lifeboat replicate (s3 replica on s3rver)', () => {
  it('replicates 1,000 transactions; SIGTERM; restore from the same URL equals the source', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    openWAL(db).close();
    const target = url('thousand/app.db');
    const rep = startReplicate([db, target], TEST_S3_ENV);
    await rep.waitFor(/replicating/);
    await runWriter(db, 1000, 1);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
    const out = path.join(dir, 'out.db');
    const res = await lifeboat(['restore', '-o', out, target], { env: TEST_S3_ENV });
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(integrityCheck(out)).toBe('ok');
    expect(rowsDigest(out)).toEqual(rowsDigest(db));
    expect(rowsDigest(out).rows).toBe(1000);
  });

  it('uploads the WAL of a new generation before its snapshot, which restores only together with it', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    openWAL(db).close();
    await runWriter(db, 200);
    const prefix = 'wal-first/app.db';
    s3.resetRequests();
    const rep = startReplicate([db, url(prefix)], TEST_S3_ENV);
    const puts = async () => (await s3.requests()).filter((r) => r.method === 'PUT' && r.key.startsWith(`${prefix}/generations/`)).map((r) => r.key.split('/').slice(-2).join('/'));
    await waitUntil(async () => (await puts()).some((k) => k.startsWith('snapshots/')), { what: 'the snapshot', detail: async () => (await puts()).join('\n') });
    expect((await rep.stop()).exitCode).toBe(0);
    const keys = (await puts()).filter((k) => !k.startsWith('claims/'));
    const firstSnapshot = keys.findIndex((k) => k.startsWith('snapshots/'));
    expect(keys[0], keys.join('\n')).toBe('wal/00000000_00000000.wal.lz4');
    expect(firstSnapshot, keys.join('\n')).toBeGreaterThan(0);
  });

  it('logs the replica URL with its endpoint, and never a key from the config', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    openWAL(db).close();
    const keyId = TEST_ACCESS_KEY_ID;
    const secret = TEST_SECRET_ACCESS_KEY;
    const prefix = 'secrets/app.db';
    const cfg = path.join(dir, 'lifeboat.yml');
    const yml = ['logging:', '  level: debug', `access-key-id: ${keyId}`, `secret-access-key: ${secret}`, 'dbs:', `  - path: ${db}`, '    replicas:', `      - url: ${url(prefix)}`];
    fs.writeFileSync(cfg, yml.join('\n'));
    const rep = startReplicate(['-config', cfg]);
    const location = `s3://bkt/${prefix}?endpoint=${s3.endpoint}`;
    expect(await rep.waitFor(/replicating/)).toBe(`INFO replicating db=${db} replicas="s3=${location}"`);
    await runWriter(db, 5);
    await rep.waitFor(/wal segment written/);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
    const out = path.join(dir, 'out.db');
    const res = await lifeboat(['restore', '-config', cfg, '-o', out, db]);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(res.stdout).toContain(` from ${location} (replica s3) generation `);
    for (const text of [output, String(res.all)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(keyId);
    }
    expect((await s3.requests()).filter((r) => r.key.startsWith(prefix)).every((r) => r.accessKeyId === keyId)).toBe(true);
  });

  it('lists and restores a generation of more than 1,000 WAL segments', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const cfg = path.join(dir, 'lifeboat.yml');
    const prefix = 'many/app.db';
    fs.writeFileSync(
      cfg,
      ['dbs:', `  - path: ${db}`, '    min-checkpoint-page-count: 400', '    replicas:', `      - url: ${url(prefix)}`, '        sync-interval: 0'].join('\n'),
    );
    openWAL(db).close();
    const rep = startReplicate(['-config', cfg], TEST_S3_ENV);
    await rep.waitFor(/replicating/);
    // Write in rounds until the replica holds more than 1,000 segments (uploads batch
    // commits whenever a PUT is still in flight, so the count per round varies).
    let written = 0;
    let segments = 0;
    for (let round = 0; round < 100 && segments <= 1000; round++) {
      await runWriter(db, 150, 6);
      written += 150;
      const listing = await lifeboat(['wal', url(prefix)], { env: TEST_S3_ENV });
      expect(listing.exitCode, String(listing.all)).toBe(0);
      segments = String(listing.stdout).trim().split('\n').length - 1;
    }
    expect(segments).toBeGreaterThan(1000);
    expect((await rep.stop()).exitCode).toBe(0);
    const out = path.join(dir, 'out.db');
    const res = await lifeboat(['restore', '-o', out, url(prefix)], { env: TEST_S3_ENV });
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(rowsDigest(out)).toEqual(rowsDigest(db));
    expect(rowsDigest(out).rows).toBe(written);
  }, 600_000);

  it('resumes by itself after an outage of the object store, and the replica stays consistent', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    openWAL(db).close();
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
    const prefix = 'outage/app.db';
    const viaProxy = `s3://bkt/${prefix}?endpoint=${encodeURIComponent(`http://127.0.0.1:${proxy.port}`)}`;
    const rep = startReplicate([db, viaProxy], TEST_S3_ENV);
    await rep.waitFor(/replicating/);
    const walPut = async () => (await s3.requests()).some((r) => r.method === 'PUT' && r.key.startsWith(`${prefix}/generations/`) && r.key.includes('/wal/'));
    const output = () => rep.lines.join('\n');
    s3.resetRequests();
    await runWriter(db, 50, 5);
    await waitUntil(walPut, { what: 'a WAL segment uploaded before the outage', detail: output });
    proxy.cut();
    const cutAt = rep.lines.length;
    await runWriter(db, 50, 5);
    await waitUntil(() => rep.lines.slice(cutAt).some((l) => /sync failed|retrying/.test(l)), { what: 'an upload to fail during the outage', detail: output });
    s3.resetRequests();
    proxy.restore();
    await runWriter(db, 50, 5);
    // Uploads resume before the stop: the final sync is not what brings the replica back.
    await waitUntil(walPut, { what: 'a WAL segment uploaded after the outage', detail: output });
    const { exitCode } = await rep.stop();
    await proxy.close();
    expect(exitCode, output()).toBe(0);
    const out = path.join(dir, 'out.db');
    const res = await lifeboat(['restore', '-o', out, url(prefix)], { env: TEST_S3_ENV });
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(integrityCheck(out)).toBe('ok');
    expect(rowsDigest(out)).toEqual(rowsDigest(db));
    expect(rowsDigest(out).rows).toBe(150);
  }, 60_000);

  it('exits promptly (code 1) on a second signal while the final sync cannot finish', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    openWAL(db).close();
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
    const viaProxy = `s3://bkt/second-signal/app.db?endpoint=${encodeURIComponent(`http://127.0.0.1:${proxy.port}`)}`;
    const rep = startReplicate([db, viaProxy], TEST_S3_ENV);
    await rep.waitFor(/replicating/);
    proxy.cut();
    await runWriter(db, 10);
    rep.proc.kill('SIGTERM');
    await rep.waitFor(/signal received, final sync/);
    // The final sync is stuck on the outage: a request of it has failed since.
    const from = rep.lines.findIndex((l) => /signal received, final sync/.test(l));
    await waitUntil(() => rep.lines.slice(from + 1).some((l) => /retrying|sync failed/.test(l)), {
      what: 'a failed request after the final sync began',
      detail: () => rep.lines.join('\n'),
    });
    const t = Date.now();
    const { exitCode, output } = await rep.stop('SIGTERM');
    await proxy.close();
    // The final sync would go on failing for as long as the outage lasts.
    expect(Date.now() - t).toBeLessThan(5000);
    expect(exitCode, output).toBe(1);
    expect(output).toMatch(/second signal: exiting without waiting for the final sync/);
  });

  /** REPLICA is the replica's name in writeConfig's config (the metrics label it). */
  const REPLICA = 'backup';

  /** writeConfig writes a config that polls every 50 ms, syncs at most every 200 ms and serves metrics. */
  function writeConfig(dir: string, db: string, prefix: string, checkpointInterval: string): string {
    const cfg = path.join(dir, 'lifeboat.yml');
    const lines = ['addr: "127.0.0.1:0"', 'dbs:', `  - path: ${db}`, '    monitor-interval: 50ms', `    checkpoint-interval: ${checkpointInterval}`];
    lines.push('    replicas:', `      - name: ${REPLICA}`, `        url: ${url(prefix)}`, '        sync-interval: 200ms', '        retention-check-interval: 1h');
    fs.writeFileSync(cfg, lines.join('\n'));
    return cfg;
  }

  /** requestsFor lists the requests for objects under `prefix`, and listings of it. */
  async function requestsFor(prefix: string) {
    return (await s3.requests()).filter((r) => r.key.startsWith(prefix) || (r.query.prefix ?? '').startsWith(prefix));
  }

  /** scrape reads the positions of `db` and of the replica from the metrics at `base`. */
  async function scrape(base: string, db: string): Promise<Positions> {
    return positions(await fetchMetrics(base), db, REPLICA);
  }

  it('costs zero requests per idle minute once the last checkpoint and upload have settled', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const prefix = 'idle/app.db';
    const app = openWAL(db);
    const pageSize = Number(app.pragma('page_size', { simple: true }));
    const rep = startReplicate(['-config', writeConfig(dir, db, prefix, '500ms')], TEST_S3_ENV);
    const base = await metricsBase(rep);
    await rep.waitFor(/replicating/);
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 20; i++) ins.run(`row ${i}`);
    // Settled: the idle checkpoint (500 ms after the last change) ran and restarted the WAL,
    // which holds one frame again, so no checkpoint is due any more; and the replica holds
    // all of it: the snapshot, the segments before the checkpoint and the one after.
    const settled = await waitUntil(
      async () => {
        const p = await scrape(base, db);
        return caughtUp(p) && (p.checkpoints.PASSIVE ?? 0) >= 1 && pageCount(p.shadow!.offset, pageSize) <= 1 && p;
      },
      { what: 'the idle checkpoint and the upload after it', detail: () => rep.lines.join('\n') },
    );
    expect(settled.shadow!.index).toBeGreaterThan(0);
    expect(rep.lines.some((l) => /snapshot written/.test(l)), rep.lines.join('\n')).toBe(true);
    s3.resetRequests();
    // 200 wake-ups (at a 50 ms monitor interval, ~10 s): as many as 3 idle minutes at 1 s.
    const after = await waitForSyncs(base, db, REPLICA, settled, 200);
    expect(await requestsFor(prefix)).toEqual([]);
    expect([after.shadow, after.replica, after.checkpoints]).toEqual([settled.shadow, settled.replica, settled.checkpoints]);
    app.close();
    expect((await rep.stop()).exitCode).toBe(0);
  }, 180_000);

  it('makes one PUT per sync that carries changes, and none without', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const prefix = 'economy/app.db';
    const app = openWAL(db);
    const rep = startReplicate(['-config', writeConfig(dir, db, prefix, '1h')], TEST_S3_ENV);
    const base = await metricsBase(rep);
    await rep.waitFor(/replicating/);
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    /** commit commits one row, then waits until the shadow WAL has it and the replica holds it. */
    const commit = async (v: string): Promise<Positions> => {
      const before = await scrape(base, db);
      ins.run(v);
      return waitUntil(
        async () => {
          const p = await scrape(base, db);
          return caughtUp(p) && (p.shadow!.index !== before.shadow?.index || p.shadow!.offset !== before.shadow?.offset) && p;
        },
        { what: `the replica to hold the commit of ${JSON.stringify(v)}`, detail: () => rep.lines.join('\n') },
      );
    };
    await commit('first');
    s3.resetRequests();
    for (let i = 0; i < 5; i++) {
      await commit(`change ${i}`);
      expect((await requestsFor(prefix)).map((r) => r.method)).toEqual(Array(i + 1).fill('PUT'));
    }
    // Nothing more to upload: 40 more wake-ups (~2 s at 50 ms) make no request.
    const last = await scrape(base, db);
    const idle = await waitForSyncs(base, db, REPLICA, last, 40);
    expect([idle.shadow, idle.replica]).toEqual([last.shadow, last.replica]);
    const puts = await requestsFor(prefix);
    expect(puts.map((r) => r.method)).toEqual(['PUT', 'PUT', 'PUT', 'PUT', 'PUT']);
    expect(puts.every((r) => /\/wal\/[0-9a-f]{8}_[0-9a-f]{8}\.wal\.lz4$/.test(r.key))).toBe(true);
    app.close();
    expect((await rep.stop()).exitCode).toBe(0);
  }, 120_000);
});
