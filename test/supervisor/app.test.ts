import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { spawnApp } from '../../src/supervisor/app.js';
import { exitCode } from '../../src/supervisor/signals.js';
import { childrenOf, fixture, procStat } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';

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
    expect(noInterp.spawnError?.message).toBe(`cannot run ${script}: its #! interpreter was not found`);
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
