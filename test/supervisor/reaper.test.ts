import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/log.js';
import { loadAddon } from '../../src/native.js';
import { Reaper, trackSpawns } from '../../src/supervisor/reaper.js';
import { childrenOf, fixture, procStat } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';

const lines: string[] = [];
const log = new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) });

/** zombieChildren counts our own children that are zombies. */
function zombieChildren(): number {
  return childrenOf(process.pid).filter((p) => procStat(p)?.state === 'Z').length;
}

/** orphans runs spawn-orphan.sh and returns the orphans' pids. */
async function orphans(n: number, secs: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)(fixture('spawn-orphan.sh'), [String(n), String(secs)]);
  return [...stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

describe('reaper addon', () => {
  it('loads, and reports why when it cannot', () => {
    expect(loadAddon().addon).toBeDefined();
    expect(loadAddon('/nonexistent/reaper.node').error).toMatch(/Cannot find module/);
  });

  it('without the addon the init runs, warning once that orphans will not be reaped', () => {
    const r = Reaper.start(log, '/nonexistent/reaper.node');
    expect(r.role).toBe('none');
    expect(r.scan()).toBe(0);
    expect(lines.filter((l) => l.startsWith('WARN reaper addon not loaded: orphaned processes will not be reaped'))).toHaveLength(1);
  });
});

describe('Reaper as a subreaper', () => {
  it('gets orphans re-parented to it; scan reaps exactly the zombies', async () => {
    const reaper = Reaper.start(log);
    reaper.stop();
    expect(reaper.role).toBe('subreaper');
    const pids = await orphans(4, 0.3);
    expect(pids).toHaveLength(4);
    for (const pid of pids) expect(procStat(pid)?.ppid).toBe(process.pid);
    await waitUntil(() => pids.every((pid) => procStat(pid)?.state === 'Z'), { what: `the orphans ${pids.join(' ')} to exit (zombies)` });
    expect(zombieChildren()).toBe(4);
    expect(reaper.scan()).toBe(4);
    expect(zombieChildren()).toBe(0);
  });

  it('reaps orphans on its own while tracked children keep their exit codes', async () => {
    const reaper = Reaper.start(log);
    expect(trackSpawns().size).toBe(0);
    const codes = Array.from({ length: 30 }, (_, i) => i + 1);
    const exits = codes.map(
      (code) =>
        new Promise<number | null>((resolve) => {
          // The orphans outlive their parent subshell by far (0.5 s): one that exited before
          // its parent would be reaped by that parent, never reaching us.
          const child = spawn('sh', ['-c', `${fixture('spawn-orphan.sh')} 2 0.5 >/dev/null; exit ${code}`]);
          child.on('exit', (c) => resolve(c));
        }),
    );
    expect(await Promise.all(exits)).toEqual(codes);
    await waitUntil(() => reaper.reaped >= 60, { what: '60 orphans reaped', detail: () => `reaped: ${reaper.reaped}` });
    reaper.stop();
    expect(reaper.reaped).toBe(60);
    expect(zombieChildren()).toBe(0);
    expect(trackSpawns().size).toBe(0);
  });
});
