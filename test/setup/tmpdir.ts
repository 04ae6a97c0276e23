/**
 * tmpdir: the global setup of `npm test`. Every test file, and every process it starts,
 * gets one fresh temporary directory for this run as TMPDIR; at the end the teardown names
 * whatever is still in it (a test that did not clean up after itself) and removes it, so a
 * run leaves nothing behind in the system's temp directory whatever happened.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * setup points TMPDIR at a new directory for this run and returns the teardown. Vitest
 * runs a global setup once per project: the first call makes the directory, the others
 * find it (LIFEBOAT_TEST_RUN_TMPDIR) and leave the teardown to the first.
 */
export default function setup(): () => void {
  if (process.env.LIFEBOAT_TEST_RUN_TMPDIR) return () => {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-tests-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = process.env.LIFEBOAT_TEST_RUN_TMPDIR = dir;
  return () => {
    delete process.env.LIFEBOAT_TEST_RUN_TMPDIR;
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    // node-compile-cache is Node's own module cache (npm 11 turns it on), not a test's.
    const left = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((e) => e !== 'node-compile-cache');
    if (left.length > 0) console.warn(`tests left ${left.length} entries in their temp dir (removed now): ${left.slice(0, 10).join(', ')}`);
    if (process.env.LIFEBOAT_KEEP_TMP) console.warn(`LIFEBOAT_KEEP_TMP: kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
}
