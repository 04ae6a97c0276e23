/**
 * The status page and the history of `lifeboat replicate` (built CLI) on the config's
 * `addr`: `/` is the page (HTML, its own script and style only); `/status?history=1` adds
 * each replica's sampled lag over the last hour and the last log lines, which plain
 * `/status` leaves out. The page itself is driven in a browser by
 * test/supervisor/status-page.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/replicator/status.js';
import { startReplicate } from '../helpers/replicate.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

async function status(base: string, query = ''): Promise<StatusDoc> {
  const res = await fetch(`${base}/status${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusDoc;
}

describe('lifeboat replicate: the status page', () => {
  it('serves the page at /; /status?history=1 carries the lag history and the last log lines', async () => {
    const dir = tmpDir('lb-rsp-');
    const db = path.join(dir, 'app.db');
    const config = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(config, `addr: "127.0.0.1:0"\ndbs:\n  - path: ${db}\n    replicas:\n      - name: backup\n        path: ${path.join(dir, 'r')}\n`);
    const conn = openWAL(db);
    insertRows(conn, 10);
    const rep = startReplicate(['-config', config]);
    try {
      const base = `http://${/addr=(\S+)/.exec(await rep.waitFor(/metrics listening/))![1]}`;
      const res = await fetch(`${base}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; connect-src 'self'/);
      const page = await res.text();
      expect(page).toMatch(/^<!doctype html>/);
      expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(page).toContain("fetch('status?history=1'");
      // Nothing loaded from elsewhere, and no data put in as HTML.
      expect(page).not.toMatch(/<(link|img|iframe)\b|\ssrc=|innerHTML|insertAdjacentHTML|document\.write/);
      expect((await fetch(`${base}/`, { method: 'HEAD' })).status).toBe(200);

      // The sampler records the lag each second: points of [unix ms, lag ms], the last one now.
      const doc = await waitUntil(async () => {
        const d = await status(base, '?history=1');
        return (d.databases[0].replicas[0].lag_history?.length ?? 0) >= 2 ? d : undefined;
      }, { what: 'a sampled lag history', detail: () => rep.lines.join('\n') });
      const history = doc.databases[0].replicas[0].lag_history!;
      expect(history.at(-1)).toEqual([Date.parse(doc.time), doc.databases[0].replicas[0].lag_ms]);
      for (const [t, lag] of history) {
        expect(t).toBeLessThanOrEqual(Date.parse(doc.time));
        expect(lag).toBeGreaterThanOrEqual(0);
      }
      expect(doc.recent_log!.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO replicating db=/.test(l) && l.includes(`db=${db}`))).toBe(true);
      expect(doc.uptime_ms).toBeGreaterThan(0);
      const plain = await status(base);
      expect(plain.databases[0].replicas[0]).not.toHaveProperty('lag_history');
      expect(plain).not.toHaveProperty('recent_log');
    } finally {
      conn.close();
      const { exitCode, output } = await rep.stop();
      expect(exitCode, output).toBe(0);
    }
  });
});
