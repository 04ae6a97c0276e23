/**
 * Replica.flush, the final sync, on a real database and a file replica: when its sync ends
 * the generation (a claim left unreleased by a killed writer), the flush follows into the
 * new generation — WAL and snapshot — instead of reporting success with the replica left
 * behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { log } from '../../src/log.js';
import { Replicator } from '../../src/replicator/replicator.js';
import { lifeboat } from '../helpers/cli.js';
import { insertRows, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

/** replicator builds a Replicator of `db` to the file replica `replica`, logging nothing below errors. */
function replicator(db: string, replica: string): Replicator {
  const config = validateConfig({ dbs: [{ path: db, replicas: [{ path: replica }] }] });
  return new Replicator(config, log.child({}));
}

describe('Replica.flush', () => {
  it('follows a generation ended during its sync: the replica restores the database, not the old generation', async () => {
    const dir = tmpDir('lifeboat-flush-');
    const db = path.join(dir, 'app.db');
    const replica = path.join(dir, 'replica');
    const conn = openWAL(db);
    insertRows(conn, 5);
    // A first writer replicates, then stops without releasing its claim (as a kill -9 would).
    const first = replicator(db, replica);
    first.start();
    await first.runners[0].replicas[0].snapshot();
    await first.stop(false);
    insertRows(conn, 10);
    // The flush alone, with no sync before it: the one that meets the claim is the flush's own.
    const second = replicator(db, replica);
    const runner = second.runners[0];
    expect(runner.db.open()).toBe(true);
    runner.db.sync();
    const [rep] = runner.replicas;
    const generation = runner.db.pos()!.generation;
    await rep.flush();
    const at = runner.db.pos()!;
    expect(at.generation).not.toBe(generation);
    expect(rep.restorablePos).toEqual(at);
    expect(fs.readdirSync(path.join(replica, 'generations', at.generation, 'snapshots'))).not.toHaveLength(0);
    runner.db.close({ keepWAL: true });
    const out = path.join(dir, 'restored.db');
    const r = await lifeboat(['restore', '-o', out, `file://${replica}`]);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(rowsDigest(out)).toEqual(rowsDigest(db));
    expect(rowsDigest(out).rows).toBe(15);
    conn.close();
  });
});
