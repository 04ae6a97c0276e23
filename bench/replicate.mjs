#!/usr/bin/env node
// bench/replicate: file-replica lag and writer throughput of `lifeboat replicate`.
//
//   npm run build && node bench/replicate.mjs [--commits 300] [--interval 100] [--throughput 100000] [--rounds 9]
//     [--skip-lag] [--sync NORMAL|FULL] [--min-checkpoint-page-count N] [--sync-interval D] [--replica-root DIR]
//
// --min-checkpoint-page-count and --sync-interval (the replica's, e.g. 20ms) run `replicate`
// from a config with that setting; --replica-root
// puts the replicas under DIR (e.g. /dev/shm, to take the replica's disk writes out).
//
// Lag: a writer commits one row every --interval ms while `lifeboat replicate DB file://R`
// runs; each commit's lag is the time from its commit until the replica holds a segment
// covering it (the segment's rename into place, seen through inotify on the replica).
// Throughput: --throughput single-row transactions as fast as possible, without and with
// replicate running (--rounds alternating rounds, medians), and their ratio, with the
// replicator's CPU time (user + system) per 1,000 of those commits. --throughput is
// 100,000 by default: a round of ~1.5 s, where 20,000 lasts ~0.3 s and swings more; 9 rounds by
// default: one round's ratio swings by ±5–10% on a small VM. Once with
// synchronous=NORMAL (better-sqlite3's default: no fsync per commit, the harshest case)
// and once with synchronous=FULL (an fsync per commit).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** CLK_TCK is the unit of the CPU times in /proc/PID/stat. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const CLI = path.join(ROOT, 'dist/cli/main.js');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const COMMITS = Number(args.commits ?? 300);
const INTERVAL = Number(args.interval ?? 100);
const THROUGHPUT = Number(args.throughput ?? 100000);
const ROUNDS = Number(args.rounds ?? 9);
const SKIP_LAG = process.argv.includes('--skip-lag');
const SYNC_MODES = args.sync ? [args.sync] : ['NORMAL', 'FULL'];
const MIN_CHECKPOINT = args['min-checkpoint-page-count'];
const SYNC_INTERVAL = args['sync-interval'];
const REPLICA_ROOT = args['replica-root'];

function openApp(file) {
  const db = new Database(file);
  db.pragma('journal_mode = wal');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  return db;
}

/** replicateArgs: the single-database form, or a config when a setting is asked for. */
function replicateArgs(db, replica) {
  if (MIN_CHECKPOINT === undefined && SYNC_INTERVAL === undefined) return [db, `file://${replica}`];
  const config = `${db}.yml`;
  const dbSetting = MIN_CHECKPOINT === undefined ? '' : `    min-checkpoint-page-count: ${MIN_CHECKPOINT}\n`;
  const replicaSetting = SYNC_INTERVAL === undefined ? '' : `        sync-interval: ${SYNC_INTERVAL}\n`;
  fs.writeFileSync(config, `dbs:\n  - path: ${db}\n${dbSetting}    replicas:\n      - path: ${replica}\n${replicaSetting}`);
  return ['-config', config];
}

async function startReplicate(db, replica) {
  const child = spawn(process.execPath, [CLI, 'replicate', ...replicateArgs(db, replica)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes('replicating')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`replicate exited ${code}: ${err}`)));
  });
  return {
    /** cpuMs is the replicator's CPU time so far (user + system, /proc/PID/stat), in ms. */
    cpuMs() {
      const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** watchSegments records when each segment file appears in the replica (inotify rename events). */
function watchSegments(replica) {
  const seen = new Map();
  fs.mkdirSync(replica, { recursive: true });
  const watcher = fs.watch(replica, { recursive: true }, (_event, name) => {
    if (name && /\.wal\.lz4$/.test(name) && !seen.has(name)) seen.set(name, performance.timeOrigin + performance.now());
  });
  return { seen, close: () => watcher.close() };
}

/** segments lists the replica's WAL segments with their [start, end) and arrival time. */
function segments(replica, seen) {
  const out = [];
  for (const [name, at] of seen) {
    const m = /([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/.exec(name);
    const len = execFileSync('lz4', ['-dc', path.join(replica, name)], { maxBuffer: 1 << 30 }).length;
    const start = parseInt(m[2], 16);
    out.push({ index: parseInt(m[1], 16), start, end: start + len, at });
  }
  return out;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function lag() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-lag-'));
  const file = path.join(dir, 'app.db');
  const replica = path.join(dir, 'r');
  const app = openApp(file);
  const watch = watchSegments(replica);
  const rep = await startReplicate(file, replica);
  await new Promise((r) => setTimeout(r, 300));
  const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
  const commits = [];
  for (let i = 0; i < COMMITS; i++) {
    ins.run(`row ${i} `.padEnd(100, 'x'));
    commits.push({ end: fs.statSync(`${file}-wal`).size, at: performance.timeOrigin + performance.now() });
    await new Promise((r) => setTimeout(r, INTERVAL));
  }
  await rep.stop();
  app.close();
  watch.close();
  const segs = segments(replica, watch.seen);
  const lags = [];
  for (const c of commits) {
    const seg = segs.filter((s) => s.end >= c.end && s.start < c.end).sort((a, b) => a.at - b.at)[0];
    if (seg) lags.push(seg.at - c.at);
  }
  lags.sort((a, b) => a - b);
  fs.rmSync(dir, { recursive: true, force: true });
  return { commits: COMMITS, matched: lags.length, segments: segs.length, p50: percentile(lags, 50), p90: percentile(lags, 90), p99: percentile(lags, 99), max: lags[lags.length - 1] };
}

function writeBurst(file, n, synchronous) {
  const app = openApp(file);
  app.pragma(`synchronous = ${synchronous}`);
  const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ins.run(`row ${i} `.padEnd(100, 'y'));
  const ms = performance.now() - t0;
  app.close();
  return (n / ms) * 1000;
}

async function throughputRound(withReplicate, synchronous) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-tp-'));
  const file = path.join(dir, 'app.db');
  openApp(file).close();
  const replica = REPLICA_ROOT ? fs.mkdtempSync(path.join(REPLICA_ROOT, 'lifeboat-bench-r-')) : path.join(dir, 'r');
  const rep = withReplicate ? await startReplicate(file, replica) : undefined;
  if (rep) await new Promise((r) => setTimeout(r, 300));
  const cpu0 = rep?.cpuMs();
  const rate = writeBurst(file, THROUGHPUT, synchronous);
  const cpuPer1000 = rep ? ((rep.cpuMs() - cpu0) / THROUGHPUT) * 1000 : undefined;
  await rep?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(replica, { recursive: true, force: true });
  return { rate, cpuPer1000 };
}

/** throughput alternates rounds without and with replicate (the machine's drift hits both) and returns the medians. */
async function throughput(synchronous) {
  const without = [];
  const withRep = [];
  const cpu = [];
  for (let round = 0; round < ROUNDS; round++) {
    without.push((await throughputRound(false, synchronous)).rate);
    const r = await throughputRound(true, synchronous);
    withRep.push(r.rate);
    cpu.push(r.cpuPer1000);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { without: median(without), withRep: median(withRep), cpuPer1000: median(cpu) };
}

if (!SKIP_LAG) {
  const l = await lag();
  console.log(`lag: ${l.commits} commits every ${INTERVAL} ms, ${l.segments} segments; p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms (${l.matched} matched)`);
}
for (const synchronous of SYNC_MODES) {
  const { without, withRep, cpuPer1000 } = await throughput(synchronous);
  console.log(`throughput (synchronous=${synchronous}): ${THROUGHPUT} single-row commits, median of ${ROUNDS} alternating rounds: without replicate ${without.toFixed(0)}/s, with ${withRep.toFixed(0)}/s, ratio ${(withRep / without).toFixed(2)}; replicate's CPU per 1,000 commits ${cpuPer1000.toFixed(0)} ms`);
}
