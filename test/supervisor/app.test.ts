import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnApp, type AppProcess } from '../../src/supervisor/app.js';
import { exitCode } from '../../src/supervisor/signals.js';
import { childrenOf, fixture, procStat } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const quiet = { stdio: 'ignore' as const };

/** StartedApp is an app whose stdout and stderr go to a file we can read. */
interface StartedApp {
  app: AppProcess;
  output(): string;
}

/**
 * startApp spawns `argv` with its output in a file and waits until it printed `ready`
 * (the fixtures print `started` once their signal handlers are installed).
 */
async function startApp(argv: string[], ready = /started pid=/): Promise<StartedApp> {
  const file = path.join(tmpDir('lifeboat-app-out-'), 'output');
  const fd = fs.openSync(file, 'w');
  const app = spawnApp(argv, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const output = (): string => fs.readFileSync(file, 'utf8');
  await waitUntil(() => ready.test(output()) || app.exit !== undefined, { what: `${argv[0]} to print ${ready}`, detail: output });
  expect(app.exit, output()).toBeUndefined();
  return { app, output };
}

/** gone reports whether `pid` has exited (no such process, or a zombie not yet reaped). */
function gone(pid: number): boolean {
  return /^(gone|Z)$/.test(procStat(pid)?.state ?? 'gone');
}

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
    const { app } = await startApp(['sh', '-c', `${fixture('forever.js')} & wait`], /forever: started/);
    const [grandchild] = childrenOf(app.pid!);
    expect(grandchild).toBeDefined();
    expect(await app.stop('SIGTERM', 2000)).toEqual({ code: null, signal: 'SIGTERM' });
    await waitUntil(() => gone(grandchild), { what: `the grandchild ${grandchild} to die of the group's SIGTERM` });
  });

  it('stop SIGKILLs after the grace when the app ignores the signal', async () => {
    const { app, output } = await startApp([fixture('trap-term.js'), '--ignore']);
    const t0 = performance.now();
    expect(await app.stop('SIGTERM', 300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(output()).toContain('trap-term: got SIGTERM');
  });

  it('stop is cut short by the skip signal (a second TERM)', async () => {
    const { app, output } = await startApp([fixture('trap-term.js'), '--ignore']);
    const skip = new AbortController();
    const stopping = app.stop('SIGTERM', 30_000, skip.signal);
    await waitUntil(() => output().includes('trap-term: got SIGTERM'), { what: 'the app to get the SIGTERM', detail: output });
    const skipped = performance.now();
    skip.abort();
    expect(await stopping).toEqual({ code: null, signal: 'SIGKILL' });
    // Far less than the 30 s grace: the skip ended the wait.
    expect(performance.now() - skipped).toBeLessThan(10_000);
  });

  it('maps a command that does not exist to 127, naming it; spawned resolves false', async () => {
    const missing = spawnApp(['/nonexistent/app'], quiet);
    expect(await missing.spawned).toBe(false);
    expect(await missing.exited).toEqual({ code: 127, signal: null });
    expect(missing.spawnError?.message).toBe('command not found: /nonexistent/app (no such file)');
    const bare = spawnApp(['no-such-command-anywhere'], quiet);
    expect(await bare.exited).toEqual({ code: 127, signal: null });
    expect(bare.spawnError?.message).toBe('command not found: no-such-command-anywhere (not in any PATH directory)');
  });

  it('names a script whose #! interpreter is missing (127) and a file that is not executable (126)', async () => {
    const dir = tmpDir();
    const script = path.join(dir, 'script');
    fs.writeFileSync(script, '#!/nonexistent/interpreter\n', { mode: 0o755 });
    const noInterp = spawnApp([script], quiet);
    expect(await noInterp.exited).toEqual({ code: 127, signal: null });
    expect(noInterp.spawnError?.message).toBe(`${script}: interpreter /nonexistent/interpreter not found`);
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
    const notExec = spawnApp([plain], quiet);
    expect(await notExec.exited).toEqual({ code: 126, signal: null });
    expect(notExec.spawnError?.message).toBe(`cannot run ${plain}: permission denied (is it executable?)`);
  });

  it('resolves spawned true once the command runs', async () => {
    const app = spawnApp([fixture('exit-with.js'), '0'], quiet);
    expect(await app.spawned).toBe(true);
    expect(app.pid).toBeGreaterThan(0);
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });
});
