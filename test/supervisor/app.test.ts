import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { spawnApp } from '../../src/supervisor/app.js';
import { exitCode } from '../../src/supervisor/signals.js';
import { childrenOf, fixture, procStat } from '../helpers/procs.js';

const quiet = { stdio: 'ignore' as const };

describe('spawnApp', () => {
  it('runs the app in its own process group (pgid = pid, not ours)', async () => {
    const app = spawnApp([fixture('forever.js')], quiet);
    const stat = fs.readFileSync(`/proc/${app.pid}/stat`, 'utf8');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgid).toBe(app.pid);
    expect(pgid).not.toBe(process.pid);
    await app.stop('SIGTERM', 1000);
  });

  it('resolves the exit code, and the signal of a killed app', async () => {
    expect(await spawnApp([fixture('exit-with.js'), '3'], quiet).exited).toEqual({ code: 3, signal: null });
    const killed = await spawnApp([fixture('exit-with.js'), 'SIGKILL'], quiet).exited;
    expect(killed).toEqual({ code: null, signal: 'SIGKILL' });
    expect(exitCode(killed)).toBe(137);
  });

  it('sends signals to the whole group: a grandchild gets them too', async () => {
    const app = spawnApp(['sh', '-c', `${fixture('forever.js')} & wait`], quiet);
    let grandchild: number | undefined;
    while (grandchild === undefined) {
      [grandchild] = childrenOf(app.pid!);
      await sleep(20);
    }
    expect(await app.stop('SIGTERM', 2000)).toEqual({ code: null, signal: 'SIGTERM' });
    await sleep(100);
    expect(procStat(grandchild)?.state ?? 'gone').toMatch(/^(gone|Z)$/);
  });

  it('stop SIGKILLs after the grace when the app ignores the signal', async () => {
    const app = spawnApp([fixture('trap-term.js'), '--ignore'], quiet);
    await sleep(300);
    const t0 = performance.now();
    expect(await app.stop('SIGTERM', 300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('stop is cut short by the skip signal (a second TERM)', async () => {
    const app = spawnApp([fixture('trap-term.js'), '--ignore'], quiet);
    await sleep(300);
    const skip = new AbortController();
    const t0 = performance.now();
    const stopping = app.stop('SIGTERM', 10_000, skip.signal);
    setTimeout(() => skip.abort(), 100);
    expect(await stopping).toEqual({ code: null, signal: 'SIGKILL' });
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('maps a command that does not exist to 127, with the reason', async () => {
    const missing = spawnApp(['/nonexistent/app'], quiet);
    expect(await missing.exited).toEqual({ code: 127, signal: null });
    expect(missing.spawnError?.message).toBe('spawn /nonexistent/app: ENOENT');
  });
});
