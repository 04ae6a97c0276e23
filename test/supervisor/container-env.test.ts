/**
 * The container environment saved by the built `lifeboat init` (LIFEBOAT_CONTAINER_ENV_DIR
 * pointing at a temp dir: tests never write the real /run), read by bin/with-contenv in
 * its cont-init.d scripts, services and app — as s6-overlay v2 trees use it: a cont-init.d
 * script adds a variable there, later scripts see it through with-contenv.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/log.js';
import { ENVDIR_MARKER, saveContainerEnv } from '../../src/supervisor/container-env.js';
import { ROOT } from '../helpers/cli.js';
import { makeService, runInit, waitForFileSh, writeScript } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';

const WITH_CONTENV = path.join(ROOT, 'bin/with-contenv');

describe.concurrent('lifeboat init: the container environment', () => {
  it('is saved before cont-init.d; a variable a script adds there reaches later scripts, services and the app through with-contenv', async () => {
    const envDir = path.join(tmpDir(), 'container_environment');
    const contInit = tmpDir();
    const marks = tmpDir();
    // s6-overlay v2's pattern: a cont-init.d script writes a variable into the directory.
    writeScript(path.join(contInit, '10-add'), `printf '%s\\n' 'from cont-init' > "$LIFEBOAT_CONTAINER_ENV_DIR/ADDED"`);
    fs.writeFileSync(path.join(contInit, '20-read'), `#!${WITH_CONTENV} sh\necho "cont-init sees ADDED=$ADDED"\n`, { mode: 0o755 });
    const services = tmpDir();
    const dir = makeService(services, 'svc', '');
    fs.writeFileSync(path.join(dir, 'run'), `#!${WITH_CONTENV} sh\necho "$ADDED|$SECRET_ISH" > ${marks}/svc\nexec sleep 30\n`);
    const app = ['sh', '-c', `${waitForFileSh(path.join(marks, 'svc'))}; echo "app without: ADDED=$ADDED"; ${WITH_CONTENV} sh -c 'echo "app with: ADDED=$ADDED"'`];
    const r = await runInit(['-services', services, ...app], {
      env: { LIFEBOAT_CONTAINER_ENV_DIR: envDir, LIFEBOAT_CONT_INIT_DIR: contInit, SECRET_ISH: 'two\nlines' },
    });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('cont-init.d/20-read | cont-init sees ADDED=from cont-init');
    expect(fs.readFileSync(path.join(marks, 'svc'), 'utf8')).toBe('from cont-init|two\nlines\n');
    expect(r.lines).toContain('app without: ADDED=');
    expect(r.lines).toContain('app with: ADDED=from cont-init');
    // The format: a file per variable, its value and a newline; private to the init's user.
    expect(fs.readFileSync(path.join(envDir, 'SECRET_ISH'), 'utf8')).toBe('two\nlines\n');
    expect(fs.readFileSync(path.join(envDir, 'LIFEBOAT_CONTAINER_ENV_DIR'), 'utf8')).toBe(`${envDir}\n`);
    expect(fs.statSync(envDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(envDir, 'SECRET_ISH')).mode & 0o777).toBe(0o600);
  });

  it('is replaced at the next boot (what a script added is gone); S6_KEEP_ENV=1 saves nothing', async () => {
    const envDir = path.join(tmpDir(), 'container_environment');
    const first = await runInit(['sh', '-c', `echo stale > "$LIFEBOAT_CONTAINER_ENV_DIR/STALE"`], { env: { LIFEBOAT_CONTAINER_ENV_DIR: envDir, BOOT: '1' } });
    expect(first.code, first.output).toBe(0);
    expect(fs.existsSync(path.join(envDir, 'STALE'))).toBe(true);
    const second = await runInit(['true'], { env: { LIFEBOAT_CONTAINER_ENV_DIR: envDir, BOOT: '2' } });
    expect(second.code, second.output).toBe(0);
    expect(fs.existsSync(path.join(envDir, 'STALE'))).toBe(false);
    expect(fs.readFileSync(path.join(envDir, 'BOOT'), 'utf8')).toBe('2\n');
    const keep = path.join(tmpDir(), 'container_environment');
    const kept = await runInit(['true'], { env: { LIFEBOAT_CONTAINER_ENV_DIR: keep, S6_KEEP_ENV: '1' } });
    expect(kept.code, kept.output).toBe(0);
    expect(fs.existsSync(keep)).toBe(false);
  });

  it('never replaces a directory it did not write (a knob pointing at /data by mistake): one warning, the boot goes on', async () => {
    const data = tmpDir();
    fs.writeFileSync(path.join(data, 'app.db'), 'precious');
    const r = await runInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONTAINER_ENV_DIR: data } });
    expect(r.code, r.output).toBe(0);
    expect(fs.readdirSync(data)).toEqual(['app.db']);
    expect(r.lines).toContain(
      `WARN cannot save the container environment: with-contenv keeps the environment it is given dir=${data} error="${data} holds files the init did not write: not replacing it"`,
    );
    expect(r.lines).toContain('app ran');
  });
});

describe('saveContainerEnv', () => {
  it('writes a directory reached through a symlink to another only once (Debian: /var/run -> /run)', () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'run'));
    fs.symlinkSync(path.join(root, 'run'), path.join(root, 'var-run'));
    const dirs = [path.join(root, 'run/s6/container_environment'), path.join(root, 'var-run/s6/container_environment')];
    const written = saveContainerEnv(dirs, { FOO: 'bar', 'NOT=A NAME': 'x', '.dot': 'x' }, new Logger({ write: () => {} }));
    expect(written).toEqual([dirs[0]]);
    expect(fs.readdirSync(dirs[1]).sort()).toEqual([ENVDIR_MARKER, 'FOO'].sort());
    expect(fs.statSync(path.join(root, 'run/s6')).mode & 0o777).toBe(0o755);
  });
});
