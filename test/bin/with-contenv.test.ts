/**
 * bin/with-contenv (POSIX sh) with real child processes: it replaces the environment with
 * the saved one (PATH kept unless saved, and the init's per-child variables), reads files as s6-envdir -Lf does, reads back
 * exactly what the init writes (writeEnvDir), keeps the environment with S6_KEEP_ENV or
 * without a saved one, and works as a `#!` interpreter.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { writeEnvDir } from '../../src/supervisor/container-env.js';
import { ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const WITH_CONTENV = path.join(ROOT, 'bin/with-contenv');

/** PRINT_ENV prints the environment as JSON (so values with newlines survive). */
const PRINT_ENV = [process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'];

/** withContenv runs bin/with-contenv ARGS with exactly `env`. */
function withContenv(args: string[], env: Record<string, string>) {
  return execa(WITH_CONTENV, args, { env, extendEnv: false, reject: false, all: true });
}

async function envOf(env: Record<string, string>): Promise<Record<string, string>> {
  const r = await withContenv(PRINT_ENV, env);
  expect(r.exitCode, String(r.all)).toBe(0);
  return JSON.parse(String(r.stdout)) as Record<string, string>;
}

function envdir(files: Record<string, string | Buffer>): string {
  const dir = tmpDir();
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
  return dir;
}

const PATH = process.env.PATH ?? '/usr/bin:/bin';

function withoutPwd(env: Record<string, string>): Record<string, string> {
  const { PWD: _pwd, ...rest } = env;
  return rest;
}

describe('with-contenv', () => {
  it('runs the command with the saved environment only, keeping PATH (s6-overlay v3: emptyenv -p, s6-envdir -Lf)', async () => {
    const dir = envdir({
      FOO: 'bar baz',
      TWO_LINES: 'a\nb\n',
      NUL: Buffer.from('x\0y'),
      UNSET_ME: '',
      '.hidden': 'no',
      'A=B': 'no',
      '-dash': 'yes',
    });
    const env = await envOf({ PATH, LIFEBOAT_CONTAINER_ENV_DIR: dir, UNSET_ME: 'was set', OTHER: 'not saved' });
    expect(env).toEqual({ PATH, FOO: 'bar baz', TWO_LINES: 'a\nb', NUL: 'x\ny', '-dash': 'yes' });
  });

  it("keeps what the init gives each child over the saved environment: LIFEBOAT_INIT_REPLICATES, LIFEBOAT_LOG_TIMESTAMPS", async () => {
    const dir = envdir({ FOO: 'bar', LIFEBOAT_LOG_TIMESTAMPS: '1' });
    const given = { PATH, LIFEBOAT_CONTAINER_ENV_DIR: dir, LIFEBOAT_INIT_REPLICATES: '/data/db\n/data/other db', LIFEBOAT_LOG_TIMESTAMPS: '0' };
    expect(await envOf(given)).toEqual({ PATH, FOO: 'bar', LIFEBOAT_INIT_REPLICATES: '/data/db\n/data/other db', LIFEBOAT_LOG_TIMESTAMPS: '0' });
    expect(await envOf({ PATH, LIFEBOAT_CONTAINER_ENV_DIR: dir })).toEqual({ PATH, FOO: 'bar', LIFEBOAT_LOG_TIMESTAMPS: '1' });
  });

  it('takes PATH from the saved environment when it holds one', async () => {
    const dir = envdir({ PATH: '/saved/bin:/usr/bin:/bin' });
    const env = await envOf({ PATH, LIFEBOAT_CONTAINER_ENV_DIR: dir });
    expect(env.PATH).toBe('/saved/bin:/usr/bin:/bin');
  });

  it('reads back exactly what the init saves, whatever the values hold', async () => {
    const saved = {
      PATH,
      SPACES: '  leading and trailing  ',
      QUOTES: `it's "quoted" $HOME \`date\` \\ back`,
      LINES: 'one\ntwo\n\nthree\n',
      UNICODE: 'naïve — 日本',
      EQUALS: 'a=b=c',
      EMPTY: '',
    };
    const dir = path.join(tmpDir(), 'container_environment');
    writeEnvDir(dir, saved);
    expect(await envOf({ PATH: '/usr/bin:/bin', LIFEBOAT_CONTAINER_ENV_DIR: dir, DROPPED: '1' })).toEqual(saved);
  });

  it('is a no-op with S6_KEEP_ENV set to anything but 0, without a saved directory, or with the knob empty', async () => {
    const dir = envdir({ FOO: 'saved' });
    const base = { PATH, FOO: 'given', OTHER: 'kept' };
    // The same environment back (but PWD, which sh exports on its own).
    const kept = async (env: Record<string, string>) => expect(withoutPwd(await envOf(env))).toEqual(env);
    for (const keep of ['1', 'true']) await kept({ ...base, LIFEBOAT_CONTAINER_ENV_DIR: dir, S6_KEEP_ENV: keep });
    expect((await envOf({ ...base, LIFEBOAT_CONTAINER_ENV_DIR: dir, S6_KEEP_ENV: '0' })).FOO).toBe('saved');
    await kept({ ...base, LIFEBOAT_CONTAINER_ENV_DIR: path.join(dir, 'nonexistent') });
    await kept({ ...base, LIFEBOAT_CONTAINER_ENV_DIR: '' });
  });

  it("passes the command's arguments and exit code through; no command is exit 100", async () => {
    const dir = envdir({ FOO: 'saved' });
    const r = await withContenv(['sh', '-c', 'echo "$FOO|$1|$2"; exit 7', 'sh', 'a b', '-x'], { PATH, LIFEBOAT_CONTAINER_ENV_DIR: dir });
    expect(r.exitCode).toBe(7);
    expect(String(r.stdout)).toBe('saved|a b|-x');
    const none = await withContenv([], { PATH });
    expect(none.exitCode).toBe(100);
    expect(String(none.stderr)).toBe('with-contenv: usage: with-contenv PROG [ARGS...]');
  });

  it('works as a #! interpreter: `#!/usr/bin/with-contenv sh` scripts', async () => {
    const dir = envdir({ GREETING: 'hello from the container environment' });
    const script = path.join(tmpDir(), 'run');
    fs.writeFileSync(script, `#!${WITH_CONTENV} sh\necho "$GREETING ($1)"\n`, { mode: 0o755 });
    const r = await execa(script, ['arg'], { env: { PATH, LIFEBOAT_CONTAINER_ENV_DIR: dir }, extendEnv: false, reject: false });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toBe('hello from the container environment (arg)');
  });
});
