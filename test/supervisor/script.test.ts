/**
 * script.ts: `#!` lines read as Linux reads them, a user's script made executable or run
 * through its interpreter, and a failed start described by what is missing — checked
 * against real spawns (the kernel's own answer), not assumed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Logger } from '../../src/log.js';
import { describeSpawnError, parseShebang, readShebang, scriptCommand } from '../../src/supervisor/script.js';
import { tmpDir } from '../helpers/tmp.js';

/** spawnError spawns `argv` for real and returns the error Node reports (undefined when it started). */
function spawnError(argv: string[]): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    child.once('spawn', () => child.once('exit', () => resolve(undefined)));
    child.once('error', (err) => resolve(err));
  });
}

function write(file: string, text: string, mode: number): string {
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  return file;
}

describe('parseShebang', () => {
  it('splits the interpreter from one argument, as the kernel does', () => {
    expect(parseShebang('#!/usr/bin/with-contenv bash\necho hi\n')).toEqual({ interpreter: '/usr/bin/with-contenv', arg: 'bash' });
    expect(parseShebang('#! /bin/sh\n')).toEqual({ interpreter: '/bin/sh' });
    expect(parseShebang('#!/usr/bin/execlineb -S0  \n')).toEqual({ interpreter: '/usr/bin/execlineb', arg: '-S0' });
    expect(parseShebang('#!/usr/bin/env -S node --no-warnings\n')).toEqual({ interpreter: '/usr/bin/env', arg: '-S node --no-warnings' });
    expect(parseShebang('#!/bin/sh\r\n')).toEqual({ interpreter: '/bin/sh\r' });
    expect(parseShebang('#!\n')).toBeUndefined();
    expect(parseShebang('echo hi\n')).toBeUndefined();
    expect(readShebang('/nonexistent/file')).toBeUndefined();
  });
});

describe('scriptCommand', () => {
  it('runs an executable file as it is, untouched', () => {
    const file = write(path.join(tmpDir(), 'run'), '#!/bin/sh\n', 0o750);
    expect(scriptCommand(file)).toEqual({ file, argv: [file] });
    expect(fs.statSync(file).mode & 0o777).toBe(0o750);
  });

  it('makes a 0644 script with a #! line executable, an x bit where there is an r bit', () => {
    const dir = tmpDir();
    const a = write(path.join(dir, 'a'), '#!/bin/sh\necho a\n', 0o644);
    const b = write(path.join(dir, 'b'), '#!/bin/sh\necho b\n', 0o600);
    const lines: string[] = [];
    const log = new Logger({ timestamps: false, write: (l) => lines.push(l) });
    expect(scriptCommand(a, log)).toEqual({ file: a, argv: [a] });
    expect(scriptCommand(b, log)).toEqual({ file: b, argv: [b] });
    expect(fs.statSync(a).mode & 0o777).toBe(0o755);
    expect(fs.statSync(b).mode & 0o777).toBe(0o700);
    expect(lines).toEqual([`INFO made executable, as s6-overlay does file=${a}\n`, `INFO made executable, as s6-overlay does file=${b}\n`]);
  });

  it('rejects a file neither executable nor starting with #!, naming it', () => {
    const file = write(path.join(tmpDir(), 'plain'), 'echo hi\n', 0o644);
    let err: unknown;
    try {
      scriptCommand(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`${file}: not executable and no #! line (chmod +x it, or start it with #!/bin/sh)`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
  });
});

describe('describeSpawnError (real spawns)', () => {
  it('names a missing command, on PATH or by path', async () => {
    const bare = await spawnError(['no-such-command-anywhere']);
    expect(describeSpawnError('no-such-command-anywhere', bare!)).toBe('command not found: no-such-command-anywhere (not in any PATH directory)');
    const abs = await spawnError(['/nonexistent/app']);
    expect(describeSpawnError('/nonexistent/app', abs!)).toBe('command not found: /nonexistent/app (no such file)');
  });

  it('names the missing interpreter of a #! line (ENOENT does not)', async () => {
    const dir = tmpDir();
    const run = write(path.join(dir, 'run'), '#!/usr/bin/with-contenv-missing bash\nexec app\n', 0o755);
    const err = await spawnError([run]);
    expect(err?.code).toBe('ENOENT');
    expect(describeSpawnError(run, err!)).toBe(`${run}: interpreter /usr/bin/with-contenv-missing not found`);
  });

  it("follows an interpreter that is a script itself down to the one missing (with-contenv's execlineb)", async () => {
    const dir = tmpDir();
    const withContenv = write(path.join(dir, 'with-contenv'), '#!/nonexistent/execlineb -S0\n$@\n', 0o755);
    const run = write(path.join(dir, 'run'), `#!${withContenv} bash\nexec app\n`, 0o755);
    const err = await spawnError([run]);
    expect(err?.code).toBe('ENOENT');
    expect(describeSpawnError(run, err!)).toBe(`${withContenv}: interpreter /nonexistent/execlineb not found`);
  });

  it('says so when a CRLF script names "/bin/sh\\r"', async () => {
    const run = write(path.join(tmpDir(), 'run'), '#!/bin/sh\r\necho hi\r\n', 0o755);
    const err = await spawnError([run]);
    expect(describeSpawnError(run, err!)).toBe(`${run}: interpreter "/bin/sh\\r" (the script has CRLF line endings) not found`);
  });

  it('names the script when its interpreter, run directly, is missing', async () => {
    const run = path.join(tmpDir(), 'run');
    const err = await spawnError(['/nonexistent/sh', run]);
    expect(describeSpawnError('/nonexistent/sh', err!, run)).toBe(`${run}: interpreter /nonexistent/sh not found`);
  });

  it('names a file that is not executable', async () => {
    const file = write(path.join(tmpDir(), 'plain'), 'echo hi\n', 0o644);
    const err = await spawnError([file]);
    expect(describeSpawnError(file, err!)).toBe(`cannot run ${file}: permission denied (is it executable?)`);
  });
});
