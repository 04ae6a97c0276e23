/**
 * scripts/demo.mjs — the README's main-job command: it must show the restore and exit 0
 * only when every note written before the stop is back after the data was lost.
 */
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../helpers/capture.js';
import { ROOT } from '../helpers/cli.js';

describe('scripts/demo.mjs', () => {
  it('writes notes, stops with SIGTERM, loses the data, restores it, and shows the notes back', async () => {
    const t0 = performance.now();
    const demo = execa(process.execPath, [path.join(ROOT, 'scripts/demo.mjs')], { all: true, reject: false, cwd: ROOT });
    captureOutput(demo, 'demo');
    const r = await demo;
    const seconds = (performance.now() - t0) / 1000;
    const out = String(r.all);
    expect(r.exitCode, out).toBe(0);
    expect(out).toMatch(/no matching backups found/);
    expect(out).toMatch(/restore \| restored \S+app\.db from /);
    expect(out).toMatch(/✔ All 3 notes are back/);
    for (const n of [1, 2, 3, 4, 5, 6]) expect(out).toContain(`[${n}/6]`);
    expect(out.match(/#2 {2}call the plumber about the leak/g)).toHaveLength(2);
    expect(out.match(/INFO init exiting code=0/g)).toHaveLength(2);
    expect(seconds).toBeLessThan(20);
  });
});
