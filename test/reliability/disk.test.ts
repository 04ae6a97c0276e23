/**
 * Disk full and read-only, on real small filesystems (a tmpfs of a few MB): the replica's
 * disk, the database's own disk (where the shadow WAL lives) and a restore's output. Each
 * must give one clear error, recover by itself when space returns, and leave nothing
 * corrupt under a final name; the restore after a clean stop equals the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/replicator/lz4/index.js';
import { lifeboat } from '../helpers/cli.js';
import { startReplicate, type Running } from '../helpers/replicate.js';
import { requireMount, smallDisk } from '../helpers/small-disk.js';
import { insertRows, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const canMount = requireMount();

/** config writes a replicate config for `db` to `replica` with quick syncs. */
function config(db: string, replica: string): string {
  const file = path.join(tmpDir(), 'lifeboat.yml');
  fs.writeFileSync(file, `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - path: ${replica}\n        sync-interval: 100ms\n`);
  return file;
}

/** restored restores `replica` to a new file and digests its rows (undefined when the restore fails). */
async function restored(replica: string): Promise<{ rows: number; digest: string } | undefined> {
  const out = path.join(tmpDir('lifeboat-restored-'), 'out.db');
  const r = await lifeboat(['restore', '-o', out, `file://${replica}`]);
  return r.exitCode === 0 ? rowsDigest(out) : undefined;
}

/** caughtUp waits until a restore of `replica` equals `db`'s rows. */
async function caughtUp(replica: string, db: string, rep: Running): Promise<void> {
  await waitUntil(async () => JSON.stringify(await restored(replica)) === JSON.stringify(rowsDigest(db)), {
    what: 'the replica to hold every row',
    timeoutMs: 60_000,
    detail: () => rep.lines.join('\n'),
  });
}

/** lz4Files lists every .lz4 file under `dir` (snapshots and WAL segments). */
function lz4Files(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lz4')).map((f) => path.join(dir, f));
}

/** expectWholeFiles checks that every object under a final name decodes completely. */
function expectWholeFiles(dir: string): void {
  const files = lz4Files(dir);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(() => decodeFrame(fs.readFileSync(f)), f).not.toThrow();
}

/** syncErrors are the replicator's "sync failed" lines since `from`. */
function syncErrors(rep: Running, from = 0): string[] {
  return rep.lines.slice(from).filter((l) => /sync failed/.test(l));
}

/** stopAndCompare stops replicate (final sync, exit 0) and checks the replica restores exactly `db`. */
async function stopAndCompare(rep: Running, replica: string, db: string, conn: Database.Database): Promise<void> {
  conn.close();
  const { exitCode, output } = await rep.stop();
  expect(exitCode, output).toBe(0);
  expect(await restored(replica)).toEqual(rowsDigest(db));
  expectWholeFiles(replica);
}

describe.skipIf(!canMount)('disk full and read-only (real small tmpfs)', () => {
  it("the replica's disk fills up: one clear error, retried quietly, caught up when space returns", async () => {
    const disk = smallDisk(4 << 20);
    const replica = path.join(disk.dir, 'replica');
    const db = path.join(tmpDir(), 'app.db');
    const conn = openWAL(db);
    insertRows(conn, 20);
    const rep = startReplicate(['-config', config(db, replica)]);
    try {
      await caughtUp(replica, db, rep);
      disk.fill();
      insertRows(conn, 300, 2000);
      await waitUntil(() => syncErrors(rep).length > 0, { what: 'a sync to fail on the full disk', detail: () => rep.lines.join('\n') });
      const first = syncErrors(rep)[0];
      expect(first).toMatch(/^ERROR sync failed .*attempt=1 error="write wal [0-9a-f]{8}_[0-9a-f]{8}: .*ENOSPC: no space left on device/);
      await waitUntil(() => syncErrors(rep).some((l) => /attempt=4 /.test(l)), { what: 'the 4th failed attempt', timeoutMs: 60_000, detail: () => rep.lines.join('\n') });
      expect(syncErrors(rep).map((l) => /attempt=(\d+)/.exec(l)![1])).toEqual(['1', '2', '4']);
      expectWholeFiles(replica);
      disk.free();
      await rep.waitFor(/INFO sync recovered .*failed_attempts=\d+/, 60_000);
      await caughtUp(replica, db, rep);
      insertRows(conn, 10);
      await stopAndCompare(rep, replica, db, conn);
    } finally {
      rep.proc.kill('SIGKILL');
    }
  }, 180_000);

  it("the replica's disk turns read-only: one clear error, caught up once it is writable again", async () => {
    const disk = smallDisk(8 << 20);
    const replica = path.join(disk.dir, 'replica');
    const db = path.join(tmpDir(), 'app.db');
    const conn = openWAL(db);
    insertRows(conn, 20);
    const rep = startReplicate(['-config', config(db, replica)]);
    try {
      await caughtUp(replica, db, rep);
      disk.readOnly(true);
      insertRows(conn, 50);
      await waitUntil(() => syncErrors(rep).length > 0, { what: 'a sync to fail on the read-only disk', detail: () => rep.lines.join('\n') });
      expect(syncErrors(rep)[0]).toMatch(/^ERROR sync failed .*attempt=1 error=".*EROFS: read-only file system/);
      disk.readOnly(false);
      await rep.waitFor(/INFO sync recovered/, 60_000);
      await caughtUp(replica, db, rep);
      await stopAndCompare(rep, replica, db, conn);
    } finally {
      rep.proc.kill('SIGKILL');
    }
  }, 180_000);

  it("the database's own disk fills up mid-copy of the shadow WAL: recovered when space returns, exact restore", async () => {
    const disk = smallDisk(6 << 20);
    const db = path.join(disk.dir, 'app.db');
    const replica = path.join(tmpDir(), 'replica');
    const conn = openWAL(db);
    insertRows(conn, 20);
    const rep = startReplicate(['-config', config(db, replica)]);
    try {
      await caughtUp(replica, db, rep);
      // Leave room for the app's transaction in the WAL but not for its copy in the shadow.
      const ballast = path.join(disk.dir, '.ballast');
      const { bavail, bsize } = fs.statfsSync(disk.dir);
      fs.writeFileSync(ballast, Buffer.alloc(Math.max(0, bavail * bsize - (600 << 10))));
      conn.transaction(() => insertRows(conn, 200, 2000))();
      await waitUntil(() => rep.lines.some((l) => /ENOSPC/.test(l)), { what: 'the shadow copy to fail on the full disk', detail: () => rep.lines.join('\n') });
      const errors = rep.lines.filter((l) => /^ERROR/.test(l));
      expect(errors[0]).toMatch(/ENOSPC: no space left on device/);
      fs.rmSync(ballast);
      insertRows(conn, 10);
      await caughtUp(replica, db, rep);
      expect(rep.lines.filter((l) => /new generation/.test(l)).length, rep.lines.join('\n')).toBeLessThanOrEqual(2);
      await stopAndCompare(rep, replica, db, conn);
    } finally {
      rep.proc.kill('SIGKILL');
    }
  }, 180_000);

  it('a restore onto a full disk: one clear error naming the output, non-zero exit, nothing left behind', async () => {
    const db = path.join(tmpDir(), 'app.db');
    const replica = path.join(tmpDir(), 'replica');
    const conn = openWAL(db);
    insertRows(conn, 500, 2000);
    const rep = startReplicate(['-config', config(db, replica)]);
    await caughtUp(replica, db, rep);
    conn.close();
    expect((await rep.stop()).exitCode).toBe(0);
    const disk = smallDisk(256 << 10);
    const out = path.join(disk.dir, 'restored.db');
    const r = await lifeboat(['restore', '-o', out, `file://${replica}`]);
    const stderr = String(r.stderr).trim();
    expect(r.exitCode).not.toBe(0);
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^lifeboat restore: write ${out}: .*ENOSPC: no space left on device`));
    expect(fs.readdirSync(disk.dir)).toEqual([]);
  }, 120_000);
});
