/**
 * The init as PID 1 of a new PID namespace (`unshare --pid --fork --mount-proc`, root):
 * orphans are reaped, and a signal from outside the namespace is handled. Skipped with a
 * printed reason where unshare is unavailable, except under CI=true where it must run.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { childrenOf, descendants, procStat, requireUnshare, startInit, zombiesUnder } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';

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
    // Five orphans that live until we kill them, five that exit after 0.1 s; then the app
    // waits for our SIGTERM (no children of its own, so every zombie below PID 1 is an orphan).
    const run = await startInit(['sh', '-c', 'spawn-orphan.sh 5 600; spawn-orphan.sh 5 0.1; exec trap-term.js --name app'], { pid1: true });
    await run.waitFor(/init started pid=1 reaper=pid1/);
    await run.waitFor(/^app: started/);
    // Their parent subshells have exited: the orphans were re-parented to PID 1.
    const longLived = childrenOf(run.pid).filter((p) => cmdline(p) === 'sleep 600 ');
    expect(longLived).toHaveLength(5);
    const app = childrenOf(run.pid).find((p) => cmdline(p).includes('trap-term.js'));
    expect(app).toBeDefined();
    // The short-lived ones exit by themselves and are reaped: nothing else is left below PID 1.
    const expected = [app!, ...longLived].sort((a, b) => a - b);
    await waitUntil(() => descendants(run.pid).sort((a, b) => a - b).join() === expected.join(), {
      what: 'the short-lived orphans to be reaped',
      detail: () => descendants(run.pid).map((p) => `${p} ${procStat(p)?.state} ${cmdline(p)}`).join('\n'),
    });
    // Killed, the long-lived ones become zombies of PID 1, which must reap them.
    for (const p of longLived) process.kill(p, 'SIGKILL');
    await waitUntil(() => longLived.every((p) => procStat(p) === undefined), {
      what: 'the killed orphans to be reaped',
      detail: () => longLived.map((p) => `${p} ${procStat(p)?.state ?? 'gone'}`).join('\n'),
    });
    expect(zombiesUnder(run.pid)).toBe(0);
    expect(descendants(run.pid)).toEqual([app]);
    run.signal('SIGTERM');
    expect((await run.done).code).toBe(0);
    expect(run.output()).toContain('app: got SIGTERM');
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
