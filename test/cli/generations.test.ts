/** lifeboat generations: the reference's columns on the multi fixture, by config (lag from the db's mtime) and by URL. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';

/** RAW keeps the output's final newline (execa strips it by default). */
const RAW = { stripFinalNewline: false };
import { unpackFixture } from '../helpers/fixtures.js';
import { TIMESTAMP, untimed } from '../helpers/log-lines.js';
import { tmpDir } from '../helpers/tmp.js';
import { FileReplicaClient } from '../../src/replicator/clients/file.js';
import { captureHistory, writeReplica } from '../replicator/restore/history.js';

/**
 * stampedReplica writes a file replica in `dir`/replica with one generation per entry of
 * `spans` (a real captured history), its snapshot stamped with the span's start and its
 * WAL segments with its end.
 */
async function stampedReplica(dir: string, spans: Record<string, [string, string]>): Promise<string> {
  const replica = path.join(dir, 'replica');
  const history = captureHistory(dir, { pageSize: 4096, seed: 7, indexes: 1, steps: 2 });
  for (const [gen, [start, end]] of Object.entries(spans)) {
    await writeReplica(new FileReplicaClient(replica), gen, history, 2);
    const genDir = path.join(replica, 'generations', gen);
    for (const [sub, at] of [['snapshots', start], ['wal', end]]) {
      for (const f of fs.readdirSync(path.join(genDir, sub))) fs.utimesSync(path.join(genDir, sub, f), new Date(at), new Date(at));
    }
  }
  return replica;
}

describe('lifeboat generations', () => {
  it('lists each generation with lag behind the database, start and end', async () => {
    const fx = unpackFixture('multi');
    const db = path.join(fx.dir, 'app.db');
    fs.writeFileSync(db, '');
    fs.utimesSync(db, new Date('2026-11-24T00:33:00Z'), new Date('2026-11-24T00:33:00Z'));
    const cfg = path.join(fx.dir, 'c.yml');
    fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    replicas:\n      - name: backup\n        path: ${fx.replica}\n`);
    const res = await lifeboat(['generations', '-config', cfg, db], RAW);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(res.stdout).toBe(
      'name    generation        lag  start                 end\n' +
        'backup  1f74af7547aae934  37s  2026-11-24T00:32:19Z  2026-11-24T00:32:23Z\n' +
        'backup  9747914359e303c1  48s  2026-11-24T00:32:05Z  2026-11-24T00:32:12Z\n',
    );
    const one = await lifeboat(['generations', '-config', cfg, '-replica', 'nope', db], RAW);
    expect(one.exitCode).toBe(2);
    expect(one.stderr).toContain('replica "nope" not found');
  });

  it('prints 0s, not a negative lag, for a replica stamped after the database\'s last change', async () => {
    const dir = tmpDir();
    const replica = await stampedReplica(dir, {
      aaaaaaaaaaaaaaaa: ['2026-11-24T00:32:05Z', '2026-11-24T00:32:12Z'],
      bbbbbbbbbbbbbbbb: ['2026-11-24T00:32:19Z', '2026-11-24T00:32:23Z'],
    });
    const db = path.join(dir, 'app.db');
    fs.writeFileSync(db, '');
    fs.utimesSync(db, new Date('2026-11-24T00:32:20Z'), new Date('2026-11-24T00:32:20Z'));
    const cfg = path.join(dir, 'c.yml');
    fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${replica}\n`);
    const res = await lifeboat(['generations', '-config', cfg, db], RAW);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(res.stdout).toBe(
      'name  generation        lag  start                 end\n' +
        'file  aaaaaaaaaaaaaaaa  8s   2026-11-24T00:32:05Z  2026-11-24T00:32:12Z\n' +
        'file  bbbbbbbbbbbbbbbb  0s   2026-11-24T00:32:19Z  2026-11-24T00:32:23Z\n',
    );
  });

  it('lists a plain directory holding generations/ as a file replica, as its file:// URL', async () => {
    const dir = tmpDir();
    const replica = await stampedReplica(dir, { aaaaaaaaaaaaaaaa: ['2026-11-24T00:32:05Z', '2026-11-24T00:32:12Z'] });
    const env = { env: { LIFEBOAT_CONFIG: '', LITESTREAM_CONFIG: '' } };
    const plain = await lifeboat(['snapshots', replica], env);
    const byURL = await lifeboat(['snapshots', `file://${replica}`], env);
    expect(plain.exitCode, String(plain.all)).toBe(0);
    expect(plain.stdout).toBe(byURL.stdout);
    expect(String(plain.stdout).split('\n')).toHaveLength(2);
    const withReplica = await lifeboat(['wal', '-replica', 'file', replica], env);
    expect(withReplica.exitCode).toBe(2);
    expect(String(withReplica.stderr).split('\n')[0]).toBe(`lifeboat wal: cannot combine a replica directory (${replica}) with -replica`);
  });

  it('warns on stderr when a file replica\'s directory does not exist (an empty listing, exit 0)', async () => {
    const typo = path.join(tmpDir(), 'bakups');
    const res = await lifeboat(['generations', `file://${typo}`], RAW);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe('name  generation  lag  start  end\n');
    expect(res.stderr).toMatch(new RegExp(`^${TIMESTAMP} WARN `));
    expect(untimed(String(res.stderr))).toBe(`WARN replica directory does not exist replica=file path=${typo}\n`);
  });

  it('by replica URL, lag is behind now', async () => {
    const fx = unpackFixture('multi');
    const res = await lifeboat(['generations', `file://${fx.replica}`], RAW);
    expect(res.exitCode, String(res.all)).toBe(0);
    const lines = String(res.stdout).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^file  1f74af7547aae934  \S+ +2026-11-24T00:32:19Z  2026-11-24T00:32:23Z$/);
    expect(lines[2]).toMatch(/^file  9747914359e303c1  \S+ +2026-11-24T00:32:05Z  2026-11-24T00:32:12Z$/);
    const starts = lines.slice(1).map((l) => l.indexOf('2026-'));
    expect(starts[0]).toBe(starts[1]);
  });
});
