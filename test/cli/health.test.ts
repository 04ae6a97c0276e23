/**
 * Health of `lifeboat replicate` (built CLI) with an S3 replica behind a TCP proxy: `/metrics`
 * moves while a writer commits; `/healthz` is 200 while replicating, 503 naming the replica
 * within max-lag + 1 s of the store going silent (blackhole), 200 again once it is back; the
 * heartbeat URL gets GETs while healthy and none while the replica is unreachable.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/replicator/status.js';
import { TEST_S3_ENV } from '../helpers/credentials.js';
import { fetchMetrics } from '../helpers/metrics.js';
import { startReplicate } from '../helpers/replicate.js';
import { type S3rver, useS3rver } from '../helpers/s3rver.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { tmpDir } from '../helpers/tmp.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
import { waitUntil } from '../helpers/wait.js';
import { startWriter } from '../reliability/harness.js';

const MAX_LAG_MS = 3_000;
let s3: S3rver;
useS3rver('bkt', (started) => (s3 = started));

/** startPingServer is the heartbeat receiver: it records when each GET arrived. */
async function startPingServer(): Promise<{ url: string; pings: number[]; close(): Promise<void> }> {
  const pings: number[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ping/secret-token') pings.push(Date.now());
    res.end('OK');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ping/secret-token`,
    pings,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * setupStore: a database path, the S3 replica `s3://bkt/NAME/app.db` behind a TCP proxy, a
 * heartbeat receiver, and a config of `top(heartbeatUrl)` lines followed by the database.
 */
async function setupStore(name: string, top: (heartbeatUrl: string) => string[]) {
  const dir = tmpDir(`lb-${name}-`);
  const db = path.join(dir, 'app.db');
  const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
  const ping = await startPingServer();
  const endpoint = encodeURIComponent(`http://127.0.0.1:${proxy.port}`);
  const config = path.join(dir, 'lifeboat.yml');
  const dbLines = ['dbs:', `  - path: ${db}`, '    replicas:', '      - name: store', `        url: s3://bkt/${name}/app.db?endpoint=${endpoint}`];
  fs.writeFileSync(config, [...top(ping.url), ...dbLines].join('\n'));
  return { dir, db, proxy, ping, config };
}

async function healthz(base: string): Promise<{ status: number; doc: StatusDoc; at: number }> {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, doc: (await res.json()) as StatusDoc, at: Date.now() };
}

describe('lifeboat replicate: /healthz, /metrics and the heartbeat through an S3 outage', () => {
  it('200 while replicating; 503 naming the replica within max-lag + 1 s of a blackhole; 200 again after; pings only while healthy', async () => {
    const { db, proxy, ping, config } = await setupStore('health', (url) => ['addr: "127.0.0.1:0"', 'health:', `  heartbeat-url: ${url}`, '  heartbeat-interval: 200ms']);
    const writer = await startWriter(db, 5, 20);
    const rep = startReplicate(['-config', config, '-shutdown-sync-timeout', '60s'], { ...TEST_S3_ENV, LIFEBOAT_HEALTH_MAX_LAG: `${MAX_LAG_MS}ms` });
    const output = () => rep.lines.join('\n');
    try {
      const base = `http://${/addr=(\S+)/.exec(await rep.waitFor(/metrics listening/))![1]}`;
      // Healthy while replicating; the heartbeat pings; /metrics moves with the writer.
      const ok = await waitUntil(async () => {
        const h = await healthz(base);
        return h.status === 200 && h.doc.databases[0].replicas[0].position !== null ? h : undefined;
      }, { what: '/healthz 200 with the replica holding a position', detail: output });
      expect(ok.doc).toMatchObject({ healthy: true, replicator: 'running', max_lag_ms: MAX_LAG_MS, problems: [] });
      await waitUntil(() => ping.pings.length >= 3, { what: 'three heartbeat pings while healthy', detail: output });
      const walBytes = `litestream_total_wal_bytes{db="${db}"}`;
      const first = await fetchMetrics(base);
      await waitUntil(async () => ((await fetchMetrics(base)).get(walBytes) ?? 0) > (first.get(walBytes) ?? 0), {
        what: 'litestream_total_wal_bytes to grow while the writer commits',
        detail: output,
      });
      const lagKey = `lifeboat_replica_lag_seconds{db="${db}",name="store"}`;
      expect(first.get(lagKey)).toBeLessThanOrEqual(MAX_LAG_MS / 1000);

      // The store goes silent: 503 naming the replica within max-lag + 1 s.
      const blackholedAt = Date.now();
      proxy.blackhole();
      const down = await waitUntil(async () => {
        const h = await healthz(base);
        return h.status === 503 ? h : undefined;
      }, { what: '/healthz 503 after the blackhole', intervalMs: 100, detail: output });
      // The replicator's own clock: it reports the replica behind within max-lag + 1 s (the
      // reported lag is at most that). The test's wall clock, on busy cores, gets 3 s more.
      expect(down.doc.databases[0].replicas[0].lag_ms, output()).toBeLessThanOrEqual(MAX_LAG_MS + 1_000);
      expect(down.at - blackholedAt, output()).toBeLessThanOrEqual(MAX_LAG_MS + 4_000);
      expect(down.doc.healthy).toBe(false);
      expect(down.doc.problems[0]).toMatch(new RegExp(`^${db.replace(/\./g, '\\.')} replica store: \\d+\\.\\ds behind \\(max-lag 3\\.0s\\)`));
      expect(down.doc.databases[0].replicas[0].lag_ms).toBeGreaterThan(MAX_LAG_MS);
      // The lag keeps growing in /metrics while the writer commits.
      const lag1 = (await fetchMetrics(base)).get(lagKey)!;
      await waitUntil(async () => (await fetchMetrics(base)).get(lagKey)! > lag1 + 0.5, { what: 'the lag metric to grow', detail: output });
      // The store is back: 200 again once the replica caught up (the request hung in the
      // blackhole times out first), and the pings resume.
      proxy.restore();
      let lastDown = down.at;
      const back = await waitUntil(async () => {
        const h = await healthz(base);
        if (h.status === 503) lastDown = h.at;
        return h.status === 200 ? h : undefined;
      }, { what: '/healthz 200 after the store is back', timeoutMs: 120_000, intervalMs: 200, detail: output });
      expect(back.doc.problems).toEqual([]);
      console.log(`health: /healthz 503 ${down.at - blackholedAt} ms after the blackhole (max-lag ${MAX_LAG_MS} ms), 200 again ${back.at - blackholedAt} ms after it`);
      // No ping while unhealthy (one already in flight at the first 503 may land just after it).
      const quietFrom = down.at + 1_000;
      expect(lastDown - quietFrom, output()).toBeGreaterThan(2_000);
      expect(ping.pings.filter((t) => t > quietFrom && t < lastDown), output()).toEqual([]);
      const pingsBack = ping.pings.length;
      await waitUntil(() => ping.pings.length > pingsBack, { what: 'a heartbeat ping after the recovery', detail: output });
      // The heartbeat URL's token is never logged: only its origin.
      expect(output()).not.toContain('secret-token');
      expect(output()).toContain(`heartbeat on to=${new URL(ping.url).origin}`);
    } finally {
      proxy.restore();
      await writer.stop().catch(() => writer.kill());
      const { exitCode } = await rep.stop();
      await proxy.close();
      await ping.close();
      expect(exitCode, output()).toBe(0);
    }
  }, 240_000);

  it('-exec: the heartbeat stops once the app exited, while the final sync still runs', async () => {
    const { dir, db, proxy, ping, config } = await setupStore('health-exec', (url) => ['health:', `  heartbeat-url: ${url}`, '  heartbeat-interval: 100ms', '  max-lag: 10m']);
    const quit = path.join(dir, 'quit');
    const conn = openWAL(db);
    insertRows(conn, 20, 100);
    // The app runs until told to quit; the final sync after it then hangs in the blackhole
    // for the whole shutdown-sync-timeout.
    const app = `sh -c 'while [ ! -e ${quit} ]; do sleep 0.05; done'`;
    const rep = startReplicate(['-config', config, '-exec', app, '-shutdown-sync-timeout', '3s'], TEST_S3_ENV);
    const output = () => rep.lines.join('\n');
    try {
      await waitUntil(() => ping.pings.length >= 3, { what: 'three heartbeat pings while healthy', detail: output });
      // The store goes silent with rows left to sync; then the app quits.
      proxy.blackhole();
      insertRows(conn, 20, 100);
      fs.writeFileSync(quit, '');
      await rep.waitFor(/app exited/);
      const atExit = ping.pings.length;
      const { exitCode } = await rep.proc;
      expect(exitCode, output()).toBe(1);
      expect(output()).toMatch(/final sync incomplete/);
      // ~30 ticks of 100 ms during the 3 s final sync: none pinged (one in flight at the exit may land).
      expect(ping.pings.length - atExit, output()).toBeLessThanOrEqual(1);
    } finally {
      conn.close();
      proxy.restore();
      rep.proc.kill('SIGKILL');
      await rep.proc;
      await proxy.close();
      await ping.close();
    }
  }, 120_000);
});
