/**
 * The init's signals beyond TERM, with real signals: SIGPWR stops the container; with an
 * s6-overlay v3 tree the signals mean what s6-linux-init gives them in a container (TERM
 * and USR2 halt, INT reboots, USR1 and PWR power off: each stops it; QUIT, HUP and WINCH do
 * nothing); S6_CMD_RECEIVE_SIGNALS sends them to the app instead while it runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInit } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';

/** s6Tree is an s6-overlay dir holding a v3 tree with an empty `user` bundle. */
function s6Tree(): string {
  const base = tmpDir('lifeboat-s6sig-');
  fs.mkdirSync(path.join(base, 's6-rc.d', 'user', 'contents.d'), { recursive: true });
  fs.writeFileSync(path.join(base, 's6-rc.d', 'user', 'type'), 'bundle\n');
  return base;
}

describe.concurrent('lifeboat init: SIGPWR and s6-overlay signals', () => {
  it('SIGPWR stops the container; the app gets SIGTERM', async () => {
    const run = await startInit(['trap-term.js', '--exit', '4']);
    await run.waitFor(/trap-term: started/);
    run.signal('SIGPWR');
    expect((await run.done).code, run.output()).toBe(4);
    expect(run.lines()).toEqual(expect.arrayContaining(['INFO received stop signal signal=SIGPWR', 'trap-term: got SIGTERM']));
  });

  it('with a v3 tree: QUIT, HUP and WINCH are ignored; USR1 stops the container, the app getting SIGTERM', async () => {
    const env = { LIFEBOAT_S6_OVERLAY_DIR: s6Tree() };
    const run = await startInit(['trap-term.js', '--exit', '0'], { env });
    await run.waitFor(/trap-term: started/);
    for (const sig of ['SIGQUIT', 'SIGHUP', 'SIGWINCH'] as const) {
      run.signal(sig);
      await run.waitFor(new RegExp(`signal ignored, as under s6-overlay signal=${sig}$`));
    }
    expect(run.child.exitCode).toBeNull();
    run.signal('SIGUSR1');
    expect((await run.done).code, run.output()).toBe(0);
    expect(run.lines().filter((l) => l.startsWith('trap-term: got '))).toEqual(['trap-term: got SIGTERM']);
  });

  it.each([
    ['SIGUSR2', 'SIGTERM'],
    ['SIGPWR', 'SIGTERM'],
    ['SIGINT', 'SIGINT'],
  ] as const)('with a v3 tree: %s stops the container, the app getting %s', async (sig, got) => {
    const run = await startInit(['trap-term.js', '--exit', '3'], { env: { LIFEBOAT_S6_OVERLAY_DIR: s6Tree() } });
    await run.waitFor(/trap-term: started/);
    run.signal(sig);
    expect((await run.done).code, run.output()).toBe(3);
    expect(run.lines()).toEqual(expect.arrayContaining([`INFO received stop signal signal=${sig}`, `trap-term: got ${got}`]));
  });

  it('S6_CMD_RECEIVE_SIGNALS=1: USR1 and TERM go to the app; the container stops when it exits, with its code', async () => {
    const run = await startInit(['trap-term.js', '--exit', '6'], { env: { S6_CMD_RECEIVE_SIGNALS: '1', LIFEBOAT_S6_OVERLAY_DIR: s6Tree() } });
    await run.waitFor(/trap-term: started/);
    run.signal('SIGUSR1');
    await run.waitFor(/trap-term: got SIGUSR1/);
    expect(run.child.exitCode).toBeNull();
    run.signal('SIGTERM');
    expect((await run.done).code, run.output()).toBe(6);
    const lines = run.lines();
    expect(lines).toContain('INFO app exited code=6');
    expect(lines.filter((l) => l.includes('received stop signal'))).toEqual([]);
    expect(lines.filter((l) => l.includes('not supported'))).toEqual([]);
  });
});
