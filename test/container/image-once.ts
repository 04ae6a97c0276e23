/**
 * image-once: build the image (build-image.sh) once per test run for every container test
 * file. The first file that asks builds it and leaves a stamp naming the run; the files after
 * it find the stamp and use that image. A run is vitest's main process — the parent of the
 * forked workers (vitest.config.ts: pool 'forks') — named by its pid and start time, so a
 * later run always builds again. A failed build leaves no stamp.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { BUILD_SCRIPT, IMAGE, STORAGE_ROOT } from './podman.js';

const MINUTE = 60_000;

/** BUILD_TIMEOUT_MS bounds one build (a first build also debootstraps the base). */
export const BUILD_TIMEOUT_MS = 30 * MINUTE;

/** runId names this test run: the parent process's pid and start time (field 22 of /proc/PID/stat). */
function runId(): string {
  const stat = fs.readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return `${process.ppid}:${fields[19]}`;
}

/** ensureImage builds IMAGE unless this run built it already; prints build-image.sh's summary; throws with its output's tail on failure. */
export async function ensureImage(): Promise<void> {
  const stamp = path.join(STORAGE_ROOT, `built-${IMAGE.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  const id = runId();
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === id) {
    console.log(`build-image.sh: ${IMAGE} already built in this run`);
    return;
  }
  const t0 = Date.now();
  const r = await execa(BUILD_SCRIPT, { all: true, reject: false, timeout: BUILD_TIMEOUT_MS });
  const summary = String(r.all).split('\n').filter((l) => l.includes('build-image:'));
  console.log([...summary, `build-image.sh: ${Math.round((Date.now() - t0) / 1000)} s`].join('\n'));
  if (r.exitCode !== 0) throw new Error(`build-image.sh failed (exit ${r.exitCode}):\n${String(r.all).slice(-6000)}`);
  fs.writeFileSync(stamp, id);
}
