/** tmp: temporary directories removed after each test file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

afterAll(() => {
  if (process.env.LIFEBOAT_KEEP_TMP) return;
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** tmpDir creates a fresh directory under the OS temp dir, removed when the test file ends. */
export function tmpDir(prefix = 'lifeboat-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
