/**
 * The status page `/` of `lifeboat init` (built CLI) in a real headless Chromium: it shows
 * the database (its path escaped, never parsed as HTML), a lag figure that rises while
 * commits land and falls back to 0 once they stop, a services.d service's restart count
 * after a `kill -9`, the last log lines; it fits a phone's width.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { launchChromium, needChromium } from '../helpers/browser.js';
import { descendants, makeService, startInit, type InitRun } from '../helpers/procs.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const runs: InitRun[] = [];

afterEach(() => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) continue;
    for (const pid of [...descendants(run.pid), run.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

/** read is the text of the first element matching `selector`, undefined while there is none. */
function read(page: Page, selector: string): Promise<string | undefined> {
  return page.$eval(selector, (e) => e.textContent ?? '').catch(() => undefined);
}

const LAG = '.db [data-replica="backup"] .lag';
const WORKER = '[data-service="worker"]';

describe.skipIf(needChromium())('the status page in headless Chromium', () => {
  it('shows the database, a lag that moves with commits, a service’s restart after kill -9, the last log lines', async () => {
    const dir = tmpDir('lb-page-');
    // A path that would be markup if the page parsed data as HTML.
    const db = path.join(dir, 'app<b>&amp;.db');
    const config = path.join(dir, 'lifeboat.yml');
    // sync-interval 3s: the replica uploads at most every 3 s, so the lag rises between uploads.
    const replica = `      - name: backup\n        path: ${path.join(dir, 'replica')}\n        sync-interval: 3s\n`;
    fs.writeFileSync(config, `addr: "127.0.0.1:0"\ndbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n${replica}`);
    const conn = openWAL(db);
    const services = path.join(dir, 'services.d');
    makeService(services, 'worker', 'exec forever.js');
    const run = await startInit(['-config', config, '-services', services, 'trap-term.js', '--name', 'app']);
    runs.push(run);
    const base = `http://${/addr=(\S+)/.exec(await run.waitFor(/metrics listening/))![1]}`;
    const browser = await launchChromium();
    let committer: NodeJS.Timeout | undefined;
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 390, height: 844 });
      // Its script and style run under its Content-Security-Policy: no error, no refusal.
      const errors: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => void errors.push(e.message));
      const res = await page.goto(`${base}/`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toBe('text/html; charset=utf-8');
      const wait = <T>(probe: () => Promise<T>, what: string) => waitUntil(probe, { what, intervalMs: 200, detail: run.output });

      // The database, shown as text: no <b> element made of its path.
      await wait(async () => (await read(page, '.db .path')) === db, `the page to show ${db}`);
      expect(await page.$$('.db .path b')).toHaveLength(0);
      // Idle and uploaded: lag 0.
      await wait(async () => (await read(page, LAG)) === '0.0 s', 'the lag figure 0.0 s while idle');
      const idlePos = await read(page, '.db [data-replica="backup"] dd.position');

      // Commits land every 100 ms: the lag rises between uploads and keeps moving.
      committer = setInterval(() => insertRows(conn, 1), 100);
      const first = await wait(async () => {
        const t = await read(page, LAG);
        return t !== undefined && t !== '0.0 s' ? t : undefined;
      }, 'the lag figure to rise above 0 while commits land');
      await wait(async () => {
        const t = await read(page, LAG);
        return t !== undefined && t !== '0.0 s' && t !== first;
      }, `the lag figure to move on from ${first}`);
      await wait(async () => {
        const p = await read(page, '.db [data-replica="backup"] dd.position');
        return p !== undefined && p !== '-' && p !== idlePos;
      }, 'the replica position to move');
      // The commits stop: the replica catches up, the lag is 0 again.
      clearInterval(committer);
      committer = undefined;
      await wait(async () => (await read(page, LAG)) === '0.0 s', 'the lag figure back to 0.0 s after the commits');
      expect(await page.$$('.db [data-replica="backup"] svg.spark polyline')).toHaveLength(1);

      // The worker runs, never restarted; kill -9 it: the init restarts it and the page counts 1.
      const pid = Number(await wait(async () => {
        const p = await read(page, `${WORKER} td:nth-child(3)`);
        return p && /^\d+$/.test(p) ? p : undefined;
      }, 'the worker’s pid on the page'));
      expect(await read(page, `${WORKER} td.restarts`)).toBe('0');
      expect(await read(page, `${WORKER} td:nth-child(2)`)).toBe('up');
      process.kill(pid, 'SIGKILL');
      await wait(async () => (await read(page, `${WORKER} td.restarts`)) === '1', 'the worker’s restart count 1 after kill -9');
      await wait(async () => {
        const p = await read(page, `${WORKER} td:nth-child(3)`);
        return p !== undefined && /^\d+$/.test(p) && Number(p) !== pid;
      }, 'the restarted worker’s new pid');
      expect(await read(page, `${WORKER} td:last-child`)).toBe('signal SIGKILL');
      expect(await read(page, '[data-service="replicate"] td.restarts')).toBe('0');

      // The last log lines: the init's own and the services' prefixed output.
      await wait(async () => {
        const log = (await read(page, '#log')) ?? '';
        return log.includes('worker | forever: started') && log.includes('INFO service exited: restarting service=worker');
      }, 'the log lines of the worker’s restart');
      expect(await read(page, '#health')).toBe('healthy');
      expect(errors).toEqual([]);
      // Readable on a phone: nothing wider than the screen.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    } finally {
      if (committer) clearInterval(committer);
      conn.close();
      await browser.close();
      run.signal('SIGTERM');
      expect((await run.done).code, run.output()).toBe(0);
    }
  }, 120_000);
});
