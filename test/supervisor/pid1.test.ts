/**
 * The init as PID 1 of a new PID namespace (`unshare --pid --fork --mount-proc`, root):
 * orphans are reaped, and a signal from outside the namespace is handled. Skipped with a
 * printed reason where unshare is unavailable, except under CI=true where it must run.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { childrenOf, procStat, requireUnshare, startInit, zombiesUnder } from '../helpers/procs.js';

const canUnshare = requireUnshare();

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

describe.skipIf(!canUnshare).concurrent('lifeboat init as PID 1', () => {
  it('reaps orphaned grandchildren: they come to PID 1 and none is left a zombie', async () => {
    const run = await startInit(['sh', '-c', 'spawn-orphan.sh 5 1; spawn-orphan.sh 5 0.1; sleep 3; echo app done'], { pid1: true });
    await run.waitFor(/init started pid=1 reaper=pid1/);
    await run.waitFor(/spawn-orphan: orphan/);
    await sleep(200);
    // The sleeps were started by subshells that exited: as our children, they were re-parented to us.
    const orphans = childrenOf(run.pid).filter((p) => /sleep/.test(cmdline(p)) && procStat(p)?.state !== 'Z');
    expect(orphans.length).toBeGreaterThanOrEqual(5);
    // A zombie stays in /proc until reaped: every orphan must vanish, not linger as Z.
    for (let i = 0; i < 150 && orphans.some((p) => procStat(p) !== undefined); i++) await sleep(20);
    expect(orphans.filter((p) => procStat(p) !== undefined)).toEqual([]);
    expect(zombiesUnder(run.pid)).toBe(0);
    expect((await run.done).code).toBe(0);
    expect(run.output()).toContain('app done');
  });

  it('handles a SIGTERM sent from outside the namespace: the app gets it, the init exits with its code', async () => {
    const run = await startInit(['trap-term.js', '--exit', '7'], { pid1: true });
    await run.waitFor(/trap-term: started/);
    process.kill(run.pid, 'SIGTERM');
    const { code } = await run.done;
    expect(code).toBe(7);
    expect(run.output()).toContain('trap-term: got SIGTERM');
  });

  it('an app killed by SIGKILL makes the container exit 137', async () => {
    const run = await startInit(['forever.js'], { pid1: true });
    await run.waitFor(/forever: started pid=/);
    const app = childrenOf(run.pid).find((p) => cmdline(p).includes('forever.js'));
    expect(app).toBeDefined();
    process.kill(app!, 'SIGKILL');
    expect((await run.done).code).toBe(137);
  });
});
