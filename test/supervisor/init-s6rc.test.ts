/**
 * End-to-end: the built `lifeboat init` running an s6-overlay v3 tree (s6-rc.d) with real
 * child processes — dependency order up, reverse order down, readiness through
 * notification-fd, a `log/` logger, the `user` bundle, and the S6_* knobs that change what
 * a failure does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/replicator/status.js';
import { indexOf, makeService, runInit, startInit, waitForFileSh, writeScript } from '../helpers/procs.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * EOF_ONLY starts a logger or consumer that ignores its SIGTERM: it ends on the end of its
 * input, however long a loaded machine takes to get there, so that its last line is there.
 */
const EOF_ONLY = "trap '' TERM\n";

/** UNHURRIED gives the boot and the services' stop time to spare on a loaded machine. */
const UNHURRIED = { LIFEBOAT_READY_TIMEOUT: '30000', LIFEBOAT_SERVICES_GRACETIME: '20000' };

/** Svc is one s6-rc.d/<name>/: its type, names in dependencies.d and contents.d, scripts and setting files. */
interface Svc {
  type: 'longrun' | 'oneshot' | 'bundle';
  deps?: string[];
  contents?: string[];
  /** scripts are written as `#!/bin/sh` files (run, finish, log/run); files as they are. */
  scripts?: Record<string, string>;
  files?: Record<string, string>;
}

/** makeTree writes `<base>/s6-rc.d/` from `spec`; returns base (LIFEBOAT_S6_OVERLAY_DIR). */
function makeTree(spec: Record<string, Svc>): string {
  const base = tmpDir('lifeboat-s6rc-');
  for (const [name, svc] of Object.entries(spec)) {
    const dir = path.join(base, 's6-rc.d', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'type'), `${svc.type}\n`);
    for (const [kind, names] of [['dependencies.d', svc.deps], ['contents.d', svc.contents]] as const) {
      for (const n of names ?? []) {
        fs.mkdirSync(path.join(dir, kind), { recursive: true });
        fs.writeFileSync(path.join(dir, kind, n), '');
      }
    }
    for (const [file, body] of Object.entries(svc.scripts ?? {})) writeScript(path.join(dir, file), body);
    for (const [file, body] of Object.entries(svc.files ?? {})) fs.writeFileSync(path.join(dir, file), body);
  }
  return base;
}

/** inOrder expects every pattern to match a line, each after the one before. */
function inOrder(lines: string[], order: RegExp[]): void {
  const at = order.map((re) => indexOf(lines, re));
  expect(at.map((i, k) => (i < 0 ? `missing ${order[k]}` : i)).filter((x) => typeof x === 'string'), lines.join('\n')).toEqual([]);
  expect([...at].sort((x, y) => x - y), lines.join('\n')).toEqual(at);
}

describe.concurrent('lifeboat init: an s6-overlay v3 tree', () => {
  it('starts in dependency order, waits for readiness, logs through log/, stops in reverse; the CMD code is the exit code', async () => {
    const work = tmpDir();
    const made = path.join(work, 'made');
    const afterWeb = path.join(work, 'after-web-started');
    const scripts = tmpDir();
    writeScript(path.join(scripts, 'prepare'), `mkdir ${made}\necho prepared`);
    writeScript(path.join(scripts, 'unprepare'), `rmdir ${made}\necho unprepared`);
    const base = makeTree({
      user: { type: 'bundle', contents: ['web-bundle'] },
      'web-bundle': { type: 'bundle', contents: ['web', 'after-web'] },
      prepare: { type: 'oneshot', deps: ['base'], files: { up: `${scripts}/prepare\n`, down: `${scripts}/unprepare\n` } },
      web: {
        type: 'longrun',
        deps: ['prepare', 'base'],
        scripts: { run: `test -d ${made} || exit 9\necho web saw the directory\nexec ready-after.js 300 5`, 'log/run': `${EOF_ONLY}while read -r l; do echo "logged: $l"; done; echo logger got EOF` },
        files: { 'notification-fd': '5\n', 'timeout-kill': '3000' },
      },
      'after-web': { type: 'longrun', deps: ['web'], scripts: { run: `echo after-web started\necho 1 > ${afterWeb}\nexec forever.js` } },
      unused: { type: 'longrun', scripts: { run: 'echo unused started\nexec forever.js' } },
    });
    // A longrun without notification-fd is up once spawned, so the app may start before
    // after-web's shell has run a line: the app waits for its marker before it exits.
    const app = `test -d ${made} && echo app saw the directory; ${waitForFileSh(afterWeb, 30)}; exit 7`;
    const r = await runInit(['sh', '-c', app], { env: { LIFEBOAT_S6_OVERLAY_DIR: base, ...UNHURRIED } });
    expect(r.code, r.output).toBe(7);
    expect(r.output).not.toContain('unused started');
    // Services' output reaches us through pipes (and web's through its logger): these lines
    // are there, in no fixed place relative to the init's own lines.
    for (const line of ['app saw the directory', 'prepare | prepared', 'web/log | logged: web saw the directory', 'web/log | logged: ready-after: ready', 'after-web | after-web started', 'web/log | logger got EOF', 'prepare | unprepared']) {
      expect(r.lines, r.output).toContain(line);
    }
    expect(fs.existsSync(made)).toBe(false);
    // The init's own lines (stderr: one stream; the app writes to stdout, whose lines may
    // arrive before or after them — its line above proves the directory existed for it).
    inOrder(r.lines, [
      /INFO oneshot up service=prepare/,
      /INFO longrun start service=web$/,
      /INFO longrun ready service=web$/,
      /INFO longrun start service=after-web$/,
      /INFO app exited code=7/,
      /INFO longrun stop service=after-web$/,
      /INFO longrun stop service=web$/,
      /INFO oneshot down service=prepare$/,
      /INFO init exiting code=7/,
    ]);
  });

  it('a producer-for / consumer-for pipeline: the consumer reads the producer stdout; its pipeline-name is a bundle', async () => {
    const piped = path.join(tmpDir(), 'piped');
    const base = makeTree({
      user: { type: 'bundle', contents: ['app-pipeline'] },
      app: { type: 'longrun', scripts: { run: 'echo app line one\necho app line two\nexec forever.js' }, files: { 'producer-for': 'app-log\n' } },
      'app-log': {
        type: 'longrun',
        scripts: { run: `${EOF_ONLY}while read -r l; do echo "piped: $l"; [ "$l" = 'app line two' ] && echo 1 > ${piped}; done; echo consumer got EOF` },
        files: { 'consumer-for': 'app\n', 'pipeline-name': 'app-pipeline\n' },
      },
    });
    // The app ends once the consumer has passed both lines on.
    const r = await runInit(['sh', '-c', waitForFileSh(piped, 30)], { env: { LIFEBOAT_S6_OVERLAY_DIR: base, ...UNHURRIED } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toMatch(/^app \| app line/m);
    // The piped lines come through two pipes and the consumer: in their order, at no fixed
    // place among the init's lines; the consumer's EOF only once the init stopped it.
    inOrder(r.lines, [/^app-log \| piped: app line one$/, /^app-log \| piped: app line two$/, /^app-log \| consumer got EOF$/]);
    inOrder(r.lines, [
      /INFO longrun start service=app-log$/,
      /INFO longrun start service=app$/,
      /INFO longrun stop service=app$/,
      /INFO longrun stop service=app-log$/,
      /^app-log \| consumer got EOF$/,
    ]);
  });

  it('a cycle or a missing dependency fails the boot with one line naming it; nothing starts', async () => {
    const cycle = makeTree({
      user: { type: 'bundle', contents: ['a'] },
      a: { type: 'longrun', deps: ['b'], scripts: { run: 'echo a started\nexec forever.js' } },
      b: { type: 'oneshot', deps: ['a'], files: { up: 'echo b up\n' } },
    });
    const r1 = await runInit(['echo', 'app started'], { env: { LIFEBOAT_S6_OVERLAY_DIR: cycle } });
    expect(r1.code).toBe(111);
    expect(r1.lines).toContain('ERROR init failed: s6-rc.d/a: dependency cycle: a -> b -> a');
    expect(r1.output).not.toMatch(/a started|b up|app started/);
    const missing = makeTree({ user: { type: 'bundle', contents: ['a'] }, a: { type: 'longrun', deps: ['db'], scripts: { run: 'exec forever.js' } } });
    const r2 = await runInit(['echo', 'app started'], { env: { LIFEBOAT_S6_OVERLAY_DIR: missing } });
    expect(r2.code).toBe(111);
    expect(r2.lines).toContain('ERROR init failed: s6-rc.d/a: depends on or contains "db", which is not a service');
  });

  it('a failed oneshot: its dependants never start; S6_BEHAVIOUR_IF_STAGE2_FAILS 2 stops the container, 1 warns, 0 carries on', async () => {
    const base = makeTree({
      user: { type: 'bundle', contents: ['svc'] },
      setup: { type: 'oneshot', files: { up: 'false\n' } },
      svc: { type: 'longrun', deps: ['setup'], scripts: { run: 'echo svc started\nexec forever.js' } },
    });
    const run = (v: string) => runInit(['echo', 'app ran'], { env: { LIFEBOAT_S6_OVERLAY_DIR: base, S6_BEHAVIOUR_IF_STAGE2_FAILS: v } });
    const [stop, warn, quiet] = await Promise.all([run('2'), run('1'), run('0')]);
    for (const r of [stop, warn, quiet]) {
      expect(r.output).toMatch(/ERROR oneshot up failed service=setup code=1/);
      expect(r.output).toMatch(/WARN s6-rc service not started: a dependency failed service=svc/);
      expect(r.output).not.toContain('svc started');
    }
    expect(stop.code).toBe(111);
    expect(stop.lines).toContain('ERROR init failed: s6-rc services failed to come up: setup, svc');
    expect(stop.output).not.toContain('app ran');
    expect([warn.code, quiet.code]).toEqual([0, 0]);
    expect(warn.lines).toContain('WARN s6-rc services failed to come up: setup, svc: continuing');
    expect(warn.lines).toContain('app ran');
    expect(quiet.output).not.toContain('continuing');
    expect(quiet.lines).toContain('app ran');
  });

  it('S6_CMD_WAIT_FOR_SERVICES_MAXTIME bounds the wait for readiness: 2 stops the container, 0 starts the CMD anyway', async () => {
    const base = makeTree({
      user: { type: 'bundle', contents: ['never'] },
      never: { type: 'longrun', scripts: { run: 'exec forever.js' }, files: { 'notification-fd': '3', 'timeout-kill': '2000' } },
    });
    const env = { LIFEBOAT_S6_OVERLAY_DIR: base, S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '700', LIFEBOAT_READY_TIMEOUT: '60000' };
    const t0 = Date.now();
    const [stop, carryOn] = await Promise.all([
      runInit(['echo', 'app ran'], { env: { ...env, S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' } }),
      runInit(['echo', 'app ran'], { env: { ...env, S6_BEHAVIOUR_IF_STAGE2_FAILS: '0' } }),
    ]);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(stop.code).toBe(111);
    expect(stop.lines).toContain('ERROR init failed: s6-rc services not up within 700 ms (S6_CMD_WAIT_FOR_SERVICES_MAXTIME)');
    expect(stop.output).not.toContain('app ran');
    expect(carryOn.code).toBe(0);
    expect(carryOn.lines).toContain('app ran');
  });
});

describe('lifeboat init: the v3 tree in /status', () => {
  it('lists its longruns (pid, uptime) and oneshots (up, last exit) beside the replicator', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    openWAL(db).close();
    const config = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(config, `addr: "127.0.0.1:0"\ndbs:\n  - path: ${db}\n    replicas:\n      - path: ${path.join(dir, 'replica')}\n`);
    const base = makeTree({
      user: { type: 'bundle', contents: ['setup', 'web'] },
      setup: { type: 'oneshot', files: { up: 'true\n' } },
      web: { type: 'longrun', deps: ['setup'], scripts: { run: 'exec forever.js' } },
    });
    const run = await startInit(['-config', config, 'trap-term.js'], { env: { LIFEBOAT_S6_OVERLAY_DIR: base } });
    const url = `http://${/addr=(\S+)/.exec(await run.waitFor(/metrics listening/))![1]}/status`;
    await run.waitFor(/trap-term: started/, 30_000);
    const doc = await waitUntil(async () => {
      const d = (await (await fetch(url)).json()) as StatusDoc;
      return d.services?.find((s) => s.name === 'web')?.state === 'up' && d;
    }, { what: 'web up in /status', detail: run.output });
    const byName = new Map(doc.services!.map((s) => [s.name, s]));
    expect([...byName.keys()]).toEqual(['replicate', 'setup', 'web']);
    expect(byName.get('setup')).toMatchObject({ state: 'up', pid: null, last_exit: 'code 0', restarts: 0 });
    expect(byName.get('web')).toMatchObject({ state: 'up', pid: expect.any(Number), last_exit: null });
    expect(byName.get('web')!.uptime_ms).toBeGreaterThanOrEqual(0);
    run.signal('SIGTERM');
    expect((await run.done).code, run.output()).toBe(0);
  });
});

describe.concurrent('lifeboat init: log/ and the leftovers', () => {
  it('services.d/<name>/log/run reads the service output (v2)', async () => {
    const services = tmpDir();
    const logged = path.join(tmpDir(), 'logged');
    const dir = makeService(services, 'svc', 'echo one\necho two\nexec forever.js');
    writeScript(path.join(dir, 'log', 'run'), `${EOF_ONLY}while read -r l; do echo "[log] $l"; [ "$l" = two ] && echo 1 > ${logged}; done`);
    // The app ends once the logger has read both lines.
    const r = await runInit(['-services', services, 'sh', '-c', waitForFileSh(logged, 30)], { env: UNHURRIED });
    expect(r.code, r.output).toBe(0);
    inOrder(r.lines, [/^svc\/log \| \[log\] one$/, /^svc\/log \| \[log\] two$/]);
    expect(r.output).not.toMatch(/^svc \| one$/m);
  });

  it('S6_KILL_GRACETIME=0: a leftover that ignores SIGTERM is killed at once; a service without timeout-kill is left to it', async () => {
    const services = tmpDir();
    const trapped = path.join(tmpDir(), 'trapped');
    makeService(services, 'stubborn', `trap '' TERM\necho yes > '${trapped}'\nwhile :; do sleep 0.05; done`, { finish: 'echo finish ran' });
    const env = { S6_KILL_GRACETIME: '0', S6_SERVICES_GRACETIME: '300', LIFEBOAT_KILL_GRACETIME: '', LIFEBOAT_SERVICES_GRACETIME: '' };
    // The app ends once the service ignores SIGTERM: a stop before that would simply end it.
    const r = await runInit(['-services', services, 'sh', '-c', waitForFileSh(trapped, 30)], { env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/WARN service still running after LIFEBOAT_SERVICES_GRACETIME: left to the final kill, before the final sync service=stubborn grace_ms=300/);
    expect(r.output).toMatch(/WARN ending services left running before the final sync services=stubborn grace_ms=0/);
    expect(r.output).not.toMatch(/service did not stop in time: killing/);
  });

  it('a service left running past its grace is ended before the final sync and cont-finish.d; its finish does not run', async () => {
    const dir = tmpDir();
    const [pidFile, state, finished] = ['pid', 'state', 'finished'].map((f) => path.join(dir, f));
    const services = path.join(dir, 'services.d');
    const run = `trap '' TERM\necho $$ > '${pidFile}'\necho trapped\nwhile :; do sleep 0.05; done`;
    makeService(services, 'stubborn', run, { finish: `echo ran > '${finished}'` });
    // cont-finish.d (after the final sync) records whether the service still lives, then gives its finish 3 s to show up.
    const finish = path.join(dir, 'cont-finish.d');
    const look = `if kill -0 "$(cat '${pidFile}')" 2>/dev/null; then echo alive > '${state}'; else echo ended > '${state}'; fi`;
    writeScript(path.join(finish, '10-look'), `${look}\n(${waitForFileSh(finished, 3)})\nexit 0`);
    const env = { LIFEBOAT_SERVICES_GRACETIME: '300', LIFEBOAT_KILL_GRACETIME: '200', LIFEBOAT_CONT_FINISH_DIR: finish };
    // The app ends once the service ignores SIGTERM (its pid file is written after the trap).
    const r = await runInit(['-services', services, 'sh', '-c', waitForFileSh(pidFile, 30)], { env });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/left to the final kill, before the final sync service=stubborn/);
    expect(r.output).toMatch(/WARN ending services left running before the final sync services=stubborn grace_ms=200/);
    expect(fs.readFileSync(state, 'utf8'), r.output).toBe('ended\n');
    expect(fs.existsSync(finished), r.output).toBe(false);
  });

  it('a oneshot down without timeout-down that never ends is cut after LIFEBOAT_SERVICES_GRACETIME: the stop goes on', async () => {
    const base = makeTree({
      user: { type: 'bundle', contents: ['hang'] },
      hang: { type: 'oneshot', files: { up: 'true\n', down: 'sleep 1000\n' } },
    });
    const r = await runInit(['true'], { env: { LIFEBOAT_S6_OVERLAY_DIR: base, LIFEBOAT_SERVICES_GRACETIME: '300' } });
    expect(r.code, r.output).toBe(0);
    inOrder(r.lines, [/INFO oneshot down service=hang/, /WARN oneshot down failed service=hang timed_out=true/, /INFO init exiting code=0/]);
  });

  it('names a /etc/fix-attrs.d that holds files, once, and goes on; an empty one is not named', async () => {
    const attrs = tmpDir();
    const empty = await runInit(['true'], { env: { LIFEBOAT_FIX_ATTRS_DIR: attrs } });
    expect(empty.output).not.toMatch(/fix-attrs/);
    fs.writeFileSync(path.join(attrs, '01-app'), '/data true app 0644 0755\n');
    const r = await runInit(['true'], { env: { LIFEBOAT_FIX_ATTRS_DIR: attrs } });
    expect(r.code, r.output).toBe(0);
    expect(r.lines.filter((l) => /fix-attrs/.test(l))).toEqual([`INFO fix-attrs.d is not read: set ownership and modes in the image instead (docs/migrating-from-s6-overlay.md) dir=${attrs} files=1`]);
  });

  it('S6_CMD_ARG0 is prepended to the CMD (split into words); without a CMD no app runs; a bad quote exits 2', async () => {
    const r = await runInit(['and', 'the cmd'], { env: { S6_CMD_ARG0: "printf '%s|' 'from arg0'" } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('from arg0|and|the cmd|');
    // Without a CMD the init runs until stopped (as s6-overlay): S6_CMD_ARG0 alone is no app.
    const none = await startInit(['-services', tmpDir()], { env: { S6_CMD_ARG0: 'false' } });
    await none.waitFor(/INFO no app command: running services until stopped/);
    none.signal('SIGTERM');
    expect((await none.done).code, none.output()).toBe(0);
    expect(none.output()).not.toMatch(/app started/);
    const bad = await runInit(['true'], { env: { S6_CMD_ARG0: "echo 'open" } });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('S6_CMD_ARG0: ');
  });

  it('S6_STAGE2_HOOK runs first, S6_SYNC_DISKS syncs at the end, S6_VERBOSITY sets the level; unsupported S6_* are named once', async () => {
    const init = tmpDir();
    writeScript(path.join(init, '10-init'), 'echo cont-init ran');
    const env = { LIFEBOAT_CONT_INIT_DIR: init, S6_STAGE2_HOOK: 'sh -c "echo hook ran"', S6_SYNC_DISKS: '1', S6_LOGGING: '1', S6_CATCHALL_USER: 'nobody', S6_SERVICES_READYTIME: '100', S6_CMD_USE_TERMINAL: '1' };
    const r = await runInit(['echo', 'app ran'], { env });
    expect(r.code, r.output).toBe(0);
    inOrder(r.lines, [/^S6_STAGE2_HOOK \| hook ran$/, /^cont-init.d\/10-init \| cont-init ran$/, /^app ran$/, /INFO file systems synced \(S6_SYNC_DISKS\)/]);
    expect(r.lines.filter((l) => l.includes('not supported by Lifeboat'))).toEqual(['WARN s6-overlay variables not supported by Lifeboat: ignored variables=S6_LOGGING,S6_CATCHALL_USER']);
    const quiet = await runInit(['echo', 'app ran'], { env: { S6_VERBOSITY: '1', S6_CMD_WAIT_FOR_SERVICES: '0' } });
    expect(quiet.code).toBe(0);
    expect(quiet.lines).toEqual(['WARN S6_CMD_WAIT_FOR_SERVICES=0 is not supported: Lifeboat always waits for services with a notification-fd', 'app ran']);
  });
});
