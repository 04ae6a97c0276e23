import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../../src/log.js';
import { readServiceDir } from '../../src/supervisor/service-dir.js';
import type { Exit } from '../../src/supervisor/service-table.js';
import { Service } from '../../src/supervisor/service.js';
import { fixturesEnv, makeService, procStat } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const lines: string[] = [];
const log = new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) });
const running: Service[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** service builds a Service from a fresh services.d/<name>/ with `run` and setting files. */
function service(name: string, run: string, files: Record<string, string> = {}): { svc: Service; dir: string } {
  const dir = makeService(tmpDir(), name, run, files);
  const svc = new Service(readServiceDir(dir), { log, prefix: true, env: fixturesEnv() });
  running.push(svc);
  return { svc, dir };
}

/** startTimes reads the `date +%s%3N` lines a run script appended to `starts`. */
function startTimes(dir: string): number[] {
  const file = path.join(dir, 'starts');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

/** waitForFile waits until the run script of the service in `dir` has created `name` there. */
async function waitForFile(dir: string, name: string): Promise<void> {
  await waitUntil(() => fs.existsSync(path.join(dir, name)), { what: `${path.join(dir, name)} to exist` });
}

function once<T extends unknown[]>(svc: Service, event: string): Promise<T> {
  return new Promise((resolve) => svc.once(event, (...args: unknown[]) => resolve(args as T)));
}

describe('Service with real processes', () => {
  it('restarts a crashing service at least 1 s apart, backing off 1 s then 2 s', async () => {
    const { svc, dir } = service('crash', 'date +%s%3N >> starts\nexit 1');
    const restarts: number[] = [];
    svc.on('restart', (delay: number, exit: Exit) => {
      expect(exit).toEqual({ code: 1, signal: null });
      restarts.push(delay);
    });
    svc.start();
    await waitUntil(() => startTimes(dir).length >= 3, { what: 'the third start of the crashing service', timeoutMs: 20_000 });
    const [t0, t1, t2] = startTimes(dir);
    // Each gap is at least its backoff, and less than the next one up (a 2 s first backoff,
    // a 4 s second one would be at least that long).
    expect(t1 - t0).toBeGreaterThanOrEqual(1000);
    expect(t1 - t0).toBeLessThan(2000);
    expect(t2 - t1).toBeGreaterThanOrEqual(2000);
    expect(t2 - t1).toBeLessThan(4000);
    expect(restarts.slice(0, 2)).toEqual([1000, 2000]);
    expect(lines).toContain('INFO service exited: restarting service=crash code=1 delay_ms=1000\n');
    expect(lines).toContain('INFO service exited: restarting service=crash code=1 delay_ms=2000\n');
  }, 30_000);

  it('runs finish with (code, 0, name); finish exiting 125 stops the restarts', async () => {
    const { svc, dir } = service('once', 'date +%s%3N >> starts\nexit 3', { finish: 'echo "$@" > finish-args\nexit 125' });
    const failed = once<[Exit]>(svc, 'failed');
    const restarts: number[] = [];
    svc.on('restart', (delay: number) => restarts.push(delay));
    svc.start();
    expect(await failed).toEqual([{ code: 3, signal: null }]);
    expect(fs.readFileSync(path.join(dir, 'finish-args'), 'utf8')).toBe('3 0 once\n');
    expect(svc.state.phase).toBe('failed');
    // Settled: `failed` arms no timer. Watch past the first backoff (1 s) all the same.
    await sleep(1500);
    expect(restarts).toEqual([]);
    expect(startTimes(dir)).toHaveLength(1);
    expect(svc.state.phase).toBe('failed');
  });

  it('passes 256 and the signal number to finish when the service was killed', async () => {
    const { svc, dir } = service('killed', 'kill -9 $$', { finish: 'echo "$@" > finish-args\nexit 125' });
    const failed = once<[Exit]>(svc, 'failed');
    svc.start();
    expect(await failed).toEqual([{ code: null, signal: 'SIGKILL' }]);
    expect(fs.readFileSync(path.join(dir, 'finish-args'), 'utf8')).toBe('256 9 killed\n');
  });

  it('is starting until it writes a newline on its notification-fd, then ready', async () => {
    const gate = path.join(tmpDir(), 'go');
    const { svc, dir } = service('notify', `touch started\nwhile [ ! -e ${gate} ]; do sleep 0.02; done\nexec ready-after.js 400 3`, {
      'notification-fd': '3',
    });
    const ready = once(svc, 'ready');
    svc.start();
    await waitForFile(dir, 'started');
    // Running, held at the gate, no newline yet.
    expect(svc.state.phase).toBe('starting');
    const t0 = performance.now();
    fs.writeFileSync(gate, '');
    await ready;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    expect(svc.state.phase).toBe('up');
  });

  it('escalates to SIGKILL after timeout-kill when the down-signal is ignored', async () => {
    const { svc, dir } = service('stubborn', "trap 'echo TERM >> signals' TERM\ntouch trapped\nwhile :; do sleep 0.05; done", {
      'timeout-kill': '300',
    });
    svc.start();
    await waitForFile(dir, 'trapped');
    const t0 = performance.now();
    const exit = await svc.stop();
    const took = performance.now() - t0;
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
    expect(fs.readFileSync(path.join(dir, 'signals'), 'utf8')).toContain('TERM');
  });

  it('stops with its down-signal, and reports the exit that answered it', async () => {
    const { svc, dir } = service('hup', "trap 'echo HUP >> signals; exit 0' HUP\ntrap '' TERM\ntouch trapped\nwhile :; do sleep 0.05; done", {
      'down-signal': 'SIGHUP',
    });
    svc.start();
    await waitForFile(dir, 'trapped');
    expect(await svc.stop()).toEqual({ code: 0, signal: null });
    expect(fs.readFileSync(path.join(dir, 'signals'), 'utf8')).toBe('HUP\n');
  });

  it('sends SIGCONT after the down-signal and never SIGKILLs a service without timeout-kill (s6)', async () => {
    const run = "trap 'echo TERM >> signals' TERM\ntrap 'echo CONT >> signals' CONT\ntouch trapped\nwhile :; do sleep 0.05; done";
    const { svc, dir } = service('nokill', run);
    svc.start();
    await waitForFile(dir, 'trapped');
    const stopped = svc.stop();
    const signals = path.join(dir, 'signals');
    await waitUntil(() => fs.existsSync(signals) && fs.readFileSync(signals, 'utf8').includes('CONT'), { what: 'TERM then CONT' });
    expect(fs.readFileSync(signals, 'utf8').trim().split('\n').slice(0, 2)).toEqual(['TERM', 'CONT']);
    // Still running well past the old 1 s default grace, in `stopping`: no SIGKILL timer.
    await sleep(1_500);
    expect(svc.state.phase).toBe('stopping');
    expect(procStat(svc.pid!)?.state).not.toBe('Z');
    process.kill(-svc.pid!, 'SIGKILL');
    expect(await stopped).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('signals the whole process group of a run script that does not exec', async () => {
    const { svc, dir } = service('group', 'forever.js > child-out &\necho $! > child-pid\nwait');
    svc.start();
    const pidFile = path.join(dir, 'child-pid');
    await waitUntil(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', { what: 'the child pid in child-pid' });
    const child = Number(fs.readFileSync(pidFile, 'utf8'));
    await svc.stop();
    await waitUntil(() => /^(gone|Z)$/.test(procStat(child)?.state ?? 'gone'), { what: `the background child ${child} to die of the group's signal` });
  });

  it('reports a run file whose interpreter is missing as exit 127 and restarts it', async () => {
    const { svc, dir } = service('bad', 'exit 0');
    fs.writeFileSync(path.join(dir, 'run'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
    const [delay, exit] = await new Promise<[number, Exit]>((resolve) => {
      svc.once('restart', (d: number, e: Exit) => resolve([d, e]));
      svc.start();
    });
    expect(exit).toEqual({ code: 127, signal: null });
    expect(delay).toBeGreaterThan(900);
    const run = path.join(dir, 'run');
    expect(lines).toContain(`ERROR cannot start: ${run}: interpreter /nonexistent/interpreter not found service=bad error=ENOENT\n`);
  });
});
