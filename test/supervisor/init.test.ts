/**
 * End-to-end: the built `lifeboat init` with fixture apps and services (no replicator:
 * no config). Exit codes, signals, ordering of output lines, services.d, cont-init.d.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { finalCode, within } from '../../src/supervisor/init.js';
import { indexOf, makeService, procStat, runInit, startInit, waitForFileSh, writeScript } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

describe('finalCode: the exit-code table', () => {
  const ok = { code: 0, signal: null };
  it('is the app code, 128+N for a signal, 1 instead of 0 without a final sync', () => {
    expect(finalCode({ kind: 'app', exit: { code: 3, signal: null } }, undefined, true)).toBe(3);
    expect(finalCode({ kind: 'app', exit: { code: 3, signal: null } }, undefined, false)).toBe(3);
    expect(finalCode({ kind: 'app', exit: ok }, undefined, true)).toBe(0);
    expect(finalCode({ kind: 'app', exit: ok }, undefined, false)).toBe(1);
    expect(finalCode({ kind: 'app', exit: { code: null, signal: 'SIGKILL' } }, undefined, true)).toBe(137);
    expect(finalCode({ kind: 'signal', signal: 'SIGTERM' }, { code: null, signal: 'SIGTERM' }, true)).toBe(143);
    expect(finalCode({ kind: 'signal', signal: 'SIGTERM' }, ok, false)).toBe(1);
    expect(finalCode({ kind: 'signal', signal: 'SIGINT' }, undefined, true)).toBe(0);
    expect(finalCode({ kind: 'essential', service: 'web', exit: { code: 4, signal: null } }, ok, true)).toBe(4);
    expect(finalCode({ kind: 'failed', message: 'restore failed' }, undefined, false)).toBe(111);
  });
});

describe.concurrent('lifeboat init: exit codes', () => {
  it('exits with the app code', async () => {
    expect((await runInit(['exit-with.js', '3'])).code).toBe(3);
    expect((await runInit(['exit-with.js', '0'])).code).toBe(0);
  });

  it('exits 128+N when the app is killed by signal N', async () => {
    const r = await runInit(['exit-with.js', 'SIGKILL']);
    expect(r.code).toBe(137);
    expect(r.lines).toContain('INFO app exited signal=SIGKILL');
  });

  it('exits 127 when the app command does not exist, naming it, without logging "app started"', async () => {
    const r = await runInit(['/nonexistent/app']);
    expect(r.code).toBe(127);
    expect(r.lines).toContain('ERROR app could not start: command not found: /nonexistent/app (no such file) code=127');
    expect(r.output).not.toMatch(/app started|app exited/);
    const bare = await runInit(['no-such-command-anywhere', '--flag']);
    expect(bare.code).toBe(127);
    expect(bare.lines).toContain('ERROR app could not start: command not found: no-such-command-anywhere (not in any PATH directory) code=127');
    expect(bare.output).not.toMatch(/app started/);
  });

  it('says once that replication is off without a config (naming where it looked) or without databases', async () => {
    const none = await runInit(['exit-with.js', '0']);
    expect(none.code).toBe(0);
    const off = none.lines.filter((l) => /replication is off/.test(l));
    expect(off).toEqual(['INFO no config file found (tried $LIFEBOAT_CONFIG, $LITESTREAM_CONFIG, /etc/lifeboat.yml, /etc/litestream.yml): replication is off']);
    const cfg = path.join(tmpDir(), 'empty.yml');
    fs.writeFileSync(cfg, 'logging:\n  level: info\n');
    const empty = await runInit(['-config', cfg, 'exit-with.js', '0']);
    expect(empty.code).toBe(0);
    expect(empty.lines).toContain(`INFO config ${cfg} has no databases: replication is off`);
  });

  it('uses $LIFEBOAT_DEFAULT_CONFIG only when no config is given, saying so; a missing one is named where it looked', async () => {
    const dir = tmpDir();
    const demo = path.join(dir, 'demo.yml');
    const user = path.join(dir, 'user.yml');
    for (const f of [demo, user]) fs.writeFileSync(f, 'logging:\n  level: info\n');
    const fallback = await runInit(['exit-with.js', '0'], { env: { LIFEBOAT_DEFAULT_CONFIG: demo } });
    expect(fallback.code).toBe(0);
    expect(fallback.lines).toContain(`INFO no config file given: using the default, ${demo} ($LIFEBOAT_DEFAULT_CONFIG)`);
    expect(fallback.lines).toContain(`INFO config ${demo} has no databases: replication is off`);
    const given = await runInit(['exit-with.js', '0'], { env: { LIFEBOAT_DEFAULT_CONFIG: demo, LITESTREAM_CONFIG: user } });
    expect(given.code).toBe(0);
    expect(given.lines).toContain(`INFO config ${user} has no databases: replication is off`);
    expect(given.output).not.toContain(demo);
    const gone = await runInit(['exit-with.js', '0'], { env: { LIFEBOAT_DEFAULT_CONFIG: path.join(dir, 'gone.yml') } });
    expect(gone.code).toBe(0);
    expect(gone.lines).toContain(
      'INFO no config file found (tried $LIFEBOAT_CONFIG, $LITESTREAM_CONFIG, /etc/lifeboat.yml, /etc/litestream.yml, $LIFEBOAT_DEFAULT_CONFIG): replication is off',
    );
  });

  it('logs "app started" with its pid once the app runs', async () => {
    const r = await runInit(['sh', '-c', 'echo "app pid $$"']);
    expect(r.code).toBe(0);
    const pid = /^app pid (\d+)$/m.exec(r.output)?.[1];
    expect(r.output).toMatch(new RegExp(`^INFO app started pid=${pid} boot_ms=\\d+$`, 'm'));
  });

  it('passes the command line through untouched, flags included, with or without --', async () => {
    const a = await runInit(['sh', '-c', 'echo "$#:$*"', 'x', '-config', '--y']);
    expect(a.lines).toContain('2:-config --y');
    const b = await runInit(['--', 'sh', '-c', 'echo "$1"', 'x', '--services']);
    expect(b.lines).toContain('--services');
  });

  it('exits 2 on a bad knob, naming it', async () => {
    const r = await runInit(['exit-with.js', '0'], { env: { LIFEBOAT_APP_GRACETIME: '4s' } });
    expect(r.code).toBe(2);
    expect(r.output).toContain('LIFEBOAT_APP_GRACETIME: not a whole number of milliseconds: "4s"');
    expect(r.output).not.toContain('exit-with: started');
  });

  it('exits 2 on a bad service setting, naming the file and the value', async () => {
    const services = tmpDir();
    makeService(services, 'web', 'exec forever.js', { 'timeout-kill': 'later' });
    const r = await runInit(['-services', services, 'exit-with.js', '0']);
    expect(r.code).toBe(2);
    expect(r.lines.join('\n')).toMatch(/web\/timeout-kill: not a whole number of milliseconds: "later"/);
  });

  it('exits 2 on a config with exec:, a missing -config file, or bad YAML', async () => {
    const dir = tmpDir();
    const withExec = path.join(dir, 'exec.yml');
    fs.writeFileSync(withExec, `exec: node server.js\ndbs:\n  - path: ${dir}/db\n    replicas:\n      - path: ${dir}/replica\n`);
    const a = await runInit(['-config', withExec, 'exit-with.js', '0']);
    expect(a.code).toBe(2);
    expect(a.output).toContain('exec: not allowed under lifeboat init');
    const b = await runInit(['-config', path.join(dir, 'missing.yml'), 'exit-with.js', '0']);
    expect(b.code).toBe(2);
    expect(b.output).toContain('config file not found');
    const bad = path.join(dir, 'bad.yml');
    fs.writeFileSync(bad, 'dbs: [\n');
    const c = await runInit(['-config', bad, 'exit-with.js', '0']);
    expect(c.code).toBe(2);
    expect(c.output).toContain('invalid YAML');
  });
});

describe.concurrent('lifeboat init: signals', () => {
  it('SIGTERM: the app gets it, and the init exits with the app code', async () => {
    const run = await startInit(['trap-term.js', '--exit', '5']);
    await run.waitFor(/trap-term: started/);
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(5);
    const lines = run.lines();
    expect(indexOf(lines, /received stop signal signal=SIGTERM/)).toBeLessThan(indexOf(lines, /trap-term: got SIGTERM/));
  });

  it('SIGINT (Fly.io kill_signal) is forwarded as SIGINT', async () => {
    const run = await startInit(['trap-term.js', '--exit', '0']);
    await run.waitFor(/trap-term: started/);
    run.signal('SIGINT');
    expect((await run.done).code).toBe(0);
    expect(run.lines()).toContain('trap-term: got SIGINT');
  });

  it('an app that ignores the stop signal is killed after LIFEBOAT_APP_GRACETIME: 137', async () => {
    const run = await startInit(['trap-term.js', '--ignore'], { env: { LIFEBOAT_APP_GRACETIME: '500' } });
    await run.waitFor(/trap-term: started/);
    const t0 = Date.now();
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(137);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it('a second SIGTERM skips the rest of the grace time', async () => {
    const run = await startInit(['trap-term.js', '--ignore'], { env: { LIFEBOAT_APP_GRACETIME: '20000' } });
    await run.waitFor(/trap-term: started/);
    const t0 = Date.now();
    run.signal('SIGTERM');
    await run.waitFor(/trap-term: got SIGTERM/);
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(137);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(run.output()).toContain('second stop signal: skipping the app grace time');
  });

  it('USR1, USR2 and WINCH are forwarded to the app, which keeps running', async () => {
    const run = await startInit(['trap-term.js', '--exit', '0']);
    await run.waitFor(/trap-term: started/);
    for (const sig of ['SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) {
      run.signal(sig);
      await run.waitFor(new RegExp(`trap-term: got ${sig}`));
    }
    expect(run.child.exitCode).toBeNull();
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(0);
  });
});

describe.concurrent('lifeboat init: services', () => {
  it('prefixes services lines `name | ` and leaves the app unprefixed; LIFEBOAT_LOG_PREFIX=0 turns it off', async () => {
    const services = tmpDir();
    // The app ends once the service has written its lines (and the marker after them).
    const marker = path.join(tmpDir(), 'written');
    makeService(services, 'web', `echo hello from web\nprintf partial\necho done > ${marker}\nexec sleep 60`);
    const a = await runInit(['-services', services, 'sh', '-c', `${waitForFileSh(marker)}; echo app line`]);
    expect(a.lines).toContain('web | hello from web');
    expect(a.lines).toContain('web | partial');
    expect(a.lines).toContain('app line');
    fs.rmSync(marker);
    const b = await runInit(['-services', services, 'sh', '-c', waitForFileSh(marker)], { env: { LIFEBOAT_LOG_PREFIX: '0' } });
    expect(b.code, b.output).toBe(0);
    expect(b.lines).toContain('hello from web');
  });

  it('stops the app first, then the services; cont-finish.d runs after them', async () => {
    const services = tmpDir();
    makeService(services, 'svc', 'exec trap-term.js --name svc');
    const finishDir = tmpDir();
    writeScript(path.join(finishDir, '10-bye'), 'echo cont-finish ran');
    const run = await startInit(['-services', services, 'trap-term.js', '--name', 'app', '--delay', '200'], {
      env: { LIFEBOAT_CONT_FINISH_DIR: finishDir },
    });
    await run.waitFor(/^app: started/);
    // The service has its handlers too (else the TERM kills it before it can say so).
    await run.waitFor(/^svc \| svc: started/);
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(0);
    const lines = run.lines();
    const order = [/^app: got SIGTERM/, /^app: exiting/, /INFO stopping services/, /^svc \| svc: got SIGTERM/, /cont-finish.d\/10-bye \| cont-finish ran/];
    const at = order.map((re) => indexOf(lines, re));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
  });

  it('does not start a service with a down file', async () => {
    const services = tmpDir();
    const marker = path.join(tmpDir(), 'on-started');
    makeService(services, 'off', 'echo off started\nexec forever.js', { down: '' });
    makeService(services, 'on', `echo on started\necho on > ${marker}\nexec forever.js`);
    const r = await runInit(['-services', services, 'sh', '-c', waitForFileSh(marker)]);
    expect(r.code, r.output).toBe(0);
    expect(r.lines).toContain('on | on started');
    expect(r.output).not.toContain('off started');
  });

  it('starts the app only once every notification-fd service is ready', async () => {
    const services = tmpDir();
    const marker = path.join(tmpDir(), 'ready');
    makeService(services, 'slow', `exec ready-after.js 600 4 ${marker}`, { 'notification-fd': '4' });
    const t0 = Date.now();
    const r = await runInit(['-services', services, 'sh', '-c', `test -f ${marker} && echo app saw ready || echo app too early`]);
    expect(r.code).toBe(0);
    expect(r.lines).toContain('app saw ready');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
  });

  it('exits 111 without starting the app when readiness does not come within LIFEBOAT_READY_TIMEOUT', async () => {
    const services = tmpDir();
    makeService(services, 'never', 'exec forever.js', { 'notification-fd': '3' });
    const t0 = Date.now();
    const r = await runInit(['-services', services, 'sh', '-c', 'echo app ran'], { env: { LIFEBOAT_READY_TIMEOUT: '700' } });
    expect(r.code).toBe(111);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
    expect(r.output).toContain('init failed: not ready after 700 ms: never');
    expect(r.output).not.toContain('app ran');
  });

  it('an essential service that will not be restarted takes the container down with its code', async () => {
    const services = tmpDir();
    // The service ends once the app has its signal handlers.
    const appReady = path.join(tmpDir(), 'app-ready');
    makeService(services, 'main', `${waitForFileSh(appReady)}\nexit 4`, { essential: '', finish: 'exit 125' });
    const run = await startInit(['-services', services, 'trap-term.js', '--name', 'app', '--ready-file', appReady]);
    await run.waitFor(/^app: started/);
    expect((await run.done).code).toBe(4);
    const lines = run.lines();
    expect(indexOf(lines, /essential service ended service=main code=4/)).toBeLessThan(indexOf(lines, /^app: got SIGTERM/));
  });

  it('with no command, runs the services until signalled and exits 0', async () => {
    const services = tmpDir();
    makeService(services, 'only', 'exec trap-term.js --name only');
    const run = await startInit(['-services', services]);
    await run.waitFor(/only \| only: started/);
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(0);
    expect(run.output()).toContain('no app command: running services until stopped');
  });

  it('terminates leftover descendants before exiting', async () => {
    const marker = path.join(tmpDir(), 'leftover');
    const r = await runInit(['sh', '-c', `setsid sh -c 'echo $$ > ${marker}; exec sleep 60' & ${waitForFileSh(marker)}; exit 0`]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/terminating leftover processes count=1/);
    const pid = Number(fs.readFileSync(marker, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => procStat(pid) === undefined, { what: `the leftover process ${pid} to be gone`, detail: () => `state: ${procStat(pid)?.state}` });
  });
});

describe.concurrent('lifeboat init: cont-init.d', () => {
  function contInit(body: string): string {
    const dir = tmpDir();
    writeScript(path.join(dir, '10-first'), 'echo first ran');
    writeScript(path.join(dir, '20-second'), body);
    return dir;
  }

  it('runs the scripts in lexical order before the app', async () => {
    const r = await runInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONT_INIT_DIR: contInit('echo second ran') } });
    expect(r.code).toBe(0);
    const at = [/cont-init.d\/10-first \| first ran/, /cont-init.d\/20-second \| second ran/, /^app ran/].map((re) => indexOf(r.lines, re));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(at[0]).toBeGreaterThanOrEqual(0);
  });

  it('a failing script stops the boot with 111 (LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS=2, the default)', async () => {
    const r = await runInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONT_INIT_DIR: contInit('exit 9') } });
    expect(r.code).toBe(111);
    expect(r.output).toContain('init failed: cont-init.d/20-second failed: 9');
    expect(r.output).not.toContain('app ran');
  });

  it('a stop signal during the boot stops the running script; the app never starts; exit 0', async () => {
    const run = await startInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONT_INIT_DIR: contInit('echo sleeping\nexec sleep 30') } });
    await run.waitFor(/20-second \| sleeping/);
    const t0 = Date.now();
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(0);
    // Far less than the script's 30 s: it was stopped, not waited for.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(run.output()).not.toContain('app ran');
  });

  it('with LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS=1 warns and goes on; with 0 goes on silently', async () => {
    const dir = contInit('exit 9');
    const warn = await runInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONT_INIT_DIR: dir, LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS: '1' } });
    expect(warn.code).toBe(0);
    expect(warn.output).toContain('WARN cont-init.d script failed: continuing script=cont-init.d/20-second code=9');
    expect(warn.output).toContain('app ran');
    const silent = await runInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONT_INIT_DIR: dir, LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS: '0' } });
    expect(silent.code).toBe(0);
    expect(silent.output).not.toContain('cont-init.d script failed');
    expect(silent.output).toContain('app ran');
  });
});

describe('within: a bounded wait', () => {
  it('passes a value through in time, gives up after the time, and waits as long as it takes with 0', async () => {
    expect(await within(Promise.resolve(5), 1000)).toEqual({ done: true, value: 5 });
    const t0 = Date.now();
    expect(await within(new Promise(() => {}), 100)).toEqual({ done: false });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(await within(new Promise((r) => setTimeout(() => r('late'), 150)), 0)).toEqual({ done: true, value: 'late' });
  });
});
