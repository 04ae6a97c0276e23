#!/usr/bin/env node
/**
 * bench/restore: how fast `lifeboat restore` is, against what, and in how much memory.
 *
 *   npm run build && node bench/restore.mjs [--indexes 20] [--segments 5] [--mb 128]
 *       [--latency 15] [--runs 3] [--big-gb 1] [--skip-big]
 *
 * 1. A real history: a better-sqlite3 database (4 KiB pages, wal_autocheckpoint=0), a
 *    snapshot, then `--indexes` WAL indexes of `--segments` segments each (every segment
 *    ends on a commit; each index ends with a TRUNCATE checkpoint), `--mb` MB of raw WAL
 *    (rows: 2 kB random + 1 kB text, so LZ4 has work), uploaded to s3rver.
 * 2. s3rver reached through bench/latency-proxy.mjs (own process) adding `--latency` ms
 *    each way: 15 ms → a 30 ms round trip, as real object stores answer.
 * 3. Timings (median of `--runs`): restore() in-process at parallelism 8 and 1; the CLI
 *    (node start included); a plain download of the same objects, 8 at a time, bodies
 *    discarded; connections opened and requests sent by one restore.
 * 4. Apply only, on the same WAL files: SQLite's checkpoint replay (the reference's method:
 *    WAL beside the database, `PRAGMA wal_checkpoint(TRUNCATE)`, per index) vs our applier;
 *    then the same on a "hot pages" history (every row of a ~20 MB database updated in each
 *    index: the case of the reference's #266).
 * 5. Peak RSS of the CLI restoring a `--big-gb` GB database from a file replica.
 */
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { S3ReplicaClient } from '../dist/replicator/clients/s3.js';
import { FileReplicaClient } from '../dist/replicator/clients/file.js';
import { createFrameEncoder, encodeFrame } from '../dist/replicator/lz4/index.js';
import { restore } from '../dist/replicator/restore/index.js';
import { PageApplier } from '../dist/replicator/restore/apply.js';
import { WALIndexer } from '../dist/replicator/restore/walindex.js';
import { startProxy, startS3rver } from './vs-reference/procs.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const KEYS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' };
const GEN = '0123456789abcdef';
const opt = flags({ indexes: 20, segments: 5, mb: 128, latency: 15, runs: 3, 'big-gb': 1, 'skip-big': false });

/** flags parses `--name value` / `--name` over defaults. */
function flags(defaults) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--?/, '');
    if (!(name in out)) throw new Error(`unknown flag ${argv[i]}`);
    out[name] = typeof out[name] === 'boolean' ? true : Number(argv[++i]);
  }
  return out;
}

/** row returns one row of 2 kB random bytes and 1 kB of text. */
const row = () => Buffer.concat([crypto.randomBytes(2000), Buffer.from('lifeboat restore bench row '.repeat(38))]);

/** buildHistory writes a snapshot and indexes × segments WAL segments to `client`; keeps each index's WAL on disk. */
async function buildHistory(dir, client) {
  const file = path.join(dir, 'live.db');
  const db = new Database(file);
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = wal');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)');
  const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
  const txn = db.transaction((n) => { for (let i = 0; i < n; i++) ins.run(row()); });
  txn(1000);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const snapshot = fs.readFileSync(file);
  await client.writeSnapshot(GEN, 0, encodeFrame(snapshot));
  const rowsPerSegment = Math.ceil((opt.mb * 1e6) / (opt.indexes * opt.segments) / 3200);
  const wals = [];
  let stored = 0;
  for (let index = 0; index < opt.indexes; index++) {
    let offset = 0;
    for (let s = 0; s < opt.segments; s++) {
      for (let k = 0; k < rowsPerSegment; k += 20) txn(Math.min(20, rowsPerSegment - k));
      const wal = fs.readFileSync(`${file}-wal`);
      const info = await client.writeWALSegment({ generation: GEN, index, offset }, encodeFrame(wal.subarray(offset)));
      stored += info.size;
      offset = wal.length;
    }
    wals.push(path.join(dir, `wal-${index}`));
    fs.copyFileSync(`${file}-wal`, wals[index]);
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  db.close();
  return { snapshot, wals, stored, objects: 1 + opt.indexes * opt.segments };
}

const s3client = (port) => new S3ReplicaClient({ bucket: 'bench', path: 'db', endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', ...KEYS });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n) => `${Math.round(n)} ms`;

/** timeRestore restores through the proxy with a fresh client; returns time, connections, requests, stats. */
async function timeRestore(dir, proxy, s3, parallelism) {
  const out = path.join(dir, `out-${crypto.randomBytes(4).toString('hex')}.db`);
  const client = s3client(proxy.port);
  const [c0, r0] = [proxy.connections(), s3.requests()];
  const t = performance.now();
  const res = await restore({ replicas: [{ name: 's3', client }], outputPath: out, parallelism });
  const elapsed = performance.now() - t;
  await client.close();
  fs.rmSync(out);
  return { elapsed, connections: proxy.connections() - c0, requests: s3.requests() - r0, stats: res.stats };
}

/** timeDownload GETs the same objects, `n` at a time, discarding bodies (listing included, as restore lists). */
async function timeDownload(proxy, n) {
  const client = s3client(proxy.port);
  const t = performance.now();
  const segs = [];
  for await (const s of client.walSegments(GEN)) segs.push(s);
  for await (const _ of client.snapshots(GEN));
  const jobs = [() => client.readSnapshot(GEN, 0), ...segs.map((s) => () => client.readWALSegment(s))];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) for await (const _ of await jobs[next++]());
  };
  await Promise.all(Array.from({ length: n }, worker));
  const elapsed = performance.now() - t;
  await client.close();
  return elapsed;
}

/** timeCLI runs `lifeboat restore` through the proxy as a child process (asynchronously: the proxy lives in this process). */
async function timeCLI(dir, proxy, parallelism) {
  const out = path.join(dir, 'cli-out.db');
  const url = `s3://bench/db?endpoint=http://127.0.0.1:${proxy.port}&region=us-east-1`;
  const env = { ...process.env, AWS_ACCESS_KEY_ID: KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey };
  const t = performance.now();
  await promisify(execFile)(process.execPath, [CLI, 'restore', '-parallelism', String(parallelism), '-o', out, url], { env });
  const elapsed = performance.now() - t;
  fs.rmSync(out);
  return elapsed;
}

/** applyBoth times SQLite's checkpoint replay and our applier on the same snapshot and WAL files; checks equal bytes. */
function applyBoth(dir, h) {
  const ref = path.join(dir, `replay-${crypto.randomBytes(3).toString('hex')}.db`);
  fs.writeFileSync(ref, h.snapshot);
  let t = performance.now();
  for (const wal of h.wals) {
    fs.copyFileSync(wal, `${ref}-wal`);
    const db = new Database(ref);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  const sqliteMs = performance.now() - t;
  const ours = path.join(dir, `ours-${crypto.randomBytes(3).toString('hex')}.db`);
  fs.writeFileSync(ours, h.snapshot);
  const copies = h.wals.map((w, i) => { const c = `${ours}-q-${i}`; fs.copyFileSync(w, c); return c; });
  t = performance.now();
  const applier = new PageApplier(ours);
  copies.forEach((c, i) => {
    const ix = new WALIndexer(i);
    ix.beginSegment(`wal-${i}`, 0);
    ix.push(fs.readFileSync(c));
    ix.endSegment();
    applier.add({ ...ix.finish(), path: c });
  });
  applier.flush();
  const fd = fs.openSync(ours, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const oursMs = performance.now() - t;
  const equal = fs.readFileSync(ref).equals(fs.readFileSync(ours));
  return { sqliteMs, oursMs, equal, pagesWritten: applier.stats.pagesWritten };
}

/** hotHistory writes, locally, a ~20 MB database whose every row is updated in each of `indexes` WAL indexes (#266's case). */
function hotHistory(dir) {
  const file = path.join(dir, 'hot.db');
  const db = new Database(file);
  db.pragma('journal_mode = wal');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)');
  const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
  db.transaction(() => { for (let i = 0; i < 5000; i++) ins.run(row()); })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const snapshot = fs.readFileSync(file);
  const upd = db.prepare('UPDATE t SET b = ? WHERE id = ?');
  const wals = [];
  for (let index = 0; index < opt.indexes; index++) {
    for (let k = 0; k < 5000; k += 500) db.transaction(() => { for (let id = k + 1; id <= k + 500; id++) upd.run(row(), id); })();
    wals.push(path.join(dir, `hot-wal-${index}`));
    fs.copyFileSync(`${file}-wal`, wals[index]);
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  db.close();
  return { snapshot, wals };
}

/** bigRSS builds a `--big-gb` GB database in a file replica (snapshot + 3 WAL indexes) and measures the CLI's peak RSS. */
async function bigRSS(dir) {
  const file = path.join(dir, 'big.db');
  const db = new Database(file);
  db.pragma('journal_mode = wal');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)');
  const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
  const chunk = db.transaction(() => { for (let i = 0; i < 1000; i++) ins.run(row()); });
  for (let i = 0; i < Math.ceil((opt['big-gb'] * 1e9) / 3.2e6); i++) chunk();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const client = new FileReplicaClient(path.join(dir, 'big-replica'));
  await client.writeSnapshot(GEN, 0, fs.createReadStream(file).pipe(createFrameEncoder()));
  for (let index = 0; index < 3; index++) {
    chunk();
    await client.writeWALSegment({ generation: GEN, index, offset: 0 }, Readable.from([encodeFrame(fs.readFileSync(`${file}-wal`))]));
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  db.close();
  const size = fs.statSync(file).size;
  const out = path.join(dir, 'big-out.db');
  const t = performance.now();
  const res = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, CLI, 'restore', '-o', out, `file://${path.join(dir, 'big-replica')}`]);
  const elapsed = performance.now() - t;
  if (res.status !== 0) throw new Error(`big restore failed: ${res.stderr}`);
  const equal = spawnSync('cmp', [file, out]).status === 0;
  return { size, rssMB: Number(/maxrss=(\d+)/.exec(String(res.stderr))[1]) / 1024, elapsed, equal };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-restore-'));
  const s3 = await startS3rver(path.join(dir, 's3'), 'bench');
  try {
    const h = await buildHistory(dir, s3client(s3.port));
    console.log(`history: snapshot ${(h.snapshot.length / 1e6).toFixed(1)} MB, ${opt.indexes} indexes × ${opt.segments} segments, stored ${(h.stored / 1e6).toFixed(1)} MB in ${h.objects} objects`);
    const proxy = await startProxy(s3.port, opt.latency);
    const rows = [];
    for (const p of [8, 1]) {
      const runs = [];
      for (let i = 0; i < opt.runs; i++) runs.push(await timeRestore(dir, proxy, s3, p));
      const m = runs.find((r) => r.elapsed === median(runs.map((x) => x.elapsed)));
      rows.push([`restore() -parallelism ${p}`, ms(m.elapsed), `download ${ms(m.stats.downloadMs)}, apply ${ms(m.stats.applyMs)}, ${m.requests} requests, ${m.connections} connections`]);
    }
    const cli = [];
    for (let i = 0; i < opt.runs; i++) cli.push(await timeCLI(dir, proxy, 8));
    rows.push(['CLI restore -parallelism 8', ms(median(cli)), 'wall time, node start included']);
    const dl = [];
    for (let i = 0; i < opt.runs; i++) dl.push(await timeDownload(proxy, 8));
    rows.push(['plain download, 8 at a time', ms(median(dl)), 'list + GET every object, bodies discarded']);
    const ap = applyBoth(dir, h);
    rows.push(['apply: SQLite checkpoint replay', ms(ap.sqliteMs), `${h.wals.length} indexes, reference method`]);
    rows.push(['apply: Lifeboat page applier', ms(ap.oursMs), `${ap.pagesWritten} pages written, bytes equal: ${ap.equal}`]);
    const hot = hotHistory(dir);
    const hp = applyBoth(dir, hot);
    const walMB = hot.wals.reduce((n, w) => n + fs.statSync(w).size, 0) / 1e6;
    rows.push(['hot pages: SQLite checkpoint replay', ms(hp.sqliteMs), `${hot.wals.length} indexes rewriting a ${(hot.snapshot.length / 1e6).toFixed(0)} MB db (${walMB.toFixed(0)} MB of WAL)`]);
    rows.push(['hot pages: Lifeboat page applier', ms(hp.oursMs), `${hp.pagesWritten} pages written, bytes equal: ${hp.equal}`]);
    proxy.stop();
    if (!opt['skip-big']) {
      const b = await bigRSS(dir);
      rows.push([`CLI restore of ${(b.size / 1e9).toFixed(2)} GB`, ms(b.elapsed), `peak RSS ${b.rssMB.toFixed(0)} MB, bytes equal: ${b.equal}`]);
    }
    console.log(`latency ${opt.latency} ms each way, median of ${opt.runs}`);
    for (const r of rows) console.log(`${r[0].padEnd(34)}${r[1].padStart(10)}   ${r[2]}`);
  } finally {
    s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
