/**
 * End-to-end with the real replicator, as PID 1 in a new PID namespace: the built
 * `lifeboat init -config` restoring on boot, gating the app on the replicator's readiness,
 * restarting a killed replicator, and stopping the app first and the replicator (final
 * sync) last. Every committed row must be in the replica: checked by restoring it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, lifeboat } from '../helpers/cli.js';
import { childrenOf, indexOf, makeService, requireUnshare, runInit, startInit, type StartOptions, writeScript } from '../helpers/procs.js';
import { countRows, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const canUnshare = requireUnshare();

/** scenario makes a dir with a config replicating `app.db` to the file replica `replica/`. */
function scenario(): { dir: string; db: string; replica: string; config: string } {
  const dir = tmpDir('lifeboat-init-repl-');
  const db = path.join(dir, 'app.db');
  const replica = path.join(dir, 'replica');
  const config = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(config, `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - path: ${replica}\n`);
  return { dir, db, replica, config };
}

/** restoredDigest restores the replica to a new file with `lifeboat restore` and digests its rows. */
async function restoredDigest(config: string, db: string): Promise<{ rows: number; digest: string }> {
  const out = path.join(tmpDir('lifeboat-restored-'), 'restored.db');
  const r = await lifeboat(['restore', '-config', config, '-o', out, db]);
  expect(r.exitCode, String(r.all)).toBe(0);
  expect(fs.existsSync(out), `lifeboat restore exited 0 but wrote no ${out}; output: ${JSON.stringify(r.all)}`).toBe(true);
  return rowsDigest(out);
}

/** replicatorPid finds the replicator among the init's children (by its command line). */
function replicatorPid(initPid: number): number | undefined {
  return childrenOf(initPid).find((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('replicate');
    } catch {
      return false;
    }
  });
}

const pid1: StartOptions = { pid1: true };

/** waitForRows waits until the app has committed more than `n` rows to `db`. */
async function waitForRows(db: string, n: number): Promise<number> {
  return waitUntil(() => { const rows = countRows(db); return rows > n && rows; }, { what: `more than ${n} rows in ${db}` });
}

/** hasSegment reports whether the file replica holds a WAL segment. */
function hasSegment(replica: string): boolean {
  const gens = path.join(replica, 'generations');
  if (!fs.existsSync(gens)) return false;
  return fs.readdirSync(gens).some((g) => fs.existsSync(path.join(gens, g, 'wal')) && fs.readdirSync(path.join(gens, g, 'wal')).length > 0);
}

/** inOrder asserts that each pattern matches a line, in this order. */
function inOrder(lines: string[], patterns: RegExp[]): void {
  const at = patterns.map((re) => indexOf(lines, re));
  expect(at.map((i, k) => (i < 0 ? `missing ${patterns[k]}` : 'ok'))).toEqual(patterns.map(() => 'ok'));
  expect(at).toEqual([...at].sort((a, b) => a - b));
}

describe.skipIf(!canUnshare)('lifeboat init with the replicator (as PID 1)', () => {
  const s = scenario();

  it('1. first boot, no replica: app on a new db; SIGTERM stops the app first, the replicator syncs last; every row replicated', async () => {
    const services = tmpDir();
    makeService(services, 'svc', 'exec trap-term.js --name svc');
    const run = await startInit(['-config', s.config, '-services', services, 'write-rows.js', s.db], pid1);
    await run.waitFor(/write-rows: started rows=0/);
    // The service has its handlers (else the TERM kills it before it can say so).
    await run.waitFor(/^svc \| svc: started/);
    await waitForRows(s.db, 20);
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(0);
    const lines = run.lines();
    inOrder(lines, [
      /INFO app started/,
      /received stop signal signal=SIGTERM/,
      /^write-rows: got SIGTERM/,
      /^write-rows: committed \d+/,
      /INFO app exited code=0/,
      /^svc \| svc: got SIGTERM/,
      /INFO stopping replicator: final sync/,
      /INFO replicator stopped: final sync complete/,
      /INFO init exiting code=0/,
    ]);
    expect(indexOf(lines, /^replicate \| .*(ready|replicating)/)).toBeLessThan(indexOf(lines, /INFO app started/));
    const committed = Number(/committed (\d+)/.exec(lines.find((l) => l.startsWith('write-rows: committed'))!)![1]);
    expect(committed).toBeGreaterThan(20);
    const local = rowsDigest(s.db);
    expect(local.rows).toBe(committed);
    expect(await restoredDigest(s.config, s.db)).toEqual(local);
  });

  it('2. second boot with the database deleted: restored before the app starts; the app sees every row', async () => {
    const before = rowsDigest(s.db);
    for (const f of ['', '-wal', '-shm']) fs.rmSync(s.db + f, { force: true });
    const run = await startInit(['-config', s.config, 'count-rows.js', s.db], pid1);
    expect((await run.done).code).toBe(0);
    const lines = run.lines();
    inOrder(lines, [/restoring database/, /INFO app started/, /^count-rows: rows=/, /final sync complete/]);
    expect(lines).toContain(`count-rows: rows=${before.rows} digest=${before.digest}`);
  });

  it('3. kill -9 of the replicator while the app writes: restarted within ~1 s, nothing lost', async () => {
    const t = scenario();
    const run = await startInit(['-config', t.config, 'write-rows.js', t.db], pid1);
    await run.waitFor(/write-rows: started/);
    await waitForRows(t.db, 50);
    const first = replicatorPid(run.pid);
    expect(first).toBeDefined();
    const t0 = Date.now();
    process.kill(first!, 'SIGKILL');
    const restarting = await run.waitFor(/service exited: restarting service=replicate signal=SIGKILL/);
    expect(Number(/delay_ms=(\d+)/.exec(restarting)![1])).toBeLessThanOrEqual(1000);
    const second = await waitUntil(() => { const p = replicatorPid(run.pid); return p !== first && p; }, { what: 'a new replicator process', detail: run.output });
    // The restart delay is at most 1 s; the rest is room for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(second).not.toBe(first);
    // The new replicator replicates while the app goes on writing.
    const replicating = () => run.lines().filter((l) => /^replicate \| .*INFO replicating/.test(l)).length;
    await waitUntil(() => replicating() >= 2, { what: 'the restarted replicator to be replicating', detail: run.output });
    await waitForRows(t.db, countRows(t.db) + 50);
    expect(run.child.exitCode).toBeNull();
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(0);
    expect(run.output()).toContain('final sync complete');
    expect(await restoredDigest(t.config, t.db)).toEqual(rowsDigest(t.db));
  });

  it('4a. the app exits by itself with 3: the container exits 3 after the final sync', async () => {
    const t = scenario();
    const run = await startInit(['-config', t.config, 'write-rows.js', t.db, '--rows', '200', '--exit', '3'], pid1);
    expect((await run.done).code).toBe(3);
    inOrder(run.lines(), [/INFO app exited code=3/, /replicator stopped: final sync complete/, /INFO init exiting code=3/]);
    const local = rowsDigest(t.db);
    expect(local.rows).toBe(200);
    expect(await restoredDigest(t.config, t.db)).toEqual(local);
  });

  it('4b. an app killed by SIGKILL: the container exits 137 after the final sync', async () => {
    const t = scenario();
    const run = await startInit(['-config', t.config, 'sh', '-c', `write-rows.js ${t.db} --rows 100 && kill -9 $$`], pid1);
    expect((await run.done).code).toBe(137);
    inOrder(run.lines(), [/INFO app exited signal=SIGKILL/, /replicator stopped: final sync complete/, /INFO init exiting code=137/]);
    expect(await restoredDigest(t.config, t.db)).toEqual(rowsDigest(t.db));
  });

  it('a services.d `replicate` of the same database leaves it to the init: one replicator, exit 0, every row replicated', async () => {
    const t = scenario();
    const services = tmpDir();
    makeService(services, 'litestream', `exec ${process.execPath} ${CLI} replicate -config ${t.config}`);
    const run = await startInit(['-config', t.config, '-services', services, 'write-rows.js', t.db, '--rows', '200', '--exit', '0'], pid1);
    expect((await run.done).code).toBe(0);
    const lines = run.lines();
    inOrder(lines, [
      /^litestream \| INFO lifeboat init replicates this database already: left to the init's replicator db=/,
      /INFO app exited code=0/,
      /^litestream \| INFO signal received: nothing to sync here/,
      /replicator stopped: final sync complete/,
    ]);
    expect(lines.filter((l) => /^litestream \| (ERROR|WARN)/.test(l) || /restart/i.test(l))).toEqual([]);
    expect(fs.readdirSync(path.join(t.replica, 'generations'))).toHaveLength(1);
    const local = rowsDigest(t.db);
    expect(local.rows).toBe(200);
    expect(await restoredDigest(t.config, t.db)).toEqual(local);
  });

  it('a restore failure other than "no replica" stops the boot with 111; the app never starts', async () => {
    const t = scenario();
    fs.cpSync(s.replica, t.replica, { recursive: true });
    const snapshots = path.join(t.replica, 'generations');
    for (const gen of fs.readdirSync(snapshots)) {
      for (const f of fs.readdirSync(path.join(snapshots, gen, 'snapshots'))) {
        fs.writeFileSync(path.join(snapshots, gen, 'snapshots', f), 'not an lz4 snapshot');
      }
    }
    const run = await startInit(['-config', t.config, 'count-rows.js', t.db], { ...pid1, env: { LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS: '0' } });
    expect((await run.done).code).toBe(111);
    expect(run.output()).toMatch(/init failed: restore .*app\.db/);
    expect(run.output()).not.toContain('count-rows:');
    expect(fs.existsSync(t.db)).toBe(false);
  });

  it('exits 1 instead of the app code 0 when the final sync cannot complete', async () => {
    const t = scenario();
    const run = await startInit(['-config', t.config, 'write-rows.js', t.db], { ...pid1, env: { LIFEBOAT_SYNC_GRACETIME: '1500' } });
    await run.waitFor(/write-rows: started/);
    await waitUntil(() => hasSegment(t.replica), { what: 'a WAL segment in the replica', detail: run.output });
    fs.renameSync(t.replica, `${t.replica}.moved`);
    fs.writeFileSync(t.replica, 'a file where the replica directory was');
    const moved = run.lines().length;
    await waitUntil(() => run.lines().slice(moved).some((l) => /^replicate \| .*sync failed/.test(l)), {
      what: 'an upload to fail on the file where the replica was',
      detail: run.output,
    });
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(1);
    inOrder(run.lines(), [/INFO app exited code=0/, /replicator stopped: final sync not complete/, /INFO init exiting code=1/]);
  });
});

/** replicatorArgv is the command line of every process whose argv runs `replicate -config <config>`. */
function replicatorArgv(config: string): string[][] {
  const out: string[][] = [];
  for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv.includes('replicate') && argv.includes(config)) out.push(argv);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('lifeboat init: the replicator started ahead of time', () => {
  it('adopts the early replicator: one replicator process, the one waiting on -start-fd, and it replicates', async () => {
    const t = scenario();
    const run = await startInit(['-config', t.config, 'write-rows.js', t.db, '--rows', '50', '--exit', '0']);
    await run.waitFor(/INFO app started/);
    const running = replicatorArgv(t.config);
    expect(running).toHaveLength(1);
    expect(running[0]).toContain('-start-fd');
    expect((await run.done).code).toBe(0);
    expect(run.output()).toContain('replicator stopped: final sync complete');
    expect(await restoredDigest(t.config, t.db)).toEqual(rowsDigest(t.db));
  });

  it('with cont-init.d scripts, starts the replicator after them instead', async () => {
    const t = scenario();
    const contInit = tmpDir();
    writeScript(path.join(contInit, '10-prepare'), 'echo prepared');
    const run = await startInit(['-config', t.config, 'sleep', '30'], { env: { LIFEBOAT_CONT_INIT_DIR: contInit } });
    await run.waitFor(/INFO app started/);
    const running = replicatorArgv(t.config);
    expect(running).toHaveLength(1);
    expect(running[0]).not.toContain('-start-fd');
    expect(indexOf(run.lines(), /10-prepare \| prepared/)).toBeLessThan(indexOf(run.lines(), /^replicate \| /));
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(143);
  });

  it('lets it go when the config has no databases: it exits without a word', async () => {
    const dir = tmpDir();
    const config = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(config, 'dbs: []\n');
    const r = await runInit(['-config', config, 'sh', '-c', 'sleep 0.3; echo app ran']);
    expect(r.code).toBe(0);
    expect(r.lines).toContain('app ran');
    expect(r.output).not.toMatch(/^replicate \| /m);
    await waitUntil(() => replicatorArgv(config).length === 0, { what: `no process replicating ${config}`, timeoutMs: 10_000 });
  });
});
