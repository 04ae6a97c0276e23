/**
 * secrets: the global setup that proves no Lifeboat process of the run printed a test
 * credential. It makes the run's log directory (`$LIFEBOAT_TEST_LOG_DIR`), into which
 * test/helpers/capture.ts appends the output of every Lifeboat process the tests start; at
 * the end its teardown scans every line for the credentials of test/helpers/credentials.ts
 * (and the secret URL-encoded). A hit fails the run, naming the file and the line and
 * masking the secret, and keeps the directory; a clean run removes it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SECRET_FORMS, type SecretForm } from '../helpers/credentials.js';

/** LOG_DIR_ENV names the run's log directory (test/helpers/capture.ts writes into it). */
export const LOG_DIR_ENV = 'LIFEBOAT_TEST_LOG_DIR';

/** Finding is one credential found in one line (1-based) of a log file. */
export interface Finding {
  file: string;
  line: number;
  secret: SecretForm;
}

/**
 * setup makes the log directory and returns the teardown that scans it. Vitest runs a
 * global setup once per project: the first call makes the directory, the others find it
 * and leave the scan to the first, whose teardown runs last.
 */
export default function setup(): () => void {
  if (process.env[LOG_DIR_ENV]) return () => {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-test-logs-'));
  process.env[LOG_DIR_ENV] = dir;
  return () => {
    delete process.env[LOG_DIR_ENV];
    const files = fs.readdirSync(dir);
    const findings = files.flatMap((f) => scanFile(path.join(dir, f), SECRET_FORMS));
    if (findings.length === 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    }
    // A teardown's exception is only logged by Vitest: set the exit code to fail the run.
    process.exitCode = 1;
    const shown = findings.slice(0, 20).map((f) => `  ${f.file}:${f.line}: ${f.secret.what} (${mask(f.secret.value)})`);
    const more = findings.length > shown.length ? [`  … and ${findings.length - shown.length} more`] : [];
    console.error([`FAIL secrets scan: a test credential appears in ${findings.length} line(s) a Lifeboat process printed (logs kept in ${dir}):`, ...shown, ...more].join('\n'));
  };
}

/** scanFile lists every line of `file` holding one of `secrets`. */
export function scanFile(file: string, secrets: readonly SecretForm[]): Finding[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  return lines.flatMap((text, i) => secrets.filter((s) => text.includes(s.value)).map((secret) => ({ file, line: i + 1, secret })));
}

/** mask shows a credential's first two characters and its length, never the rest. */
export function mask(secret: string): string {
  return `${secret.slice(0, 2)}******, ${secret.length} characters`;
}
