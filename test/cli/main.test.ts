import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/errors.js';
import { COMMANDS, main } from '../../src/cli/main.js';
import { captureOutput } from '../helpers/capture.js';
import { CLI, ROOT, lifeboat } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('lifeboat (built CLI, end to end)', () => {
  it.each([['version'], ['-version'], ['--version']])('%s prints the version, exit 0', async (arg) => {
    const r = await lifeboat([arg]);
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, `lifeboat v${VERSION}`, '']);
  });

  it('runs through a symlink, as npm links the bin', async () => {
    const link = path.join(tmpDir(), 'lifeboat');
    fs.symlinkSync(CLI, link);
    const proc = execa(process.execPath, [link, 'version'], { reject: false });
    captureOutput(proc, 'lifeboat-version');
    const r = await proc;
    expect([r.exitCode, r.stdout]).toEqual([0, `lifeboat v${VERSION}`]);
  });

  it('with no command prints usage on stderr, exit 2', async () => {
    const r = await lifeboat([]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage:\n\n  lifeboat <command> [arguments]');
    expect(r.stderr).toMatch(/^ {2}version +print the version$/m);
  });

  it('rejects an unknown command: message, then usage on stderr, exit 2', async () => {
    const r = await lifeboat(['nope']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = String(r.stderr).split('\n');
    expect(lines[0]).toBe('lifeboat: unknown command: nope');
    expect(lines).toContain('  lifeboat <command> [arguments]');
  });

  it('rejects an unknown top-level flag, exit 2', async () => {
    const r = await lifeboat(['-bogus']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).split('\n')[0]).toBe('lifeboat: unknown flag: -bogus');
  });

  it('rejects an unknown command flag: message, then that command usage on stderr, exit 2', async () => {
    const r = await lifeboat(['version', '-bogus']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = String(r.stderr).split('\n');
    expect(lines.slice(0, 3)).toEqual(['lifeboat version: unknown flag: -bogus', '', 'Usage: lifeboat version']);
  });

  it('rejects extra arguments, exit 2', async () => {
    const r = await lifeboat(['version', 'extra']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).split('\n')[0]).toBe('lifeboat version: unexpected argument: "extra"');
  });

  it.each([['-h'], ['-help'], ['--help']])('version %s prints its usage on stdout, exit 0', async (flag) => {
    const r = await lifeboat(['version', flag]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(String(r.stdout).split('\n')[0]).toBe('Usage: lifeboat version');
  });

  it.each([['-h'], ['-help'], ['--help'], ['help']])('%s prints the command list on stdout, exit 0', async (arg) => {
    const r = await lifeboat([arg]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('The commands are:');
  });

  it('help <command> prints that command usage', async () => {
    const r = await lifeboat(['help', 'version']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout).split('\n')[0]).toBe('Usage: lifeboat version');
  });
});

/** capture runs `f` while collecting what is written to stdout and stderr. */
async function capture(f: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const orig = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((chunk: string) => ((out.stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((out.stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await f(), ...out };
  } finally {
    process.stdout.write = orig.stdout;
    process.stderr.write = orig.stderr;
  }
}

describe('main: error → exit code mapping', () => {
  afterEach(() => {
    delete COMMANDS.fails;
  });

  function register(err: unknown, code = 0) {
    COMMANDS.fails = {
      summary: 'test',
      load: async () => ({
        run: async () => {
          if (err) throw err;
          return code;
        },
      }),
    };
  }

  it('a ConfigError is one line on stderr, exit 2', async () => {
    register(new ConfigError('dbs[0].path', 'required'));
    expect(await capture(() => main(['fails']))).toEqual({ code: 2, stdout: '', stderr: 'lifeboat fails: dbs[0].path: required\n' });
  });

  it('a plain UsageError is one line on stderr, exit 2', async () => {
    register(new UsageError('need a database'));
    expect(await capture(() => main(['fails']))).toEqual({ code: 2, stdout: '', stderr: 'lifeboat fails: need a database\n' });
  });

  it('any other error is one line on stderr, exit 1', async () => {
    register(new Error('download wal 00000001_00004080:\n503 SlowDown'));
    expect(await capture(() => main(['fails']))).toEqual({
      code: 1,
      stdout: '',
      stderr: 'lifeboat fails: download wal 00000001_00004080: 503 SlowDown\n',
    });
  });

  it('names the command once when the message already starts with it', async () => {
    register(new UsageError('fails: need a database'));
    expect(await capture(() => main(['fails']))).toEqual({ code: 2, stdout: '', stderr: 'lifeboat fails: need a database\n' });
  });

  it('passes through the code a command returns', async () => {
    register(undefined, 137);
    expect((await capture(() => main(['fails']))).code).toBe(137);
  });
});
