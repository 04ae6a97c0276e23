/**
 * live-listing: a restore from a replica that is being written. The replicator uploads a
 * snapshot's WAL before the snapshot; a restore that lists the snapshots first and the
 * WAL after sees every snapshot it finds together with that WAL. Here the restore's
 * snapshot listing is held at the proxy while the replicator uploads index 1's WAL and
 * its snapshot: the restore must still apply that WAL (listed the other way round, it
 * restored the snapshot alone, which is only consistent together with its WAL).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplicaConfig } from '../../../src/config/types.js';
import { Logger } from '../../../src/log.js';
import { S3ReplicaClient } from '../../../src/replicator/clients/s3.js';
import { Db } from '../../../src/replicator/db.js';
import { Replica } from '../../../src/replicator/replica.js';
import { restore } from '../../../src/replicator/restore/index.js';
import { TEST_KEYS } from '../../helpers/credentials.js';
import { useS3rver, type S3rver } from '../../helpers/s3rver.js';
import { insertRows, integrityCheck, openWAL, rowsDigest } from '../../helpers/sqlite.js';
import { startProxy } from '../../helpers/tcp-proxy.js';
import { tmpDir } from '../../helpers/tmp.js';

const BUCKET = 'live';
let s3: S3rver;
useS3rver(BUCKET, (started) => (s3 = started));

describe('a restore while the replicator uploads a snapshot', () => {
  it('lists the snapshots before the WAL: the snapshot it restores comes with its WAL', async () => {
    const lines: string[] = [];
    const logger = new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) });
    const file = path.join(tmpDir(), 'app.db');
    const app = openWAL(file);
    app.pragma('wal_autocheckpoint = 0');
    const s3cfg = { bucket: BUCKET, path: 'db', endpoint: s3.endpoint, forcePathStyle: true, ...TEST_KEYS };
    const client = new S3ReplicaClient(s3cfg, { logger });
    const rc: ReplicaConfig = {
      name: 's3', type: 's3', path: 'db', bucket: BUCKET, endpoint: s3.endpoint, forcePathStyle: true,
      retention: 0, retentionCheckInterval: 3_600_000, syncInterval: 0, snapshotInterval: 0, validationInterval: 0,
    };
    const db = new Db({ path: file, monitorInterval: 1000, checkpointInterval: 60_000, minCheckpointPageCount: 1000, maxCheckpointPageCount: 10_000, replicas: [rc] }, logger);
    const replica = new Replica(db, rc, client, logger);
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
    const viaProxy = new S3ReplicaClient({ ...s3cfg, endpoint: `http://127.0.0.1:${proxy.port}` }, { logger, retry: { attempts: 6, baseDelay: 50, maxDelay: 200 } });
    try {
      // Index 0 with its snapshot; then index 1 holds 20 more rows, not uploaded yet.
      insertRows(app, 20);
      db.sync();
      await replica.sync();
      const gen = db.generation!;
      db.checkpoint('RESTART');
      insertRows(app, 20);
      db.sync();
      expect(db.pos()?.index).toBe(1);

      // The restore's snapshot listing is held; meanwhile index 1's WAL and snapshot go up.
      s3.resetRequests();
      const held = proxy.holdNext(`GET /${BUCKET}/?list-type=2&prefix=db%2Fgenerations%2F${gen}%2Fsnapshots%2F`);
      const out = path.join(tmpDir(), 'out.db');
      const restoring = restore({ replicas: [{ name: 's3', client: viaProxy }], outputPath: out, logger });
      await held;
      const snap = await replica.snapshot();
      expect(snap.index).toBe(1);
      // The held request is reset: the restore lists the snapshots again, now with index 1's.
      proxy.cut();
      proxy.restore();
      const res = await restoring;

      // The WAL was listed only once the snapshot listing had been answered.
      const lists = (await s3.requests()).filter((r) => r.method === 'GET' && (r.query.prefix ?? '').startsWith(`db/generations/${gen}/`));
      expect(lists.map((r) => r.query.prefix!.split('/')[3])).toEqual(['snapshots', 'wal']);
      expect(res.status).toBe('restored');
      if (res.status !== 'restored') return;
      expect(res.plan.snapshot.index, lines.join('\n')).toBe(1);
      expect(res.plan.indexes.map((i) => i.index)).toEqual([1]);
      expect(integrityCheck(out)).toBe('ok');
      expect(rowsDigest(out)).toEqual(rowsDigest(file));
    } finally {
      await replica.stop();
      db.close({ keepWAL: false });
      app.close();
      await client.close();
      await viaProxy.close();
      await proxy.close();
    }
  });
});
