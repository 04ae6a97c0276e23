/**
 * The last flush, end to end with the built CLI: every commit the database holds reaches
 * the replica before the container goes down, whatever state the replicator is in — in
 * restart backoff, not started yet (a stop in the init's first milliseconds), or after an
 * internal error of the init — and a crash loop of the replicator is escalated. Checked by
 * restoring the replica and comparing its rows with the database's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { lifeboat, ROOT } from '../helpers/cli.js';
import { childrenOf, descendants, indexOf, makeService, procStat, requireUnshare, startInit, type InitRun, type StartOptions } from '../helpers/procs.js';
import { startReplicate } from '../helpers/replicate.js';
import { insertRows, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const canUnshare = requireUnshare();

/** SIGNALS_HELD is the test-only variable naming the file the CLI writes once it holds stop signals (src/cli/early.ts). */
const SIGNALS_HELD = 'LIFEBOAT_TEST_SIGNALS_HELD';

/** EXIT_WAIT_MS bounds the wait for an init to exit after its stop (its graces add up to ~8 s; the rest is a loaded machine). */
const EXIT_WAIT_MS = 30_000;

/** scenario: a WAL database with `rows` rows committed (its connection left open: frames stay in the WAL) and a config replicating it to a file replica. */
function scenario(rows: number) {
  const dir = tmpDir('lifeboat-last-flush-');
  const db = path.join(dir, 'app.db');
  const config = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(config, `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - path: ${path.join(dir, 'replica')}\n`);
  const conn = openWAL(db);
  insertRows(conn, rows);
  return { dir, db, config, conn };
}

const runs: InitRun[] = [];

/** start starts an init and remembers it, so a failed test leaves no process behind. */
async function start(args: string[], opts: StartOptions): Promise<InitRun> {
  const run = await startInit(args, opts);
  runs.push(run);
  return run;
}

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

/** exited waits for the init to exit, at most EXIT_WAIT_MS; a timeout fails with its output. */
async function exited(run: InitRun): Promise<number | null> {
  await waitUntil(() => run.child.exitCode !== null || run.child.signalCode !== null, { what: 'the init to exit', timeoutMs: EXIT_WAIT_MS, detail: run.output });
  return (await run.done).code;
}

/** restoredDigest restores the replica to a new file and digests its rows. */
async function restoredDigest(config: string, db: string): Promise<{ rows: number; digest: string }> {
  const out = path.join(tmpDir('lifeboat-restored-'), 'restored.db');
  const r = await lifeboat(['restore', '-config', config, '-o', out, db]);
  expect(r.exitCode, String(r.all)).toBe(0);
  return rowsDigest(out);
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** replicatorPid finds the running replicator among the init's children. */
function replicatorPid(initPid: number): number | undefined {
  return childrenOf(initPid).find((p) => cmdline(p).includes('replicate') && !cmdline(p).includes('-once'));
}

/** alive lists the live (not zombie) processes whose command line mentions `text`. */
function alive(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => p !== process.pid && cmdline(p).some((a) => a.includes(text)) && (procStat(p)?.state ?? 'Z') !== 'Z');
}

/** inOrder asserts that each pattern matches a line, in this order. */
function inOrder(lines: string[], patterns: RegExp[], output: string): void {
  const at = patterns.map((re) => indexOf(lines, re));
  expect(at.every((i) => i >= 0), `${patterns.filter((_, i) => at[i] < 0).join(', ')} missing\n${output}`).toBe(true);
  expect(at, output).toEqual([...at].sort((a, b) => a - b));
}

/** markerTime is the time written in the test-only marker file, once it is there. */
function markerTime(file: string): number | undefined {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** count is how many lines match `re`. */
const count = (run: InitRun, re: RegExp): number => run.lines().filter((l) => re.test(l)).length;

describe.skipIf(!canUnshare)('the last flush (lifeboat init as PID 1)', () => {
  it('SIGTERM while the replicator is in restart backoff: a one-shot run flushes every commit, exit 0', async () => {
    const s = scenario(10);
    const run = await start(['-config', s.config, 'trap-term.js', '--name', 'app'], { pid1: true });
    await run.waitFor(/^app: started/);
    const replicator = replicatorPid(run.pid);
    expect(replicator).toBeDefined();
    process.kill(replicator!, 'SIGKILL');
    await run.waitFor(/service exited: restarting service=replicate signal=SIGKILL/);
    // Commits while nothing replicates; the stop comes inside the 1 s backoff.
    insertRows(s.conn, 25);
    run.signal('SIGTERM');
    expect(await exited(run), run.output()).toBe(0);
    // The stop came before the restart: no second replicator ran.
    expect(count(run, /replicate \| .*INFO replicating/), run.output()).toBe(1);
    inOrder(run.lines(), [/app: got SIGTERM/, /replicator in restart backoff: final sync by a one-shot run/, /one-shot final sync complete/, /init exiting code=0/], run.output());
    expect(rowsDigest(s.db).rows).toBe(35);
    expect(await restoredDigest(s.config, s.db), run.output()).toEqual(rowsDigest(s.db));
    s.conn.close();
  });

  for (const delay of [0, 50, 100, 200]) {
    it(`SIGTERM ${delay} ms after the init first holds signals: the flush runs, the app's exit code, the replica restores equal`, async () => {
      const s = scenario(20);
      const marker = path.join(s.dir, 'signals-held');
      const run = await start(['-config', s.config, 'trap-term.js', '--name', 'app'], { pid1: true, env: { [SIGNALS_HELD]: marker } });
      // The first instant: src/cli/early.ts holds the stop signals, then writes the marker.
      const heldAt = await waitUntil(() => markerTime(marker), { what: 'the init to hold its stop signals', intervalMs: 1, detail: run.output });
      await sleep(Math.max(0, heldAt + delay - Date.now()));
      run.signal('SIGTERM');
      const sentAfter = Date.now() - heldAt;
      // The exit code is the app's (docs/exit-codes.md): 0 once trap-term.js has its handler,
      // 143 when the forwarded SIGTERM reached the app before node installed it.
      const code = await exited(run);
      const diedBySignal = /INFO app exited signal=SIGTERM/.test(run.output());
      expect(code, `SIGTERM ${sentAfter} ms after the signals were held\n${run.output()}`).toBe(diedBySignal ? 143 : 0);
      if (!diedBySignal && /INFO app started/.test(run.output())) expect(run.output()).toMatch(/app: got SIGTERM/);
      expect(run.output()).toMatch(/received stop signal signal=SIGTERM/);
      expect(run.output()).toMatch(/final sync complete/);
      expect(await restoredDigest(s.config, s.db), run.output()).toEqual(rowsDigest(s.db));
      s.conn.close();
    });
  }

  it('a service that ignores its stop signal and writes on is ended before the final sync: nothing it committed is lost', async () => {
    const s = scenario(5);
    const services = path.join(s.dir, 'services.d');
    // No timeout-kill (s6: never SIGKILLed by its stop); it commits a row every 20 ms, SIGTERM ignored.
    makeService(services, 'writer', `export WRITER_IGNORE_TERM=1\nexec '${process.execPath}' '${path.join(ROOT, 'test/fixtures/writer.mjs')}' '${s.db}' 100000 20`);
    const run = await start(['-config', s.config, '-services', services, 'trap-term.js', '--name', 'app'], { env: { LIFEBOAT_SERVICES_GRACETIME: '300' } });
    await run.waitFor(/^app: started/);
    await waitUntil(() => rowsDigest(s.db).rows > 25, { what: 'the writer service to commit rows', detail: run.output });
    run.signal('SIGTERM');
    expect(await exited(run), run.output()).toBe(0);
    // The init's own lines (one stream): the writer ends before the replicator's final sync starts.
    const own = [/WARN service still running .*left to the final kill, before the final sync service=writer/, /WARN ending services left running before the final sync services=writer/, /INFO stopping replicator: final sync/, /INFO init exiting code=0/];
    inOrder(run.lines(), own, run.output());
    expect(await restoredDigest(s.config, s.db), run.output()).toEqual(rowsDigest(s.db));
    s.conn.close();
  });

  it('an uncaught error in PID 1 (test hook): the app is stopped, the final sync runs, exit 111', async () => {
    const s = scenario(15);
    const run = await start(['-config', s.config, 'trap-term.js', '--name', 'app'], { pid1: true, env: { LIFEBOAT_TEST_FAIL: 'uncaught' } });
    expect(await exited(run), run.output()).toBe(111);
    inOrder(
      run.lines(),
      [
        /ERROR internal error \(uncaught exception\): Error: LIFEBOAT_TEST_FAIL=uncaught/,
        /INFO stopping app signal=SIGTERM/,
        /INFO app exited/,
        /replicator stopped: final sync complete/,
        /init exiting code=111/,
      ],
      run.output(),
    );
    expect(await restoredDigest(s.config, s.db), run.output()).toEqual(rowsDigest(s.db));
    s.conn.close();
  });
});

describe('the last resort and crash loops (lifeboat init as a subreaper)', () => {
  it('services.d services start once the replicator is ready, as the app does', async () => {
    const s = scenario(5);
    const services = tmpDir('lifeboat-services-');
    makeService(services, 'svc', 'echo svc running\nexec trap-term.js --name svc');
    const run = await start(['-config', s.config, '-services', services, 'trap-term.js', '--name', 'app'], {});
    await run.waitFor(/^app: started/);
    await run.waitFor(/^svc \| svc: started/);
    inOrder(run.lines(), [/^replicate \| .*INFO replicating/, /INFO ready/, /^svc \| svc running/], run.output());
    run.signal('SIGTERM');
    expect(await exited(run), run.output()).toBe(0);
    s.conn.close();
  });


  it('an unhandled rejection (test hook): app and replicator stopped, flushed, exit 111, no process left', async () => {
    const s = scenario(5);
    // --ready-file puts the scenario's directory in the app's command line too, so every process of this run names it.
    const args = ['-config', s.config, 'trap-term.js', '--name', 'app', '--ready-file', path.join(s.dir, 'app-ready')];
    const run = await start(args, { env: { LIFEBOAT_TEST_FAIL: 'rejection' } });
    expect(await exited(run), run.output()).toBe(111);
    inOrder(
      run.lines(),
      [/ERROR internal error \(unhandled rejection\): Error: LIFEBOAT_TEST_FAIL=rejection/, /INFO stopping app/, /INFO app exited/, /replicator stopped: final sync complete/, /init exiting code=111/],
      run.output(),
    );
    // Nothing of this run outlives the init: its app and replicator were stopped, not orphaned.
    expect(alive(s.dir), run.output()).toEqual([]);
    expect(await restoredDigest(s.config, s.db), run.output()).toEqual(rowsDigest(s.db));
    s.conn.close();
  });

  it('another process replicates the database: the init refuses (111) and leaves the flush to it', async () => {
    const s = scenario(5);
    const other = startReplicate(['-config', s.config]);
    try {
      await other.waitFor(/INFO replicating/);
      const run = await start(['-config', s.config, 'trap-term.js', '--name', 'app'], {});
      expect(await exited(run), run.output()).toBe(111);
      expect(run.output()).toMatch(/init failed: database .* is already being replicated by process/);
      expect(run.output()).toMatch(/ERROR no last flush: database .* is already being replicated/);
      expect(run.output()).not.toMatch(/one-shot final sync|^flush \|/m);
      expect(run.output()).not.toMatch(/app: started/);
      insertRows(s.conn, 10);
      expect((await other.stop()).exitCode, other.lines.join('\n')).toBe(0);
      expect(await restoredDigest(s.config, s.db), other.lines.join('\n')).toEqual(rowsDigest(s.db));
    } finally {
      if (other.proc.exitCode === null) other.proc.kill('SIGKILL');
    }
    s.conn.close();
  });

  it('a replicator crash loop is logged at ERROR with the last error and marks the database unhealthy; the app keeps running; the stop still syncs', async () => {
    const s = scenario(5);
    const mark = path.join(s.dir, '.app.db-lifeboat.unhealthy');
    fs.writeFileSync(mark, 'left by an earlier run\n');
    const env = { LIFEBOAT_CRASH_LOOP_DEATHS: '3', LIFEBOAT_CRASH_LOOP_WINDOW: '60000' };
    const run = await start(['-config', s.config, 'trap-term.js', '--name', 'app'], { env });
    await run.waitFor(/^app: started/);
    // A mark from an earlier run is gone before the app starts.
    expect(fs.existsSync(mark)).toBe(false);
    const replicating = /replicate \| .*INFO replicating/;
    for (let i = 1; i <= 3; i++) {
      // Run i is up (replicating), then killed; the next run is started after the backoff.
      await waitUntil(() => count(run, replicating) >= i, { what: `replicator run ${i} replicating`, detail: run.output });
      const pid = await waitUntil(() => replicatorPid(run.pid), { what: `replicator run ${i}`, detail: run.output });
      process.kill(pid, 'SIGKILL');
      await waitUntil(() => count(run, /service exited: restarting service=replicate/) >= i, { what: `restart ${i}`, detail: run.output });
    }
    const loop = await run.waitFor(/ERROR crash loop: 3 exits within 60000 ms: marked unhealthy service=replicate signal=SIGKILL/);
    expect(loop).toMatch(/last_error=/);
    expect(count(run, /crash loop/), run.output()).toBe(1);
    expect(run.output()).toMatch(/ERROR replication is down: the app keeps running/);
    expect(fs.readFileSync(mark, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z replicator crash loop: 3 exits within 60000 ms: marked unhealthy; last error: .+\n$/);
    // Restarts go on: a fourth run replicates again.
    await waitUntil(() => count(run, replicating) >= 4, { what: 'replicator run 4 replicating', detail: run.output });
    expect(run.output()).not.toMatch(/app: got SIGTERM/);
    expect(run.child.exitCode).toBeNull();
    insertRows(s.conn, 10);
    run.signal('SIGTERM');
    expect(await exited(run), run.output()).toBe(0);
    expect(await restoredDigest(s.config, s.db), run.output()).toEqual(rowsDigest(s.db));
    s.conn.close();
  });

  it('LIFEBOAT_STOP_ON_CRASH_LOOP=1: the crash loop stops the container (111) after a final flush', async () => {
    const s = scenario(5);
    const env = { LIFEBOAT_CRASH_LOOP_DEATHS: '1', LIFEBOAT_STOP_ON_CRASH_LOOP: '1' };
    const run = await start(['-config', s.config, 'trap-term.js', '--name', 'app'], { env });
    await run.waitFor(/^app: started/);
    insertRows(s.conn, 10);
    process.kill(await waitUntil(() => replicatorPid(run.pid), { what: 'the replicator' }), 'SIGKILL');
    expect(await exited(run), run.output()).toBe(111);
    inOrder(
      run.lines(),
      [/init failed: replicator crash loop: 1 exits within/, /app: got SIGTERM/, /final sync by a one-shot run/, /one-shot final sync complete/, /init exiting code=111/],
      run.output(),
    );
    expect(await restoredDigest(s.config, s.db), run.output()).toEqual(rowsDigest(s.db));
    s.conn.close();
  });
});
