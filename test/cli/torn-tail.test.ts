import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { startReplicate } from '../helpers/replicate.js';
import { insertRows, integrityCheck, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const SEGMENT_RE = /^[0-9a-f]{8}_[0-9a-f]{8}\.wal\.lz4$/;

/** segmentsOf lists a generation's segment files, oldest position first. */
function segmentsOf(replica: string, gen: string): string[] {
  const dir = path.join(replica, 'generations', gen, 'wal');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => SEGMENT_RE.test(n)).sort() : [];
}

function generationsOf(replica: string): string[] {
  const dir = path.join(replica, 'generations');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** tear damages a segment file the way a cut-off write leaves it. */
function tear(file: string, how: 'empty' | 'truncated'): void {
  if (how === 'empty') fs.truncateSync(file, 0);
  else fs.truncateSync(file, Math.max(1, Math.floor(fs.statSync(file).size / 2)));
}

describe.each(['empty', 'truncated'] as const)('a torn last wal segment (%s) in a file replica', (how) => {
  it('makes the next sync start a new generation with a snapshot; every later commit restores; the old generation restores up to its last good segment', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const replica = path.join(dir, 'r');
    const app = openWAL(db);
    try {
      const cfg = path.join(dir, 'lifeboat.yml');
      fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${replica}\n        sync-interval: 100ms\n`);
      let rep = startReplicate(['-config', cfg]);
      await rep.waitFor(/replicating/);
      for (const want of [1, 2]) {
        insertRows(app, 25);
        await waitUntil(() => generationsOf(replica).length === 1 && segmentsOf(replica, generationsOf(replica)[0]).length >= want, { timeoutMs: 20_000, what: `${want} segments uploaded` });
      }
      expect((await rep.stop()).exitCode).toBe(0);
      const [oldGen] = generationsOf(replica);
      const segs = segmentsOf(replica, oldGen);
      const torn = segs[segs.length - 1];
      tear(path.join(replica, 'generations', oldGen, 'wal', torn), how);

      rep = startReplicate(['-config', cfg]);
      await rep.waitFor(/replicating/);
      insertRows(app, 30);
      await waitUntil(() => generationsOf(replica).length === 2, { timeoutMs: 20_000, what: 'a new generation' });
      const newGen = generationsOf(replica).find((g) => g !== oldGen)!;
      await waitUntil(() => fs.existsSync(path.join(replica, 'generations', newGen, 'snapshots')), { timeoutMs: 20_000, what: 'its snapshot' });
      insertRows(app, 20);
      const stopped = await rep.stop();
      expect(stopped.exitCode, stopped.output).toBe(0);
      const warns = stopped.output.split('\n').filter((l) => /WARN/i.test(l));
      expect(warns, stopped.output).toHaveLength(1);
      expect(warns[0]).toContain(`${oldGen}/wal/${torn}`);

      const out = path.join(dir, 'latest.db');
      const res = await lifeboat(['restore', '-o', out, `file://${replica}`]);
      expect(res.exitCode, String(res.all)).toBe(0);
      expect(integrityCheck(out)).toBe('ok');
      expect(rowsDigest(out)).toEqual(rowsDigest(db));

      const old = path.join(dir, 'old.db');
      const r2 = await lifeboat(['restore', '-o', old, '-generation', oldGen, `file://${replica}`]);
      expect(r2.exitCode, String(r2.all)).toBe(0);
      expect(String(r2.all)).toContain(`${oldGen}/wal/${torn}`);
      expect(integrityCheck(old)).toBe('ok');
      const rows = rowsDigest(old).rows;
      expect(rows).toBeGreaterThan(0);
      expect(rows).toBeLessThanOrEqual(50);
    } finally {
      app.close();
    }
  });
});
