import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplicaConfig } from '../../src/config/types.js';
import { Logger } from '../../src/log.js';
import { S3ReplicaClient } from '../../src/replicator/clients/s3.js';
import { Db } from '../../src/replicator/db.js';
import { Replica } from '../../src/replicator/replica.js';
import { restore } from '../../src/replicator/restore/index.js';
import { TEST_KEYS } from '../helpers/credentials.js';
import { useS3rver, type S3rver } from '../helpers/s3rver.js';
import { insertRows, integrityCheck, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const BUCKET = 'late';
let s3: S3rver;
useS3rver(BUCKET, (started) => (s3 = started));

describe('an upload delivered late (its client timed out; the retry went through first)', () => {
  it('never replaces the key with other bytes: a restore equals the source', async () => {
    const lines: string[] = [];
    const logger = new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) });
    const file = path.join(tmpDir(), 'app.db');
    const app = openWAL(file);
    app.pragma('wal_autocheckpoint = 0');
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
    const s3cfg = { bucket: BUCKET, path: 'db', endpoint: `http://127.0.0.1:${proxy.port}`, forcePathStyle: true, ...TEST_KEYS };
    const client = new S3ReplicaClient(s3cfg, { logger, retry: { attempts: 1, baseDelay: 10, maxDelay: 10 }, timeouts: { connect: 2_000, idle: 500 } });
    const rc: ReplicaConfig = {
      name: 's3', type: 's3', path: 'db', bucket: BUCKET, endpoint: s3cfg.endpoint, forcePathStyle: true,
      retention: 0, retentionCheckInterval: 3_600_000, syncInterval: 0, snapshotInterval: 0, validationInterval: 0,
    };
    const db = new Db({ path: file, monitorInterval: 1000, checkpointInterval: 60_000, minCheckpointPageCount: 1000, maxCheckpointPageCount: 10_000, replicas: [rc] }, logger);
    const replica = new Replica(db, rc, client, logger);
    try {
      insertRows(app, 10);
      db.sync();
      await replica.sync();

      // The next segment's PUT is held: the client times out and the sync fails.
      const held = proxy.holdNext('PUT ');
      insertRows(app, 10);
      db.sync();
      replica.notify();
      await held;
      await waitUntil(() => replica.stats.syncErrors >= 1, { what: 'the sync to fail on the held PUT', detail: () => lines.join('\n') });

      // More commits; the next sync succeeds while the first PUT is still on its way.
      insertRows(app, 10);
      db.sync();
      const before = replica.stats.caughtUpAt;
      replica.notify();
      await waitUntil(() => replica.stats.caughtUpAt !== before && replica.pos?.offset === db.pos()?.offset, { what: 'the replica to catch up', detail: () => lines.join('\n') });

      // Now the held PUT lands.
      s3.resetRequests();
      await proxy.deliverHeld();
      await waitUntil(async () => (await s3.requests()).some((r) => r.method === 'PUT'), { what: 'the late PUT to reach the server' });

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
