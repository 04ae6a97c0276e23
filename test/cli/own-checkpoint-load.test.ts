import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { runWriter, startReplicate } from '../helpers/replicate.js';
import { integrityCheck, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

/** BUSY_LOOPS: CPU hogs, one per core, so the replicator is descheduled between its steps as on a loaded CI machine. */
const BUSY_LOOPS = os.availableParallelism();
const hogs: ChildProcess[] = [];

afterEach(() => {
  for (const h of hogs.splice(0)) h.kill('SIGKILL');
});

describe('our own checkpoints under CPU load', () => {
  it('continue the generation (min 50 / max 100 pages, a writer at ~1000 rows/s): one generation, restore equals the source', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const replica = path.join(dir, 'r');
    openWAL(db).close();
    const cfg = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(cfg, `logging:\n  level: debug\ndbs:\n  - path: ${db}\n    min-checkpoint-page-count: 50\n    max-checkpoint-page-count: 100\n    replicas:\n      - path: ${replica}\n`);
    const rep = startReplicate(['-config', cfg]);
    await rep.waitFor(/replicating/);
    for (let i = 0; i < BUSY_LOOPS; i++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    await runWriter(db, 4000, 1, 1000);
    for (const h of hogs.splice(0)) h.kill('SIGKILL');
    const stopped = await rep.stop();
    expect(stopped.exitCode, stopped.output).toBe(0);
    const lines = stopped.output.split('\n');
    expect(lines.filter((l) => l.includes('new generation')), stopped.output.slice(-4000)).toHaveLength(1);
    expect(lines.filter((l) => /"wal restarted"|wal restarted/.test(l)).length).toBeGreaterThan(3);
    expect(fs.readdirSync(path.join(replica, 'generations'))).toHaveLength(1);
    const out = path.join(dir, 'out.db');
    const res = await lifeboat(['restore', '-o', out, `file://${replica}`]);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(integrityCheck(out)).toBe('ok');
    expect(rowsDigest(out)).toEqual(rowsDigest(db));
  }, 180_000);
});
