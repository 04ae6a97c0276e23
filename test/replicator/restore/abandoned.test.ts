/** abandoned: which build directories of killed restores are provably orphaned. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isAbandoned, ownerOf, type Owner } from '../../../src/replicator/restore/abandoned.js';

const me: Owner = { boot: 'b1', host: 'h1', pidns: 'pid:[1]', pid: 100, start: '500' };

describe('isAbandoned', () => {
  const alive = (o: Owner) => (pid: number) => (pid === o.pid ? o : undefined);

  it('same boot and PID namespace: gone, or the pid now belongs to a later process', () => {
    const owner = { ...me, pid: 42, start: '77' };
    expect(isAbandoned(owner, me, () => undefined)).toBe(true);
    expect(isAbandoned(owner, me, alive({ ...owner, start: '90' }))).toBe(true);
    expect(isAbandoned(owner, me, alive(owner))).toBe(false);
  });

  it('another PID namespace on the same boot (another container on the volume): left alone', () => {
    expect(isAbandoned({ ...me, pidns: 'pid:[2]', pid: 42 }, me, () => undefined)).toBe(false);
  });

  it('another boot: gone if the same host restarted, left alone if another host wrote it', () => {
    expect(isAbandoned({ ...me, boot: 'b0' }, me, () => undefined)).toBe(true);
    expect(isAbandoned({ ...me, boot: 'b0', host: 'h2' }, me, () => undefined)).toBe(false);
  });
});

describe('ownerOf', () => {
  it('reads this process, and nothing for a process that has exited', () => {
    const self = ownerOf(process.pid);
    expect(self?.pid).toBe(process.pid);
    expect(self?.start).toMatch(/^\d+$/);
    const done = spawnSync('true');
    expect(ownerOf(done.pid!)).toBeUndefined();
  });
});
