import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/native.js';
import { acquireWriterLock, checkWriterLock, lockPath, WriterLockError } from '../../src/replicator/writer-lock.js';
import { ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** holder is a Node program that takes the writer lock of its argument, says so, and waits. */
const HOLDER = [
  `import { acquireWriterLock } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/replicator/writer-lock.js')).href)};`,
  `acquireWriterLock(process.argv[1]);`,
  `process.stdout.write('held\\n');`,
  `setInterval(() => {}, 1000);`,
].join('\n');

const children: { kill(sig: NodeJS.Signals): boolean }[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('checkWriterLock', () => {
  it('the addon answers who holds the lock', () => {
    const { addon, error } = loadAddon();
    expect(addon?.lockHolder, error).toBeTypeOf('function');
  });

  it('names the other process that holds the lock, and passes once it is gone (kill -9)', async () => {
    const db = path.join(tmpDir(), 'app.db');
    const child = execa(process.execPath, ['--input-type=module', '-e', HOLDER, db], { reject: false });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => b.toString().includes('held') && resolve());
      void child.then((r) => reject(new Error(`holder exited ${r.exitCode}: ${r.stderr}`)));
    });
    let err: unknown;
    try {
      checkWriterLock(db);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WriterLockError);
    expect((err as WriterLockError).pid).toBe(child.pid);
    expect((err as Error).message).toBe(`database ${db} is already being replicated by process ${child.pid} (only one writer per database; stop it first)`);
    child.kill('SIGKILL');
    await child;
    expect(() => checkWriterLock(db)).not.toThrow();
  });

  it('sees this process’s own lock, and creates no lock file where there is none', () => {
    const db = path.join(tmpDir(), 'app.db');
    checkWriterLock(db);
    expect(fs.existsSync(lockPath(db))).toBe(false);
    const lock = acquireWriterLock(db);
    expect(() => checkWriterLock(db)).toThrow(new WriterLockError(db, process.pid));
    lock.release();
    expect(() => checkWriterLock(db)).not.toThrow();
  });
});
