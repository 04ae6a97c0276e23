/**
 * `lifeboat init` on an s6-overlay v2 tree kept in git with mode 0644: its scripts are made
 * executable at boot (as s6-overlay does), or run through their `#!` interpreter where the
 * tree is read-only; a script with neither is an error naming it; a missing interpreter
 * names itself. Real init, real scripts, a real read-only bind mount (unshare).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { FAST_KNOBS, fixturesEnv, makeService, runInit, startInit, waitForFileSh } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';

/** plainScript writes a `#!/bin/sh` script with mode 0644, as git checks it out without its x bit. */
function plainScript(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`);
  fs.chmodSync(file, 0o644);
  return file;
}

/** tree writes cont-init.d, services.d/app (run, finish) and cont-finish.d, every script 0644; each leaves a file in `marks`. */
function tree(): { root: string; marks: string; env: NodeJS.ProcessEnv; scripts: string[] } {
  const root = tmpDir();
  const marks = tmpDir();
  const scripts = [
    plainScript(path.join(root, 'cont-init.d/10-setup'), `echo setup ran; echo ok > ${marks}/cont-init`),
    plainScript(path.join(root, 'services.d/app/run'), `echo run ran; echo ok > ${marks}/run; exec sleep 30`),
    plainScript(path.join(root, 'services.d/app/finish'), `echo ok > ${marks}/finish`),
    plainScript(path.join(root, 'cont-finish.d/10-bye'), `echo bye ran; echo ok > ${marks}/cont-finish`),
  ];
  const env = {
    LIFEBOAT_CONT_INIT_DIR: path.join(root, 'cont-init.d'),
    LIFEBOAT_SERVICES_DIR: path.join(root, 'services.d'),
    LIFEBOAT_CONT_FINISH_DIR: path.join(root, 'cont-finish.d'),
  };
  return { root, marks, env, scripts };
}

const MARKS = ['cont-init', 'run', 'finish', 'cont-finish'];

describe.concurrent('lifeboat init: scripts that are not executable', () => {
  it('makes a 0644 tree executable at boot and runs all of it: cont-init.d, run, finish, cont-finish.d', async () => {
    const t = tree();
    const r = await runInit(['sh', '-c', `${waitForFileSh(path.join(t.marks, 'run'))}; echo app ran`], { env: t.env });
    expect(r.code, r.output).toBe(0);
    for (const m of MARKS) expect(fs.existsSync(path.join(t.marks, m)), `${m}\n${r.output}`).toBe(true);
    for (const s of t.scripts) {
      expect(fs.statSync(s).mode & 0o777, s).toBe(0o755);
      expect(r.lines).toContain(`INFO made executable, as s6-overlay does file=${s}`);
    }
    expect(r.output).toMatch(/cont-init.d\/10-setup \| setup ran/);
    expect(r.output).toMatch(/app \| run ran/);
  });

  it('rejects a script with neither an x bit nor a #! line, naming it: services.d exits 2, cont-init.d 111', async () => {
    const t = tree();
    const run = path.join(t.root, 'services.d/app/run');
    fs.writeFileSync(run, 'exec sleep 30\n');
    const svc = await runInit(['sh', '-c', 'echo app ran'], { env: t.env });
    expect(svc.code).toBe(2);
    expect(svc.output.trim()).toBe(`lifeboat init: ${run}: not executable and no #! line (chmod +x it, or start it with #!/bin/sh)`);
    const init = path.join(t.root, 'cont-init.d/10-setup');
    fs.writeFileSync(init, 'echo setup ran\n');
    const ci = await runInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONT_INIT_DIR: path.join(t.root, 'cont-init.d') } });
    expect(ci.code).toBe(111);
    expect(ci.output).toContain(`init failed: cont-init.d/10-setup failed: ${init}: not executable and no #! line`);
    expect(ci.output).not.toContain('app ran');
  });
});

describe.concurrent('lifeboat init: a missing interpreter names itself', () => {
  it('cont-init.d: `#!/usr/bin/with-contenv bash` without with-contenv stops the boot (111) naming it', async () => {
    const dir = tmpDir();
    const script = path.join(dir, '00-litestream');
    fs.writeFileSync(script, '#!/nonexistent/bin/with-contenv bash\nlitestream restore -if-replica-exists /data/db\n', { mode: 0o755 });
    const r = await runInit(['sh', '-c', 'echo app ran'], { env: { LIFEBOAT_CONT_INIT_DIR: dir } });
    expect(r.code).toBe(111);
    expect(r.lines).toContain(`ERROR init failed: cont-init.d/00-litestream failed: ${script}: interpreter /nonexistent/bin/with-contenv not found`);
  });

  it('services.d: the run file is logged naming its interpreter, and restarted', async () => {
    const services = tmpDir();
    const dir = makeService(services, 'litestream', 'exec litestream replicate');
    fs.writeFileSync(path.join(dir, 'run'), '#!/nonexistent/bin/with-contenv sh\nexec litestream replicate\n');
    const run = await startInit(['-services', services, 'sleep', '30']);
    await run.waitFor(/cannot start/);
    await run.waitFor(/service exited: restarting service=litestream code=127/);
    run.signal('SIGTERM');
    await run.done;
    expect(run.lines()).toContain(`ERROR cannot start: ${path.join(dir, 'run')}: interpreter /nonexistent/bin/with-contenv not found service=litestream error=ENOENT`);
  });
});

/** unshareArgs: a private mount namespace (as root; else in a user namespace as its root), or why there is none. */
function readOnlyMounts(): { argv: string[] } | { reason: string } {
  const argv = process.getuid?.() === 0 ? ['unshare', '--mount'] : ['unshare', '--user', '--map-root-user', '--mount'];
  const r = spawnSync(argv[0], [...argv.slice(1), 'true'], { encoding: 'utf8' });
  if (r.error) return { reason: `${argv.join(' ')}: ${r.error.message}` };
  if (r.status !== 0) return { reason: `${argv.join(' ')} failed: ${r.stderr.trim()}` };
  return { argv };
}

const mounts = readOnlyMounts();
if ('reason' in mounts) {
  if (process.env.CI === 'true') throw new Error(`CI=true but the read-only mount test cannot run: ${mounts.reason}`);
  console.warn(`skipping the read-only tree test: ${mounts.reason}`);
}

describe.runIf('argv' in mounts)('lifeboat init: a read-only tree (docker run -v ./tree:/etc:ro)', () => {
  it('runs every 0644 script through its #! interpreter, leaving the files as they are', async () => {
    const t = tree();
    // The tree bind-mounted read-only onto itself, in a mount namespace of its own.
    const ro = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"';
    const app = ['sh', '-c', `${waitForFileSh(path.join(t.marks, 'run'))}; echo app ran`];
    const argv = [...(mounts as { argv: string[] }).argv, 'sh', '-c', ro, 'sh', t.root, process.execPath, CLI, 'init', ...app];
    const r = await execa(argv[0], argv.slice(1), { env: fixturesEnv({ ...FAST_KNOBS, ...t.env }), all: true, reject: false, timeout: 60_000 });
    const out = String(r.all);
    expect(r.exitCode, out).toBe(0);
    for (const m of MARKS) expect(fs.existsSync(path.join(t.marks, m)), `${m}\n${out}`).toBe(true);
    for (const s of t.scripts) {
      expect(fs.statSync(s).mode & 0o777, s).toBe(0o644);
      expect(out).toContain(`INFO not executable and cannot be made so: running it through its #! interpreter file=${s} interpreter=/bin/sh reason=EROFS`);
    }
    expect(out).toMatch(/app \| run ran/);
    expect(out).toMatch(/cont-finish.d\/10-bye \| bye ran/);
  });
});
