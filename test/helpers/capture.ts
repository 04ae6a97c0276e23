/**
 * capture: every Lifeboat process a test starts has what it prints appended, as it comes,
 * to files in the run's log directory (`$LIFEBOAT_TEST_LOG_DIR`, made by the global setup
 * test/setup/secrets.ts), one file per stream; after the run, that setup scans them for
 * the test credentials.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { expect } from 'vitest';
import { LOG_DIR_ENV } from '../setup/secrets.js';

let seq = 0;

/** logFile is a new file in the run's log directory for `what` (named after the test file); throws without the global setup. */
export function logFile(what: string): string {
  const dir = process.env[LOG_DIR_ENV];
  if (!dir) throw new Error(`${LOG_DIR_ENV} is not set: run the tests with vitest.config.ts (its globalSetup test/setup/secrets.ts makes it)`);
  const testPath = expect.getState().testPath;
  const test = testPath ? path.basename(testPath).replace(/\.test\.ts$/, '') : 'unknown';
  seq += 1;
  const file = path.join(dir, `${test}.${process.pid}.${seq}.${what.replace(/[^\w.-]+/g, '_')}.log`);
  fs.writeFileSync(file, '');
  return file;
}

/** captureOutput appends `proc`'s stdout and stderr (those that are pipes) to new files of the log directory. */
export function captureOutput(proc: { stdout?: Readable | null; stderr?: Readable | null }, what: string): void {
  for (const [name, stream] of [['stdout', proc.stdout], ['stderr', proc.stderr]] as const) {
    if (stream) appendTo(stream, logFile(`${what}.${name}`));
  }
}

/** appendTo writes every chunk of `stream` to `file` synchronously, so it is there whatever happens to this worker. */
function appendTo(stream: Readable, file: string): void {
  const fd = fs.openSync(file, 'a');
  let open = true;
  stream.on('data', (chunk: Buffer | string) => {
    if (open) fs.writeSync(fd, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  });
  stream.once('close', () => {
    open = false;
    fs.closeSync(fd);
  });
}
