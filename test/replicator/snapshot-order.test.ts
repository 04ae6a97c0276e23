/**
 * snapshot-order: a snapshot is never uploaded before what it needs — its generation's
 * claim and its index's WAL from offset 0 — even when the database starts a new
 * generation while the replica is still listing and claiming the one before. (A snapshot
 * alone can hold pages of a checkpoint caught midway: without its WAL it restores a mix
 * of two states, rows of later transactions beside the marks of earlier ones.)
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplicaConfig } from '../../src/config/types.js';
import { Logger } from '../../src/log.js';
import { S3ReplicaClient } from '../../src/replicator/clients/s3.js';
import { Db } from '../../src/replicator/db.js';
import { Replica } from '../../src/replicator/replica.js';
import { restore } from '../../src/replicator/restore/index.js';
import { TEST_KEYS } from '../helpers/credentials.js';
import { useS3rver, type RequestLog, type S3rver } from '../helpers/s3rver.js';
import { insertRows, integrityCheck, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const BUCKET = 'order';
let s3: S3rver;
useS3rver(BUCKET, (started) => (s3 = started));

/** uploadOrder lists the PUT keys in the order they reached the server (`db/generations/` taken off). */
function uploadOrder(requests: RequestLog[]): string[] {
  return requests.filter((r) => r.method === 'PUT').map((r) => r.key.replace(/^db\/generations\//, ''));
}

/** snapshotsBeforeTheirNeeds lists each snapshot PUT not preceded by its generation's claim and its index's first WAL segment. */
function snapshotsBeforeTheirNeeds(order: string[]): string[] {
  const bad: string[] = [];
  order.forEach((key, i) => {
    const m = /^([0-9a-f]{16})\/snapshots\/([0-9a-f]{8})\.snapshot\.lz4$/.exec(key);
    if (!m) return;
    const before = order.slice(0, i);
    const claimed = before.some((k) => k.startsWith(`${m[1]}/claims/`) && k.endsWith('.claim'));
    const wal = before.includes(`${m[1]}/wal/${m[2]}_00000000.wal.lz4`);
    if (!claimed || !wal) bad.push(`${key} (claim before it: ${claimed}, wal ${m[2]}_00000000 before it: ${wal})`);
  });
  return bad;
}

describe('a new generation while the replica claims the one before', () => {
  it('uploads the new generation claim, WAL, snapshot in that order; a restore equals the source', async () => {
    const lines: string[] = [];
    const logger = new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) });
    const file = path.join(tmpDir(), 'app.db');
    const app = openWAL(file);
    app.pragma('wal_autocheckpoint = 0');
    // Latency keeps the replica's first requests in flight long enough to act meanwhile.
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port }, { latencyMs: 300 });
    const s3cfg = { bucket: BUCKET, path: 'db', endpoint: `http://127.0.0.1:${proxy.port}`, forcePathStyle: true, ...TEST_KEYS };
    const client = new S3ReplicaClient(s3cfg, { logger });
    const rc: ReplicaConfig = {
      name: 's3', type: 's3', path: 'db', bucket: BUCKET, endpoint: s3cfg.endpoint, forcePathStyle: true,
      retention: 0, retentionCheckInterval: 3_600_000, syncInterval: 0, snapshotInterval: 0, validationInterval: 0,
    };
    const db = new Db({ path: file, monitorInterval: 1000, checkpointInterval: 60_000, minCheckpointPageCount: 1000, maxCheckpointPageCount: 10_000, replicas: [rc] }, logger);
    const replica = new Replica(db, rc, client, logger);
    try {
      insertRows(app, 20);
      db.sync();
      const first = db.generation!;
      s3.resetRequests();

      // The replica starts on the first generation; once its first listing reaches the
      // server, the database moves on to a second one (as after a WAL it could not follow).
      const syncing = replica.sync();
      await waitUntil(async () => (await s3.requests()).some((r) => r.method === 'GET' && (r.query.prefix ?? '').includes(first)), {
        what: 'the replica to list the first generation',
        detail: () => lines.join('\n'),
      });
      insertRows(app, 20);
      db.restartGeneration('test: a new generation while the replica claims the first');
      const second = db.generation!;
      expect(second).not.toBe(first);
      await syncing;

      // Then the replica follows the database into the second generation.
      insertRows(app, 20);
      db.sync();
      await replica.sync();
      await replica.sync();
      expect(replica.restorablePos).toEqual(db.pos());

      const order = uploadOrder(await s3.requests());
      expect(order.some((k) => k.startsWith(`${second}/snapshots/`)), order.join('\n')).toBe(true);
      expect(snapshotsBeforeTheirNeeds(order), order.join('\n')).toEqual([]);

      const direct = new S3ReplicaClient({ ...s3cfg, endpoint: s3.endpoint }, { logger });
      try {
        const out = path.join(tmpDir(), 'out.db');
        const res = await restore({ replicas: [{ name: 's3', client: direct }], outputPath: out, logger });
        expect(res.status).toBe('restored');
        expect(integrityCheck(out)).toBe('ok');
        expect(rowsDigest(out)).toEqual(rowsDigest(file));
      } finally {
        await direct.close();
      }
    } finally {
      await replica.stop();
      db.close({ keepWAL: false });
      app.close();
      await client.close();
      await proxy.close();
    }
  });
});
