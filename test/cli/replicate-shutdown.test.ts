/**
 * `lifeboat replicate`'s final sync on stop: against an S3 store (s3rver) behind the TCP
 * fault proxy it is bounded by -shutdown-sync-timeout (a blackhole cannot hold the process
 * past it), it retries for the whole budget (a reset connection is not the end of it), and
 * what it could not sync is said in one line; a stop in the first milliseconds of the
 * process runs it too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, lifeboat } from '../helpers/cli.js';
import { TEST_S3_ENV } from '../helpers/credentials.js';
import { startReplicate, startWatched, type Running } from '../helpers/replicate.js';
import { type S3rver, startS3rver } from '../helpers/s3rver.js';
import { insertRows, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { type Proxy, startProxy } from '../helpers/tcp-proxy.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';


/** SIGNALS_HELD is the test-only variable naming the file the CLI writes once it holds stop signals (src/cli/early.ts). */
const SIGNALS_HELD = 'LIFEBOAT_TEST_SIGNALS_HELD';

/** MARGIN is how long after its shutdown-sync-timeout the process may take to exit (closing clients, exiting Node, a loaded machine). */
const MARGIN = 1_000;

let s3: S3rver;
const running: Running[] = [];
const proxies: Proxy[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  await s3.bucket('bkt');
});

afterEach(async () => {
  for (const r of running.splice(0)) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await s3?.stop();
});

/** replicating starts `replicate` of a database with 10 rows to s3rver through a fresh proxy, and waits until the replica holds them. */
async function replicating(name: string, timeout: string) {
  const dir = tmpDir('lifeboat-shutdown-');
  const db = path.join(dir, 'app.db');
  const conn = openWAL(db);
  insertRows(conn, 10);
  const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
  proxies.push(proxy);
  const url = `s3://bkt/${name}/app.db?endpoint=${encodeURIComponent(`http://127.0.0.1:${proxy.port}`)}`;
  const rep = startReplicate(['-shutdown-sync-timeout', timeout, db, url], TEST_S3_ENV);
  running.push(rep);
  // A new generation: its WAL, then its snapshot; after that line the replica holds the 10 rows.
  await rep.waitFor(/INFO snapshot written/, 30_000);
  return { dir, db, conn, proxy, rep, url };
}

/** stopTimed sends SIGTERM and returns the exit code, the ms until the exit, and the output. */
async function stopTimed(rep: Running): Promise<{ code: number | undefined; ms: number; output: string }> {
  const t0 = Date.now();
  rep.proc.kill('SIGTERM');
  // Bounded: a final sync that hangs fails here, not at the test's timeout.
  await waitUntil(() => rep.proc.exitCode !== null || rep.proc.signalCode !== null, { what: 'replicate to exit', timeoutMs: 20_000, detail: () => rep.lines.join('\n') });
  const res = await rep.proc;
  return { code: res.exitCode, ms: Date.now() - t0, output: rep.lines.join('\n') };
}

/** restoredDigest restores `url` into `dir` and digests its rows. */
async function restoredDigest(dir: string, url: string): Promise<{ rows: number; digest: string }> {
  const out = path.join(dir, `restored-${Date.now()}.db`);
  const r = await lifeboat(['restore', '-o', out, url], { env: TEST_S3_ENV });
  expect(r.exitCode, String(r.all)).toBe(0);
  return rowsDigest(out);
}

describe('lifeboat replicate: the final sync against a failing S3 (s3rver behind a fault proxy)', () => {
  it('blackhole: exits within -shutdown-sync-timeout plus a margin, code 1, one line naming what was not synced', async () => {
    const { db, conn, proxy, rep } = await replicating('blackhole', '2s');
    proxy.blackhole();
    insertRows(conn, 20);
    const { code, ms, output } = await stopTimed(rep);
    expect(code, output).toBe(1);
    // The whole budget is used (no early give-up), and never more than it plus the margin.
    expect(ms, output).toBeGreaterThanOrEqual(2_000);
    expect(ms, output).toBeLessThan(2_000 + MARGIN);
    const summary = output.split('\n').filter((l) => /final sync incomplete/.test(l));
    expect(summary, output).toHaveLength(1);
    expect(summary[0]).toMatch(new RegExp(`not synced: ${db.replaceAll('.', '\\.')} to s3 \\(replica at [0-9a-f]{16}/[0-9a-f]{8}:[0-9a-f]{8}, database at [0-9a-f]{16}/[0-9a-f]{8}:[0-9a-f]{8}\\)`));
    conn.close();
  });

  it('reset: every connection reset through the whole budget: retried until the timeout, not given up at the first ECONNRESET', async () => {
    const { conn, proxy, rep } = await replicating('reset-all', '3s');
    proxy.cut();
    insertRows(conn, 20);
    const { code, ms, output } = await stopTimed(rep);
    expect(code, output).toBe(1);
    expect(ms, output).toBeGreaterThanOrEqual(3_000);
    expect(ms, output).toBeLessThan(3_000 + MARGIN);
    // Attempt after attempt (the client's retries, then the final sync's own), not one hung request.
    expect(output.split('\n').filter((l) => /WARN .*retrying/.test(l)).length, output).toBeGreaterThanOrEqual(3);
    expect(output).toMatch(/final sync incomplete/);
    conn.close();
  });

  it('reset, then the network comes back within the budget: the retried final sync completes, exit 0, the replica restores equal', async () => {
    const { dir, db, conn, proxy, rep, url } = await replicating('reset-then-back', '8s');
    proxy.cut();
    insertRows(conn, 20);
    rep.proc.kill('SIGTERM');
    // At least one attempt has failed on a reset connection before the network comes back.
    await rep.waitFor(/final sync failed: retrying/, 8_000);
    proxy.restore();
    const res = await rep.proc;
    expect(res.exitCode, rep.lines.join('\n')).toBe(0);
    expect(rep.lines.join('\n')).toMatch(/INFO final sync complete/);
    expect(await restoredDigest(dir, url)).toEqual(rowsDigest(db));
    expect(rowsDigest(db).rows).toBe(30);
    conn.close();
  });
});

describe('lifeboat replicate: a stop in its first milliseconds', () => {
  for (const delay of [0, 50, 100, 200]) {
    it(`SIGTERM ${delay} ms after it first holds signals: the final sync runs, exit 0 (not 143), the replica restores equal`, async () => {
      const dir = tmpDir('lifeboat-early-stop-');
      const db = path.join(dir, 'app.db');
      const conn = openWAL(db);
      insertRows(conn, 15);
      const replica = `file://${path.join(dir, 'replica')}`;
      const marker = path.join(dir, 'signals-held');
      const rep = startWatched(process.execPath, [CLI, 'replicate', db, replica], { [SIGNALS_HELD]: marker });
      running.push(rep);
      const heldAt = await waitUntil(() => markerTime(marker), { what: 'replicate to hold its stop signals', intervalMs: 1, detail: () => rep.lines.join('\n') });
      await sleep(Math.max(0, heldAt + delay - Date.now()));
      rep.proc.kill('SIGTERM');
      const res = await rep.proc;
      expect(res.signal, rep.lines.join('\n')).toBeUndefined();
      expect(res.exitCode, rep.lines.join('\n')).toBe(0);
      expect(rep.lines.join('\n')).toMatch(/signal received, final sync signal=SIGTERM/);
      expect(rep.lines.join('\n')).toMatch(/INFO final sync complete/);
      const out = path.join(dir, 'restored.db');
      const r = await lifeboat(['restore', '-o', out, replica]);
      expect(r.exitCode, String(r.all)).toBe(0);
      expect(rowsDigest(out)).toEqual(rowsDigest(db));
      conn.close();
    });
  }
});

/** markerTime is the time written in the test-only marker file, once it is there. */
function markerTime(file: string): number | undefined {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

describe('lifeboat replicate -once', () => {
  it('syncs what the database holds beyond the replica and exits 0; a second run continues from there', async () => {
    const dir = tmpDir('lifeboat-once-');
    const db = path.join(dir, 'app.db');
    const conn = openWAL(db);
    insertRows(conn, 12);
    const replica = `file://${path.join(dir, 'replica')}`;
    for (const rows of [12, 20]) {
      const r = await lifeboat(['replicate', '-once', db, replica]);
      expect(r.exitCode, String(r.all)).toBe(0);
      expect(String(r.all)).toMatch(/INFO sync complete/);
      const out = path.join(dir, `restored-${rows}.db`);
      const restored = await lifeboat(['restore', '-o', out, replica]);
      expect(restored.exitCode, String(restored.all)).toBe(0);
      expect(rowsDigest(out)).toEqual(rowsDigest(db));
      expect(rowsDigest(out).rows).toBe(rows);
      insertRows(conn, 8);
    }
    // The second run continued the first one's generation (it released its claim where it stopped).
    expect(fs.readdirSync(path.join(dir, 'replica', 'generations'))).toHaveLength(1);
    conn.close();
  });

  it.each([
    [['-once', '-exec', 'sleep 1'], '-once cannot be combined with -exec'],
    [['-shutdown-sync-timeout', 'soon'], 'invalid -shutdown-sync-timeout "soon": want a duration such as 3s or 2500ms'],
  ])('%j: exit 2 naming the bad value', async (flags, message) => {
    const dir = tmpDir('lifeboat-once-');
    const r = await lifeboat(['replicate', ...flags, path.join(dir, 'app.db'), `file://${path.join(dir, 'replica')}`]);
    expect(r.exitCode, String(r.all)).toBe(2);
    expect(String(r.stderr).split('\n')[0]).toContain(message);
  });
});
