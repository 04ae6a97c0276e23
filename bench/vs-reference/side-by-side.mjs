/**
 * side-by-side: one round of a replicator (`tool replicate` to a file replica, or to
 * s3rver with `--replica s3`; each tool's default settings but `--sync-interval`) beside a
 * writer, for bench/vs-reference.mjs.
 *
 * 1. A fresh database with one row; the replicator starts; the round waits for its
 *    snapshot in the replica, then 2 s more.
 * 2. Idle: its CPU (/proc/PID/stat) over `idle` s on the untouched database, per hour.
 * 3. Writing: `commits` single-row transactions at `rate` a second (commit k is due at
 *    start + k / rate), 100-byte rows that begin with a marker `lag:NNNNNNNN:`. VmRSS is
 *    sampled every 250 ms (steady: the median); VmHWM is read at the end (peak); CPU from
 *    the first commit to 2 s after the last (the reference syncs every second), per 1,000.
 * 4. Lag: segment arrivals are seen through inotify on the replica (fs.watch; a segment
 *    it missed counts from its mtime). After the stop every segment is decoded; a commit
 *    arrived with the first segment holding its marker. Lag = arrival − commit. On s3rver
 *    the replica is its data directory: the test suite's s3rver renames a whole body into
 *    `KEY._S3rver_object`, so arrival is that rename, just before the PUT is answered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeFrame } from '../../dist/replicator/lz4/index.js';
import { BUCKET, s3ReplicaYaml, writeConfig } from './build.mjs';
import { filesUnder, Writer } from './history.mjs';
import { cpuSeconds, memory, startReplicator, waitUntil } from './procs.mjs';

const SETTLE_MS = 2000;
const TAIL_MS = 2000;
const SAMPLE_MS = 250;
const now = () => performance.timeOrigin + performance.now();
/** SEGMENT matches a WAL segment's file in a file replica or in s3rver's data directory. */
const SEGMENT = /\.wal\.lz4(\._S3rver_object)?$/;

/** watchSegments records when each WAL segment appears in the replica (its rename into place). */
function watchSegments(replica) {
  const seen = new Map();
  const watcher = fs.watch(replica, { recursive: true }, (_event, name) => {
    if (name && SEGMENT.test(name) && !seen.has(name)) seen.set(name, now());
  });
  return { seen, close: () => watcher.close() };
}

const TEXT = Buffer.from('a row of the side-by-side writer, half text, ended.');

/** marker is commit k's row: `lag:NNNNNNNN:` then random bytes, then text; 100 bytes. */
function marker(writer, k) {
  const head = Buffer.from(`lag:${String(k).padStart(8, '0')}:`);
  return Buffer.concat([head, writer.rand.bytes(50 - head.length), TEXT.subarray(0, 50)]);
}

/** paced commits the markers at `rate` a second; returns their commit times, the RSS samples and the CPU used. */
async function paced(writer, pid, { commits, rate }) {
  const at = new Float64Array(commits);
  const rss = [];
  const sampler = setInterval(() => {
    try {
      rss.push(memory(pid).rss);
    } catch {
      // The replicator died; the round fails when it reads the CPU.
    }
  }, SAMPLE_MS);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  for (let k = 0; k < commits; k++) {
    await sleep(Math.max(0, t0 + (k * 1000) / rate - performance.now()));
    writer.insert(marker(writer, k));
    at[k] = now();
  }
  await sleep(TAIL_MS);
  clearInterval(sampler);
  return { at, rss, cpu: cpuSeconds(pid) - cpu0, seconds: (performance.now() - t0) / 1000 };
}

/** lags decodes every segment of the replica and returns each matched commit's lag in ms, sorted. */
function lags(replica, seen, at) {
  const first = new Float64Array(at.length).fill(Infinity);
  let missed = 0;
  for (const rel of filesUnder(replica, SEGMENT)) {
    const file = path.join(replica, rel);
    let arrival = seen.get(rel);
    if (arrival === undefined) {
      arrival = fs.statSync(file).mtimeMs;
      missed++;
    }
    const text = decodeFrame(fs.readFileSync(file)).toString('latin1');
    for (const m of text.matchAll(/lag:(\d{8}):/g)) {
      const k = Number(m[1]);
      if (k < at.length && arrival < first[k]) first[k] = arrival;
    }
  }
  const out = [];
  first.forEach((a, k) => Number.isFinite(a) && out.push(a - at[k]));
  return { lags: out.sort((a, b) => a - b), missed };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * replicateRound runs one round of `tool` in the fresh directory `dir`; see the file's
 * comment. With `s3` ({ port, dataDir, prefix }) the replica is on s3rver at `prefix`.
 */
export async function replicateRound(tool, dir, opt, s3) {
  const db = path.join(dir, 'app.db');
  const replica = s3 ? path.join(s3.dataDir, BUCKET, s3.prefix) : path.join(dir, 'replica');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(replica, { recursive: true });
  const interval = opt['sync-interval'] ? [`  sync-interval: ${opt['sync-interval']}`] : [];
  const cfg = writeConfig(path.join(dir, 'replicate.yml'), db, [[...(s3 ? s3ReplicaYaml(s3.prefix, s3.port) : [`- path: ${replica}`]), ...interval]]);
  const writer = new Writer(db, 'side-by-side');
  writer.insert();
  const watch = watchSegments(replica);
  const rep = startReplicator(tool, cfg);
  try {
    const snapshot = () => filesUnder(replica, /\.snapshot\.lz4(\._S3rver_object)?$/).length > 0;
    await waitUntil(`${tool} replicate wrote a snapshot`, () => snapshot() || !rep.running(), 60_000, rep.output);
    if (!rep.running()) throw new Error(`${tool} replicate exited: ${rep.output()}`);
    await sleep(SETTLE_MS);
    const idle0 = cpuSeconds(rep.pid);
    await sleep(opt.idle * 1000);
    const idle = ((cpuSeconds(rep.pid) - idle0) / opt.idle) * 3600;
    const run = await paced(writer, rep.pid, opt);
    const { hwm } = memory(rep.pid);
    await rep.stop();
    const { lags: sorted, missed } = lags(replica, watch.seen, run.at);
    return {
      idleCpuPerHour: idle,
      cpuPer1000: (run.cpu / opt.commits) * 1000,
      rssSteady: median(run.rss),
      rssPeak: hwm,
      lag: { p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), max: sorted[sorted.length - 1], matched: sorted.length, missedEvents: missed },
      seconds: run.seconds,
    };
  } finally {
    watch.close();
    await rep.stop(5000);
    writer.close();
  }
}
