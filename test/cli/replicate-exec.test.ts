import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { fixture } from '../helpers/procs.js';
import { startReplicate, WRITER } from '../helpers/replicate.js';
import { openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

function setup(): { db: string; replica: string; out: string } {
  const dir = tmpDir();
  const db = path.join(dir, 'app.db');
  openWAL(db).close();
  return { db, replica: `file://${path.join(dir, 'r')}`, out: path.join(dir, 'out.db') };
}

describe('lifeboat replicate -exec', () => {
  it('under lifeboat init, for a database the init replicates: runs the app alone and writes nothing to the replica', async () => {
    const { db, replica } = setup();
    const env = { LIFEBOAT_INIT_REPLICATES: db };
    const res = await lifeboat(['replicate', '-exec', `${process.execPath} ${WRITER} ${db} 20`, db, replica], { env });
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(String(res.all)).toMatch(/INFO lifeboat init replicates this database already: left to the init's replicator db=/);
    expect(String(res.all)).toContain('done 20');
    expect(fs.existsSync(new URL(replica).pathname)).toBe(false);
  });

  it('starts the app once replication is ready, syncs after it exits, and exits with its code', async () => {
    const { db, replica, out } = setup();
    const res = await lifeboat(['replicate', '-exec', `${process.execPath} ${WRITER} ${db} 200`, db, replica]);
    expect(res.exitCode, String(res.all)).toBe(0);
    const lines = String(res.all).split('\n');
    const ready = lines.findIndex((l) => l.includes('replicating'));
    const done = lines.findIndex((l) => l === 'done 200');
    const synced = lines.findIndex((l) => l.includes('final sync complete'));
    expect(ready).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(ready);
    expect(synced).toBeGreaterThan(done);
    expect((await lifeboat(['restore', '-o', out, replica])).exitCode).toBe(0);
    expect(rowsDigest(out)).toEqual(rowsDigest(db));
    expect(rowsDigest(out).rows).toBe(200);
  });

  it("exits with the app's own exit code (the reference always exits 1)", async () => {
    const { db, replica } = setup();
    const res = await lifeboat(['replicate', '-exec', `sh -c 'exit 3'`, db, replica]);
    expect(res.exitCode, String(res.all)).toBe(3);
  });

  it('forwards SIGTERM to the app, waits for it, then syncs and exits with its code', async () => {
    const { db, replica } = setup();
    const rep = startReplicate(['-exec', `${process.execPath} ${fixture('trap-term.js')} --name app --exit 7`, db, replica]);
    await rep.waitFor(/app: started/);
    const { exitCode, output } = await rep.stop('SIGTERM');
    expect(exitCode, output).toBe(7);
    const lines = output.split('\n');
    const got = lines.findIndex((l) => l === 'app: got SIGTERM');
    const synced = lines.findIndex((l) => l.includes('final sync complete'));
    expect(got).toBeGreaterThanOrEqual(0);
    expect(synced).toBeGreaterThan(got);
  });

  it('reports an app that cannot be started with 127', async () => {
    const { db, replica } = setup();
    const res = await lifeboat(['replicate', '-exec', 'no-such-command-anywhere', db, replica]);
    expect(res.exitCode).toBe(127);
    expect(String(res.all)).toContain('ERROR app could not start: command not found: no-such-command-anywhere (not in any PATH directory) code=127');
  });

  it('rejects an unterminated quote in -exec with exit 2', async () => {
    const { db, replica } = setup();
    const res = await lifeboat(['replicate', '-exec', `sh -c 'oops`, db, replica]);
    expect(res.exitCode).toBe(2);
    expect(String(res.stderr)).toMatch(/unterminated single quote/);
  });
});
