#!/usr/bin/env node
/**
 * bench/vs-reference: Lifeboat side by side with the reference Litestream v0.3.x (the
 * binary in $LITESTREAM_BIN; without it, Lifeboat alone, ratios null). One JSON line per
 * measure on stdout, with both medians, their ratio ours/reference and every run; progress
 * on stderr.
 *
 *   npm run build && LITESTREAM_BIN=/opt/ref/litestream node bench/vs-reference.mjs
 *     [--sizes 25,200,1000] [--wal-rate 4] [--pairs 3] [--transports file,s3,s3-30ms]
 *     [--latency 15] [--commits 12000] [--rate 200] [--idle 60] [--skip-restore]
 *     [--skip-replicate] [--sync-interval D] [--replica file|s3] [--keep] [--dir DIR]
 *
 * Replicas. For each size (MB of database + WAL) and each tool, a database is filled to
 * a quarter of the size (seeded rows: the same for both tools), then `TOOL replicate
 * -config` starts (each tool's defaults; a file replica, and one on s3rver when an s3
 * transport is asked for), takes its snapshot, and the writer commits transactions of 4
 * new and 4 rewritten rows until the WAL written reaches the rest of the size, at
 * `--wal-rate` MB of WAL a second, pausing whenever the WAL reaches 1000 pages until it is
 * checkpointed (without the pauses the reference put all of a 25 MB size's WAL in one
 * index; with them both tools' indexes hold about 1000 pages: see history.mjs). SIGTERM
 * stops the replicator (both make a final sync). The `replica` line gives what the newest
 * generation of the file replica holds.
 *
 * Restores. Each replica is restored by both tools, `--pairs` pairs, the order swapped
 * every pair, over each transport: `file` (`restore -o OUT file:///…`), `s3` (s3rver on
 * loopback) and `s3-30ms` (s3rver behind bench/latency-proxy.mjs, `--latency` ms each way);
 * S3 through `restore -o OUT -config CFG DB` (the reference takes an endpoint only from a
 * config). Each tool's defaults (parallelism 8 both). Measured from outside: every restore
 * runs under GNU time (`/usr/bin/time -f '%e %U %S %M'`), which reports that one child's
 * user + system CPU and peak RSS as wait4 returns them (exact for one process, its threads
 * included: both tools restore in one process); wall time is ours, spawn to exit. Node
 * cannot give a child's rusage, and /proc read before the exit races it. Lines:
 * restore_wall_s, restore_cpu_s, restore_peak_rss_mb (medians; targets ≤ 0.5×, ≤ 0.8×,
 * ≤ 1×), and restore_empty_* (a restore with -if-replica-exists that finds nothing).
 *
 * Same bytes. Every restored file is hashed (sha256 of the whole file);
 * restore_bytes_equal says whether every restore of a replica — both tools, every
 * transport and run — gave the same bytes. The first restore by each tool also gets
 * `PRAGMA integrity_check` and a digest of all rows compared with the writer's database.
 *
 * Replicators side by side (bench/vs-reference/side-by-side.mjs): rounds alternating
 * between the tools, `--pairs` each; idle CPU per hour, then `--commits` single-row commits
 * at `--rate`/s: RSS steady and peak, CPU per 1,000 commits, lag (p50, p99, max).
 * `--replica s3` puts those rounds' replica on s3rver (loopback) instead of a directory.
 * `--sync-interval D` (e.g. 1s, the reference's default) sets the replica's
 * sync-interval for both tools: the tools' defaults differ (ours 0 for a file replica).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileSha256, integrityCheck, replicaStats, rowsDigest } from './vs-reference/history.mjs';
import { CLI, REFERENCE_BIN, TIME_BIN, TOOLS, measured, startProxy, startS3rver } from './vs-reference/procs.mjs';
import { BUCKET, buildReplica, s3ReplicaYaml, writeConfig } from './vs-reference/build.mjs';
import { replicateRound } from './vs-reference/side-by-side.mjs';

const TRANSPORTS = ['file', 's3', 's3-30ms'];
const opt = options(process.argv.slice(2));

/** options parses the flags over their defaults; a bad one exits 2 naming it. */
function options(argv) {
  const out = { sizes: '25,200,1000', 'wal-rate': 4, pairs: 3, transports: TRANSPORTS.join(','), latency: 15, commits: 12000, rate: 200, idle: 60, 'sync-interval': '', replica: 'file', 'skip-restore': false, 'skip-replicate': false, keep: false, dir: os.tmpdir() };
  const fail = (msg) => {
    console.error(`bench/vs-reference: ${msg}`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--?/, '');
    if (!(name in out)) fail(`unknown flag ${JSON.stringify(argv[i])}`);
    if (typeof out[name] === 'boolean') out[name] = true;
    else if (i + 1 >= argv.length) fail(`${argv[i]} needs a value`);
    else out[name] = typeof out[name] === 'number' ? Number(argv[++i]) : argv[++i];
    if (name === 'replica' && !['file', 's3'].includes(out[name])) fail(`invalid --replica ${JSON.stringify(out[name])}: want file or s3`);
    if (name === 'sync-interval' && !/^\d+(ms|s|m)$/.test(out[name])) fail(`invalid --sync-interval ${JSON.stringify(out[name])}: want a duration such as 1s or 100ms`);
    if (typeof out[name] === 'number' && !(out[name] > 0)) fail(`invalid ${argv[i - 1]} ${JSON.stringify(argv[i])}: want a positive number`);
  }
  const sizes = out.sizes.split(',').map(Number);
  if (!sizes.every((s) => s >= 1)) fail(`invalid --sizes ${JSON.stringify(out.sizes)}: want MB, comma-separated (e.g. 25,200,1000)`);
  out.sizes = sizes;
  out.transports = out.transports.split(',');
  const bad = out.transports.find((t) => !TRANSPORTS.includes(t));
  if (bad !== undefined) fail(`invalid --transports entry ${JSON.stringify(bad)}: want ${TRANSPORTS.join(', ')}`);
  return out;
}

const log = (msg) => process.stderr.write(`vs-reference: ${msg}\n`);
const round = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 1000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** emit prints one measure: both medians of `runs` ({ours, reference}), the ratio, and the target when one is set. */
function emit(measure, fields, runs, targetMax) {
  const o = median(runs.ours);
  const r = runs.reference ? median(runs.reference) : null;
  const line = { measure, ...fields, ours: round(o), reference: round(r), ratio: r > 0 ? round(o / r) : null };
  if (targetMax !== undefined) Object.assign(line, { target_ratio_max: targetMax, met: line.ratio === null ? null : line.ratio <= targetMax });
  line.runs = { ours: runs.ours.map(round), reference: runs.reference?.map(round) ?? null };
  console.log(JSON.stringify(line));
}

/** restoreTarget names a replica for `restore` over a transport (after `-o OUT`). */
function restoreTarget(rep, transport) {
  if (transport === 'file') return [`file://${rep.replica}`];
  return ['-config', rep.configs[transport], rep.db];
}

/** restoreConfigs writes, per S3 transport, the config a restore of `prefix` reads. */
function restoreConfigs(ctx, dir, db, prefix) {
  const ports = { s3: ctx.s3?.port, 's3-30ms': ctx.proxy?.port };
  const out = {};
  for (const t of opt.transports) if (t !== 'file') out[t] = writeConfig(path.join(dir, `restore-${t}.yml`), db, [s3ReplicaYaml(prefix, ports[t])]);
  return out;
}

/** pairs runs `restore ...args(OUT)` with each tool, `opt.pairs` times, swapping the order every pair; `check(tool, OUT, result)` sees each output before it is removed. */
async function pairs(ctx, dir, args, check) {
  const runs = Object.fromEntries(TOOLS.map((t) => [t, []]));
  for (let i = 0; i < opt.pairs; i++) {
    for (const tool of i % 2 ? [...TOOLS].reverse() : TOOLS) {
      const out = path.join(dir, `restored-${tool}.db`);
      const res = await measured(tool, ['restore', ...args(out)], path.join(ctx.work, 'time.txt'));
      if (check) await check(tool, out, res);
      for (const f of [out, `${out}-wal`, `${out}-shm`]) fs.rmSync(f, { force: true });
      runs[tool].push(res);
    }
  }
  const pick = (k) => Object.fromEntries(TOOLS.map((t) => [t, runs[t].map((r) => r[k])]));
  return { wall: pick('wall'), cpu: pick('cpu'), rss: pick('rss') };
}

/** restoreEmpty measures, per transport, a restore with -if-replica-exists that finds no backup. */
async function restoreEmpty(ctx) {
  const dir = path.join(ctx.work, 'empty');
  fs.mkdirSync(path.join(dir, 'replica'), { recursive: true });
  const rep = { replica: path.join(dir, 'replica'), db: path.join(dir, 'app.db'), configs: restoreConfigs(ctx, dir, path.join(dir, 'app.db'), 'empty/app.db') };
  for (const transport of opt.transports) {
    log(`restores that find nothing, ${transport}`);
    const m = await pairs(ctx, dir, (out) => ['-if-replica-exists', '-o', out, ...restoreTarget(rep, transport)]);
    emit('restore_empty_wall_s', { transport }, m.wall);
    emit('restore_empty_cpu_s', { transport }, m.cpu);
    emit('restore_empty_peak_rss_mb', { transport }, m.rss);
  }
}

/** restoreReplica restores one replica over every transport and checks that every restore gave the same bytes. */
async function restoreReplica(ctx, rep, fields) {
  const hashes = new Set();
  const checked = {};
  const check = async (tool, out) => {
    const sha = await fileSha256(out);
    hashes.add(sha);
    if (checked[tool]) return;
    const rows = rowsDigest(out);
    checked[tool] = { sha, integrity: integrityCheck(out), rows_match_source: rows.digest === rep.source.digest && rows.rows === rep.source.rows };
  };
  for (const transport of opt.transports) {
    log(`restoring the ${fields.size_mb} MB replica written by ${fields.replica_by}, ${transport}, ${opt.pairs} pairs`);
    const m = await pairs(ctx, rep.dir, (out) => ['-o', out, ...restoreTarget(rep, transport)], check);
    emit('restore_wall_s', { ...fields, transport }, m.wall, 0.5);
    emit('restore_cpu_s', { ...fields, transport }, m.cpu, 0.8);
    emit('restore_peak_rss_mb', { ...fields, transport }, m.rss, 1);
  }
  console.log(JSON.stringify({ measure: 'restore_bytes_equal', ...fields, equal: hashes.size === 1, distinct_files: hashes.size, ours: checked.ours, reference: checked.reference ?? null, source_rows: rep.source.rows }));
}

/** restores builds each size's replicas with each tool and restores them. */
async function restores(ctx) {
  await restoreEmpty(ctx);
  for (const size of opt.sizes) {
    for (const by of TOOLS) {
      log(`building a ${size} MB replica with ${by} replicate`);
      const dir = path.join(ctx.work, `${size}mb-${by}`);
      const prefix = `${size}mb-${by}/app.db`;
      const rep = await buildReplica({ tool: by, dir, size, walRate: opt['wal-rate'], s3: ctx.s3 && { prefix, port: ctx.s3.port } });
      rep.configs = restoreConfigs(ctx, dir, rep.db, prefix);
      const stats = await replicaStats(rep.replica);
      console.log(JSON.stringify({ measure: 'replica', size_mb: size, replica_by: by, ...Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, round(v)])), build_s: round(rep.seconds) }));
      await restoreReplica(ctx, rep, { size_mb: size, replica_by: by });
      if (!opt.keep) {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(path.join(ctx.s3dir, BUCKET, `${size}mb-${by}`), { recursive: true, force: true });
      }
    }
  }
}

/** sideBySide runs the replicator rounds, alternating tools, and prints their measures. */
async function sideBySide(ctx) {
  const rounds = Object.fromEntries(TOOLS.map((t) => [t, []]));
  for (let i = 0; i < opt.pairs; i++) {
    for (const tool of i % 2 ? [...TOOLS].reverse() : TOOLS) {
      log(`replicator round ${i + 1}/${opt.pairs}, ${tool}: ${opt.idle} s idle, then ${opt.commits} commits at ${opt.rate}/s`);
      const name = `replicate-${i}-${tool}`;
      const s3 = ctx.s3 && opt.replica === 's3' ? { port: ctx.s3.port, dataDir: ctx.s3dir, prefix: `${name}/app.db` } : undefined;
      const r = await replicateRound(tool, path.join(ctx.work, name), opt, s3);
      if (r.lag.matched < opt.commits) log(`${tool}: ${opt.commits - r.lag.matched} commits not found in the replica`);
      rounds[tool].push(r);
    }
  }
  const pick = (f) => Object.fromEntries(TOOLS.map((t) => [t, rounds[t].map(f)]));
  const fields = { replica: opt.replica, commits: opt.commits, rate: opt.rate, sync_interval: opt['sync-interval'] || 'default' };
  emit('replicate_rss_steady_mb', fields, pick((r) => r.rssSteady));
  emit('replicate_rss_peak_mb', fields, pick((r) => r.rssPeak));
  emit('replicate_cpu_s_per_1000_commits', fields, pick((r) => r.cpuPer1000));
  emit('replicate_idle_cpu_s_per_hour', { replica: opt.replica, idle_s: opt.idle }, pick((r) => r.idleCpuPerHour));
  emit('replicate_lag_p50_ms', fields, pick((r) => r.lag.p50));
  emit('replicate_lag_p99_ms', fields, pick((r) => r.lag.p99));
  emit('replicate_lag_max_ms', fields, pick((r) => r.lag.max));
}

/** preflight checks what the bench needs and prints the environment line. */
function preflight() {
  const missing = [[CLI, 'run npm run build first'], [TIME_BIN, 'GNU time: apt-get install time']].find(([f]) => !fs.existsSync(f));
  if (missing) {
    console.error(`bench/vs-reference: ${missing[0]} not found (${missing[1]})`);
    process.exit(2);
  }
  const reference = REFERENCE_BIN ? execFileSync(REFERENCE_BIN, ['version'], { encoding: 'utf8' }).trim() : null;
  if (!REFERENCE_BIN) log('LITESTREAM_BIN is not set: measuring Lifeboat alone (reference and ratio are null)');
  const { sizes, 'wal-rate': walRate, pairs: n, transports, latency, commits, rate, idle } = opt;
  const options = { sizes, wal_rate: walRate, pairs: n, transports, latency, commits, rate, idle, sync_interval: opt['sync-interval'] || 'default', replica: opt.replica, skip_restore: opt['skip-restore'], skip_replicate: opt['skip-replicate'] };
  console.log(JSON.stringify({ measure: 'environment', node: process.version, reference, cpus: os.cpus().length, loadavg: os.loadavg().map(round), options }));
}

async function main() {
  preflight();
  const work = fs.mkdtempSync(path.join(opt.dir, 'lifeboat-vs-reference-'));
  const ctx = { work, s3dir: path.join(work, 's3') };
  try {
    const s3Restores = !opt['skip-restore'] && opt.transports.some((t) => t !== 'file');
    if (s3Restores || (!opt['skip-replicate'] && opt.replica === 's3')) ctx.s3 = await startS3rver(ctx.s3dir, BUCKET);
    if (!opt['skip-restore'] && opt.transports.includes('s3-30ms')) ctx.proxy = await startProxy(ctx.s3.port, opt.latency);
    if (!opt['skip-restore']) await restores(ctx);
    if (!opt['skip-replicate']) await sideBySide(ctx);
  } finally {
    ctx.proxy?.stop();
    ctx.s3?.stop();
    if (opt.keep) log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
