import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Logger } from '../../src/log.js';
import { DEFAULT_TIMEOUT_FINISH, parseSignal, readServiceDir, readServicesDir } from '../../src/supervisor/service-dir.js';
import { makeService } from '../helpers/procs.js';
import { tmpDir } from '../helpers/tmp.js';

describe('readServicesDir', () => {
  it('reads every setting file of s6', () => {
    const root = tmpDir();
    const dir = makeService(root, 'web', 'exec forever.js', {
      finish: 'exit 0',
      down: '',
      'notification-fd': '5\n',
      'timeout-kill': ' 2500 ',
      'timeout-finish': '100',
      'down-signal': 'HUP\n',
      essential: '',
    });
    expect(readServiceDir(dir)).toEqual({
      name: 'web',
      command: [path.join(dir, 'run'), 'web'],
      file: path.join(dir, 'run'),
      cwd: dir,
      finish: { file: path.join(dir, 'finish'), argv: [path.join(dir, 'finish')] },
      down: true,
      notificationFd: 5,
      timeoutKill: 2500,
      timeoutFinish: 100,
      downSignal: 'SIGHUP',
      essential: true,
    });
  });

  it('fills defaults for a service with only run', () => {
    const root = tmpDir();
    makeService(root, 'a', 'exec forever.js');
    const [def] = readServicesDir(root);
    expect(def).toMatchObject({ name: 'a', finish: undefined, down: false, notificationFd: undefined, timeoutKill: undefined });
    expect(def.timeoutFinish).toBe(DEFAULT_TIMEOUT_FINISH);
    expect(def.downSignal).toBe('SIGTERM');
    expect(def.essential).toBe(false);
  });

  it('lists services in lexical order, skipping dot-directories and plain files', () => {
    const root = tmpDir();
    for (const n of ['b', 'a', '10-x', '.hidden']) makeService(root, n, 'exec forever.js');
    fs.writeFileSync(path.join(root, 'README'), 'not a service');
    expect(readServicesDir(root).map((d) => d.name)).toEqual(['10-x', 'a', 'b']);
  });

  it('has no services when the directory does not exist', () => {
    expect(readServicesDir('/nonexistent/services.d')).toEqual([]);
  });

  const bad: [string, string, RegExp][] = [
    ['timeout-kill', 'soon', /web\/timeout-kill: not a whole number of milliseconds: "soon"$/],
    ['timeout-kill', '-5', /web\/timeout-kill: not a whole number of milliseconds: "-5"$/],
    ['timeout-finish', '1.5', /web\/timeout-finish: not a whole number of milliseconds: "1.5"$/],
    ['notification-fd', '1', /web\/notification-fd: not a file descriptor from 3 to 255: "1"$/],
    ['notification-fd', 'three', /web\/notification-fd: not a file descriptor from 3 to 255: "three"$/],
    ['down-signal', 'SIGNOPE', /web\/down-signal: not a signal name: "SIGNOPE"$/],
  ];
  for (const [file, value, message] of bad) {
    it(`rejects ${file}=${JSON.stringify(value)} in one line naming the file and the value`, () => {
      const root = tmpDir();
      makeService(root, 'web', 'exec forever.js', { [file]: value });
      const err = catchError(() => readServicesDir(root));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('\n');
      expect((err as ConfigError).value).toBe(value);
    });
  }

  it('rejects a service without run, or with a run neither executable nor starting with #!', () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'empty'));
    expect(() => readServicesDir(root)).toThrow(/empty\/run: missing: a service needs a run file$/);
    const root2 = tmpDir();
    const dir = makeService(root2, 'noexec', 'exec forever.js');
    fs.writeFileSync(path.join(dir, 'run'), 'exec forever.js\n');
    fs.chmodSync(path.join(dir, 'run'), 0o644);
    expect(() => readServicesDir(root2)).toThrow(/noexec\/run: not executable and no #! line \(chmod \+x it, or start it with #!\/bin\/sh\)$/);
  });

  it('makes a run and a finish of mode 0644 with a #! line executable (0755), as s6-overlay v2 does at boot', () => {
    const root = tmpDir();
    const dir = makeService(root, 'web', 'exec forever.js', { finish: 'exit 0' });
    const run = path.join(dir, 'run');
    const finish = path.join(dir, 'finish');
    fs.chmodSync(run, 0o644);
    fs.chmodSync(finish, 0o640);
    const notes: string[] = [];
    const def = readServiceDir(dir, new Logger({ timestamps: false, write: (l) => notes.push(l) }));
    expect(fs.statSync(run).mode & 0o777).toBe(0o755);
    expect(fs.statSync(finish).mode & 0o777).toBe(0o750);
    expect(def.command).toEqual([run, 'web']);
    expect(def.finish).toEqual({ file: finish, argv: [finish] });
    expect(notes).toEqual([`INFO made executable, as s6-overlay does file=${run}\n`, `INFO made executable, as s6-overlay does file=${finish}\n`]);
  });

  it('makes a relative services directory absolute: run starts in its own directory', () => {
    const dir = tmpDir();
    makeService(dir, 'web', 'exec true');
    const [def] = readServicesDir(path.relative(process.cwd(), dir));
    expect(def.command).toEqual([path.join(dir, 'web', 'run'), 'web']);
    expect(def.cwd).toBe(path.join(dir, 'web'));
  });
});

describe('parseSignal', () => {
  it('accepts SIGTERM, TERM, term and numbers', () => {
    expect(parseSignal('SIGTERM')).toBe('SIGTERM');
    expect(parseSignal('TERM')).toBe('SIGTERM');
    expect(parseSignal('usr1')).toBe('SIGUSR1');
    expect(parseSignal('2')).toBe('SIGINT');
    expect(() => parseSignal('99')).toThrow('not a signal name');
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
