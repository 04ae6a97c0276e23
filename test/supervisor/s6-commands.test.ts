/**
 * The s6 commands against a real `lifeboat init` (not PID 1, LIFEBOAT_SCAN_DIRS at a temp
 * dir) and real services: s6-svc, s6-svstat, s6-svwait and s6-svscanctl, each run as the
 * image runs them — the CLI under its s6 name (a symlink named `s6-svc` to main.js).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../../src/supervisor/init.js';
import { CLI } from '../helpers/cli.js';
import { indexOf, makeService, startInit, type InitRun } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const bin = tmpDir('lifeboat-s6bin-');
for (const name of ['s6-svc', 's6-svstat', 's6-svwait', 's6-svscanctl']) fs.symlinkSync(CLI, path.join(bin, name));

/** s6 runs one s6 command by its name, as the image's symlinks do. */
async function s6(name: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await execa(process.execPath, [path.join(bin, name), ...args], { reject: false, timeout: 30_000 });
  return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('s6 commands on the services of lifeboat init', () => {
  let scan: string;
  let web: string;
  let init: InitRun;

  beforeAll(async () => {
    const root = tmpDir('lifeboat-s6-');
    scan = path.join(root, 'scan');
    const services = path.join(root, 'services.d');
    makeService(services, 'web', 'exec sleep 1000');
    makeService(services, 'idle', 'exec sleep 1000', { down: '' });
    web = path.join(scan, 'web');
    init = await startInit([], { env: { LIFEBOAT_SERVICES_DIR: services, LIFEBOAT_SCAN_DIRS: scan } });
    await init.waitFor(/no app command/);
  });

  afterAll(async () => {
    if (init.child.exitCode === null) init.signal('SIGTERM');
    await init.done;
  });

  it('makes a directory per service and prints s6-svstat\'s summary', async () => {
    expect(fs.statSync(web).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(scan, 'idle')).isDirectory()).toBe(true);
    const st = await waitUntil(async () => {
      const r = await s6('s6-svstat', web);
      return r.code === 0 && /^up/.test(r.out) ? r : undefined;
    }, { what: 'web to be up' });
    const pid = Number(/^up \(pid (\d+)\) \d+ seconds, ready \d+ seconds$/.exec(st.out)?.[1]);
    expect(alive(pid)).toBe(true);
    expect((await s6('s6-svstat', '-o', 'up,wantedup,normallyup,pid', web)).out).toBe(`true true true ${pid}`);
    expect((await s6('s6-svstat', '-u', '-p', web)).out).toBe(`true ${pid}`);
    expect((await s6('s6-svstat', path.join(scan, 'idle'))).out).toMatch(/^down \d+ seconds, ready \d+ seconds$/);
  });

  it('s6-svc -d stops a service for good, -u brings it back', async () => {
    const pid = Number((await s6('s6-svstat', '-p', web)).out);
    const down = await s6('s6-svc', '-wD', '-T', '10000', '-d', web);
    expect(down).toMatchObject({ code: 0, err: '' });
    expect(alive(pid)).toBe(false);
    expect((await s6('s6-svstat', web)).out).toMatch(/^down \(signal SIGTERM\) \d+ seconds, normally up, ready \d+ seconds$/);
    // Our restart policy would have started it again after 1 s: it stays down.
    expect((await s6('s6-svwait', '-u', '-t', '2500', web)).code).toBe(99);
    const up = await s6('s6-svc', '-wU', '-T', '10000', '-u', web);
    expect(up).toMatchObject({ code: 0, err: '' });
    const again = Number((await s6('s6-svstat', '-p', web)).out);
    expect(again).not.toBe(pid);
    expect(alive(again)).toBe(true);
  });

  it('s6-svc -r restarts, -o runs once, -k kills; s6-svwait waits for each', async () => {
    const pid = Number((await s6('s6-svstat', '-p', web)).out);
    expect((await s6('s6-svc', '-wr', '-T', '10000', '-r', web)).code).toBe(0);
    const restarted = Number((await s6('s6-svstat', '-p', web)).out);
    expect(restarted).not.toBe(pid);
    // -d then -u in one call: down, then up again once down.
    expect((await s6('s6-svc', '-wr', '-T', '10000', '-du', web)).code).toBe(0);
    expect(Number((await s6('s6-svstat', '-p', web)).out)).not.toBe(restarted);
    expect((await s6('s6-svc', '-o', web)).code).toBe(0);
    expect((await s6('s6-svstat', '-o', 'up,wantedup', web)).out).toBe('true false');
    expect((await s6('s6-svc', '-k', web)).code).toBe(0);
    expect((await s6('s6-svwait', '-D', '-t', '10000', web)).code).toBe(0);
    expect((await s6('s6-svstat', '-o', 'up,signal', web)).out).toBe('false SIGKILL');
    expect((await s6('s6-svc', '-u', web)).code).toBe(0);
    expect((await s6('s6-svwait', '-U', '-t', '10000', web)).code).toBe(0);
  });

  it('bad input: one line naming the value, s6 exit codes', async () => {
    const bad = await s6('s6-svc', '-z', web);
    expect(bad.code).toBe(100);
    expect(bad.err.split('\n')[0]).toBe('s6-svc: fatal: unknown option: -z');
    const none = await s6('s6-svc', '-u', path.join(scan, 'nosuch'));
    expect(none.code).toBe(100);
    expect(none.err).toMatch(/^s6-svc: fatal: unable to control .*nosuch: supervisor not listening .*no such service: "nosuch"/);
    const elsewhere = await s6('s6-svstat', '/nonexistent/scan/web');
    expect(elsewhere.code).toBe(111);
    expect(elsewhere.err).toMatch(/^s6-svstat: fatal: unable to control \/nonexistent\/scan\/web: supervisor not listening/);
    const t = await s6('s6-svwait', '-t', '5s', web);
    expect(t.code).toBe(100);
    expect(t.err.split('\n')[0]).toBe('s6-svwait: fatal: -t: not a whole number of milliseconds: "5s"');
    expect((await s6('s6-svstat', '-o', 'uptime', web)).err.split('\n')[0]).toBe('s6-svstat: fatal: -o: unknown field: "uptime"');
    expect((await s6('s6-svwait')).code).toBe(0);
  });

  it('s6-svscanctl -t stops the container in order', async () => {
    const r = await s6('s6-svscanctl', '-t', scan);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect((await init.done).code).toBe(0);
    const lines = init.lines();
    const asked = indexOf(lines, /s6-svscanctl -t: stopping the container/);
    expect(asked).toBeGreaterThan(-1);
    expect(indexOf(lines, /stopping services/)).toBeGreaterThan(asked);
    expect(fs.existsSync(path.join(scan, '.s6-svscan/lifeboat.sock'))).toBe(false);
  });
});

describe('an app service whose finish stops the container (s6-overlay\'s pattern)', () => {
  it('runs the finish, stops everything, exits', async () => {
    const root = tmpDir('lifeboat-s6-');
    const scan = path.join(root, 'scan');
    const services = path.join(root, 'services.d');
    makeService(services, 'other', 'exec sleep 1000');
    makeService(services, 'app', 'echo app done; exit 0', { finish: `exec '${process.execPath}' '${path.join(bin, 's6-svscanctl')}' -t '${scan}'` });
    const init = await startInit([], { env: { LIFEBOAT_SERVICES_DIR: services, LIFEBOAT_SCAN_DIRS: scan } });
    const { code } = await within(init.done, 30_000).then((r) => (r.done ? r.value : (init.signal('SIGKILL'), { code: -1 })));
    const lines = init.lines();
    expect(code).toBe(0);
    expect(indexOf(lines, /s6-svscanctl -t: stopping the container/)).toBeGreaterThan(indexOf(lines, /app \| app done/));
    expect(lines.filter((l) => /service exited: restarting service=app/.test(l)).length).toBeLessThanOrEqual(1);
  });
});

describe('a longrun of the s6-overlay v3 tree', () => {
  it('has its directory under /run/service-style scan dirs: s6-svstat and s6-svc -d work on it', async () => {
    const root = tmpDir('lifeboat-s6-');
    const scan = path.join(root, 'scan');
    const tree = path.join(root, 's6-overlay');
    const v3 = path.join(tree, 's6-rc.d');
    for (const [file, body] of Object.entries({ 'user/type': 'bundle\n', 'user/contents.d/v3web': '', 'v3web/type': 'longrun\n' })) {
      fs.mkdirSync(path.dirname(path.join(v3, file)), { recursive: true });
      fs.writeFileSync(path.join(v3, file), body);
    }
    fs.writeFileSync(path.join(v3, 'v3web/run'), '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 });
    const init = await startInit([], { env: { LIFEBOAT_S6_OVERLAY_DIR: tree, LIFEBOAT_SCAN_DIRS: scan } });
    try {
      await init.waitFor(/no app command/);
      const dir = path.join(scan, 'v3web');
      const st = await waitUntil(async () => {
        const r = await s6('s6-svstat', '-p', dir);
        return r.code === 0 && Number(r.out) > 0 ? Number(r.out) : undefined;
      }, { what: 'v3web to be up' });
      expect(alive(st)).toBe(true);
      expect(await s6('s6-svc', '-wD', '-T', '10000', '-d', dir)).toMatchObject({ code: 0, err: '' });
      expect(alive(st)).toBe(false);
      expect((await s6('s6-svstat', '-u', dir)).out).toBe('false');
    } finally {
      init.signal('SIGTERM');
      expect((await init.done).code).toBe(0);
    }
  });
});
