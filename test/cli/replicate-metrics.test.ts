/**
 * The metrics endpoint of `lifeboat replicate` (config `addr`): Litestream v0.3's metric
 * names with values that match the database, the shadow WAL and the replica on disk.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/replicator/lz4/index.js';
import { lifeboat } from '../helpers/cli.js';
import { runWriter, startReplicate, type Running } from '../helpers/replicate.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

/** setup writes a config replicating `app.db` to a file replica with `addr`. */
function setup(addr: string): { dir: string; db: string; replica: string; config: string } {
  const dir = tmpDir();
  const db = path.join(dir, 'app.db');
  const replica = path.join(dir, 'r');
  openWAL(db).close();
  const config = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(config, `addr: "${addr}"\ndbs:\n  - path: ${db}\n    replicas:\n      - name: backup\n        path: ${replica}\n`);
  return { dir, db, replica, config };
}

/** metrics fetches /metrics and parses each sample line into `name{labels}` → value. */
async function metrics(base: string): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** SEGMENT is a replica WAL segment's name: index and offset. */
const SEGMENT = /^([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/;

/** replicaEnd is where the replica's newest segment ends: [index, offset + decoded length] ([-1, -1]: none yet). */
function replicaEnd(replica: string): [number, number] {
  const gens = path.join(replica, 'generations');
  const names = fs.existsSync(gens) ? fs.readdirSync(gens) : [];
  expect(names.length).toBeLessThanOrEqual(1);
  const dir = path.join(gens, names[0] ?? '', 'wal');
  const segments = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => SEGMENT.test(f)).sort() : [];
  const last = segments.at(-1);
  if (last === undefined) return [-1, -1];
  const [, index, offset] = SEGMENT.exec(last)!;
  return [parseInt(index, 16), parseInt(offset, 16) + decodeFrame(fs.readFileSync(path.join(dir, last))).length];
}

/**
 * onDisk is what the metrics must match once the replicator has settled: the database's
 * and the WAL's sizes, and the replica's newest segment end as the replica's and the shadow
 * WAL's positions.
 */
function onDisk(db: string, replica: string, d: string, r: string): Map<string, number> {
  const [index, offset] = replicaEnd(replica);
  return new Map([
    [`litestream_db_size${d}`, fs.statSync(db).size],
    [`litestream_wal_size${d}`, fs.statSync(`${db}-wal`).size],
    [`litestream_replica_wal_index${r}`, index],
    [`litestream_replica_wal_offset${r}`, offset],
    [`litestream_shadow_wal_index${d}`, index],
    [`litestream_shadow_wal_size${d}`, offset],
  ]);
}

/**
 * waitSettled waits until one scrape agrees with the disk (onDisk) and shows a PASSIVE
 * checkpoint: a checkpoint may still follow the replica catching up (it grows the database
 * and starts a new shadow WAL index), so a single look after "caught up" could race it.
 */
async function waitSettled(rep: Running, base: string, db: string, replica: string): Promise<Map<string, number>> {
  const d = `{db="${db}"}`;
  const r = `{db="${db}",name="backup"}`;
  let last = '';
  const m = await waitUntil(
    async () => {
      if (rep.proc.exitCode !== null) return new Map<string, number>();
      const got = await metrics(base);
      const want = onDisk(db, replica, d, r);
      const diff = [...want].filter(([k, v]) => got.get(k) !== v).map(([k, v]) => `${k}: ${got.get(k)} (disk: ${v})`);
      if (!(got.get(`litestream_checkpoint_count{db="${db}",mode="PASSIVE"}`)! > 0)) diff.push('no PASSIVE checkpoint yet');
      last = diff.join('; ');
      return diff.length === 0 && got;
    },
    { what: 'the metrics to match the database, the WAL and the replica', detail: () => `${last}\n${rep.lines.join('\n')}` },
  );
  expect(rep.proc.exitCode).toBeNull();
  return m;
}

describe('lifeboat replicate: metrics on addr', () => {
  it('serves the reference’s metrics, matching the database, the shadow WAL and the replica', async () => {
    const { db, replica, config } = setup('127.0.0.1:0');
    const rep = startReplicate(['-config', config]);
    const line = await rep.waitFor(/metrics listening/);
    const base = `http://${/addr=(\S+)/.exec(line)![1]}`;
    await rep.waitFor(/replicating/);
    // The app's own checkpoints off (wal_autocheckpoint 0): else, stepped aside for, they may
    // do every checkpoint of the run and the replicator's PASSIVE count stays 0.
    await runWriter(db, 1200, 0, 4000, 0);
    const m = await waitSettled(rep, base, db, replica);
    const d = `{db="${db}"}`;
    const r = `{db="${db}",name="backup"}`;
    expect(m.get(`litestream_total_wal_bytes${d}`)).toBeGreaterThan(1200 * 4000);
    expect(m.get(`litestream_sync_count${d}`)).toBeGreaterThan(0);
    expect(m.get(`litestream_sync_error_count${d}`)).toBe(0);
    expect(m.get(`litestream_checkpoint_count{db="${db}",mode="PASSIVE"}`)).toBeGreaterThan(0);
    expect(m.get(`lifeboat_replica_sync_error_count${r}`)).toBe(0);
    expect(Math.abs(m.get(`lifeboat_replica_caught_up_timestamp_seconds${r}`)! - Date.now() / 1000)).toBeLessThan(30);
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'HEAD' })).status).toBe(200);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
  });

  it('a bad addr is a config error (exit 2); a port in use is one warning and replication goes on', async () => {
    const bad = setup('9090');
    const res = await lifeboat(['replicate', '-config', bad.config]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('addr: invalid address "9090": want HOST:PORT or :PORT');

    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const taken = setup(`127.0.0.1:${port}`);
      const rep = startReplicate(['-config', taken.config]);
      const warn = await rep.waitFor(/no \/healthz, \/metrics or \/status/);
      expect(warn).toMatch(/WARN/);
      expect(warn).toContain(`metrics: listen on 127.0.0.1:${port}: EADDRINUSE`);
      await rep.waitFor(/replicating/);
      // The control socket answers all the same; the database reaches the replica.
      await waitUntil(async () => (await lifeboat(['status', '-config', taken.config])).exitCode === 0, {
        what: 'status over the control socket',
        detail: () => rep.lines.join('\n'),
      });
      const { exitCode, output } = await rep.stop();
      expect(exitCode, output).toBe(0);
      expect(output).not.toMatch(/metrics listening/);
      expect(output.match(/no \/healthz/g)).toHaveLength(1);
      expect(fs.existsSync(path.join(taken.replica, 'generations'))).toBe(true);
    } finally {
      busy.close();
    }
  });

  it('-addr overrides addr; -addr= serves nothing there (the control socket still answers); a bad -addr exits 2', async () => {
    const { config } = setup('127.0.0.1:1');
    const rep = startReplicate(['-config', config, '-addr', '127.0.0.1:0']);
    const line = await rep.waitFor(/metrics listening/);
    const base = `http://${/addr=(\S+)/.exec(line)![1]}`;
    await rep.waitFor(/replicating/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await rep.stop()).exitCode).toBe(0);

    const off = startReplicate(['-config', config, '-addr=']);
    await off.waitFor(/replicating/);
    await waitUntil(async () => (await lifeboat(['status', '-config', config])).exitCode === 0, { what: 'status over the control socket', detail: () => off.lines.join('\n') });
    expect(off.lines.join('\n')).not.toMatch(/metrics listening/);
    expect((await off.stop()).exitCode).toBe(0);

    const bad = await lifeboat(['replicate', '-config', config, '-addr', '9090']);
    expect(bad.exitCode).toBe(2);
    expect(String(bad.stderr).split('\n')[0]).toBe('lifeboat replicate: invalid -addr: invalid address "9090": want HOST:PORT or :PORT');
  });
});
