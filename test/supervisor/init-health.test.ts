/**
 * `addr` under `lifeboat init` (built CLI): the init serves it — `/healthz` 200 while its
 * replicator runs and the replica keeps up, 503 in a crash loop (naming it); `/metrics`
 * holds the replicator's families and the init's (uptime, restarts per service, restore on
 * boot). `lifeboat status` sees the crash loop too.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/replicator/status.js';
import { lifeboat } from '../helpers/cli.js';
import { fetchMetrics } from '../helpers/metrics.js';
import { childrenOf, descendants, startInit, type InitRun } from '../helpers/procs.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const runs: InitRun[] = [];

afterEach(() => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) continue;
    for (const pid of [...descendants(run.pid), run.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

function replicatorPid(initPid: number): number | undefined {
  return childrenOf(initPid).find((p) => {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv.includes('replicate') && !argv.includes('-once');
    } catch {
      return false;
    }
  });
}

async function healthz(base: string): Promise<{ status: number; doc: StatusDoc }> {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, doc: (await res.json()) as StatusDoc };
}

describe('lifeboat init: /healthz and /metrics on addr', () => {
  it('restores at boot, answers 200 while replicating, 503 in a replicator crash loop; metrics of both', async () => {
    const dir = tmpDir('lb-ih-');
    const db = path.join(dir, 'app.db');
    const config = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(config, `addr: "127.0.0.1:0"\ndbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - name: backup\n        path: ${path.join(dir, 'replica')}\n`);
    // A replica to restore from at boot, then no database.
    const conn = openWAL(db);
    insertRows(conn, 50, 1000);
    conn.close();
    const once = await lifeboat(['replicate', '-once', '-config', config]);
    expect(once.exitCode, String(once.all)).toBe(0);
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('app.db') || f.startsWith('.app.db'))) fs.rmSync(path.join(dir, f), { recursive: true });

    const env = { LIFEBOAT_CRASH_LOOP_DEATHS: '1', LIFEBOAT_CRASH_LOOP_WINDOW: '60000' };
    const run = await startInit(['-config', config, 'trap-term.js', '--name', 'app'], { env });
    runs.push(run);
    const base = `http://${/addr=(\S+)/.exec(await run.waitFor(/metrics listening/))![1]}`;
    await run.waitFor(/^app: started/, 30_000);
    const ok = await waitUntil(async () => {
      const h = await healthz(base);
      return h.status === 200 ? h : undefined;
    }, { what: 'the init’s /healthz 200', detail: run.output });
    expect(ok.doc).toMatchObject({ replicator: 'running', healthy: true });
    expect(ok.doc.pid).toBe(replicatorPid(run.pid));
    expect(ok.doc.databases[0]).toMatchObject({ path: db, state: 'open' });

    const m = await fetchMetrics(base);
    expect(m.get('lifeboat_init_uptime_seconds')).toBeGreaterThan(0);
    expect(m.get('lifeboat_replicator_up')).toBe(1);
    expect(m.get('lifeboat_service_restarts_total{service="replicate"}')).toBe(0);
    expect(m.get(`lifeboat_restore_bytes{db="${db}"}`)).toBe(fs.statSync(db).size);
    expect(m.get(`lifeboat_restore_duration_seconds{db="${db}"}`)).toBeGreaterThan(0);
    expect(m.get(`lifeboat_replica_lag_seconds{db="${db}",name="backup"}`)).toBeGreaterThanOrEqual(0);

    // The replicator dies: a crash loop at the first death (LIFEBOAT_CRASH_LOOP_DEATHS=1).
    process.kill(replicatorPid(run.pid)!, 'SIGKILL');
    const sick = await waitUntil(async () => {
      const h = await healthz(base);
      return h.status === 503 ? h : undefined;
    }, { what: 'the init’s /healthz 503 after the replicator died', detail: run.output });
    // Before the init has seen the exit, the dead replicator just does not answer; after, a
    // crash loop at once (LIFEBOAT_CRASH_LOOP_DEATHS=1).
    if (sick.doc.replicator === 'running') expect(sick.doc.problems[0]).toMatch(new RegExp(`^replicator not answering for ${db}: `));
    else expect(sick.doc.problems[0]).toMatch(/^replicator crash loop: 1 exits within 60000 ms/);
    expect(['running', 'crash-loop']).toContain(sick.doc.replicator);
    const loop = await waitUntil(async () => {
      const h = await healthz(base);
      return h.doc.replicator === 'crash-loop' ? h : undefined;
    }, { what: '/healthz to report the crash loop', detail: run.output });
    expect(loop.status).toBe(503);
    expect(loop.doc.problems[0]).toMatch(/^replicator crash loop: 1 exits within 60000 ms: marked unhealthy/);
    await waitUntil(async () => (await fetchMetrics(base)).get('lifeboat_service_restarts_total{service="replicate"}') === 1, {
      what: 'one restart of the replicator counted',
      detail: run.output,
    });
    // lifeboat status sees the init's mark, with or without an answering replicator run.
    const st = await lifeboat(['status', '-json', '-config', config]);
    expect(st.exitCode, String(st.all)).toBe(1);
    const doc = JSON.parse(String(st.stdout)) as StatusDoc;
    expect(doc.replicator).toBe('crash-loop');
    expect(doc.problems[0]).toMatch(/^replicator in a crash loop \(.*\.app\.db-lifeboat\.unhealthy: .*replicator crash loop/);

    run.signal('SIGTERM');
    await waitUntil(() => run.child.exitCode !== null, { what: 'the init to exit', detail: run.output });
    expect(run.child.exitCode, run.output()).toBe(0);
  }, 120_000);

  it('a busy addr is one warning: the init boots, replicates and runs the app all the same', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const dir = tmpDir('lb-ih-busy-');
      const db = path.join(dir, 'app.db');
      const config = path.join(dir, 'lifeboat.yml');
      fs.writeFileSync(config, `addr: "127.0.0.1:${port}"\ndbs:\n  - path: ${db}\n    replicas:\n      - name: backup\n        path: ${path.join(dir, 'replica')}\n`);
      openWAL(db).close();
      const run = await startInit(['-config', config, 'trap-term.js', '--name', 'app']);
      runs.push(run);
      const warn = await run.waitFor(/no \/healthz, \/metrics or \/status/);
      expect(warn).toMatch(/WARN/);
      expect(warn).toContain('EADDRINUSE');
      await run.waitFor(/^app: started/, 30_000);
      await waitUntil(async () => (await lifeboat(['status', '-config', config])).exitCode === 0, { what: 'status 0 over the control socket', detail: run.output });
      run.signal('SIGTERM');
      await waitUntil(() => run.child.exitCode !== null, { what: 'the init to exit', detail: run.output });
      expect(run.child.exitCode, run.output()).toBe(0);
      expect(run.output()).toMatch(/final sync complete/);
      expect(run.output()).not.toMatch(/metrics listening/);
    } finally {
      busy.close();
    }
  }, 120_000);
});
