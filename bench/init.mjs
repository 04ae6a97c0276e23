#!/usr/bin/env node
/**
 * bench/init: the init's own memory and its start → app exec time, median of N runs.
 *
 *   npm run build && node bench/init.mjs [RUNS]
 *
 * - start → app exec: wall clock from just before spawning `node dist/cli/main.js init`
 *   to the app's first instant, the app being `sh -c 'date +%s%N'` (CLOCK_REALTIME on
 *   both sides; the sh and date start-up, ~1-2 ms, is included).
 * - RSS: VmRSS of the init process (not its children) 1.5 s after the app started, idle.
 *
 * INIT_NODE_FLAGS (e.g. `--no-opt`, `--lite-mode`) are given to the init's node only,
 * as an image's ENTRYPOINT could; the replicator and the app never inherit them.
 *
 * Scenarios: no config (no replicator); a config with one database that exists (the
 * replicator starts and must report ready before the app; nothing to restore); the same
 * with the database missing and an empty replica (first boot: the restore child runs and
 * finds nothing, then the replicator).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const RUNS = Number(process.argv[2] ?? 7);
const NODE_FLAGS = (process.env.INIT_NODE_FLAGS ?? '').split(' ').filter(Boolean);

const BASE_ENV = {
  ...process.env,
  LIFEBOAT_SERVICES_DIR: '/nonexistent',
  LIFEBOAT_CONT_INIT_DIR: '/nonexistent',
  LIFEBOAT_CONT_FINISH_DIR: '/nonexistent',
  LIFEBOAT_CONFIG: '',
  LITESTREAM_CONFIG: '',
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** rssMB reads VmRSS and its private part RssAnon (the rest is mostly node's own code, shared). */
function rssMB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)[1]) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

/** made are the run dirs scenarioArgs created, removed when the bench ends. */
const made = [];

/** scenarioArgs prepares a fresh dir for one run and returns the init's flags. */
function scenarioArgs(kind) {
  if (kind === 'none') return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-'));
  made.push(dir);
  const db = path.join(dir, 'app.db');
  fs.writeFileSync(path.join(dir, 'lifeboat.yml'), `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${dir}/replica\n`);
  if (kind === 'replicator') {
    spawnSync('node', ['-e', `const D=require(${JSON.stringify(path.join(ROOT, 'node_modules/better-sqlite3'))});const d=new D(${JSON.stringify(db)});d.pragma('journal_mode=wal');d.exec('create table t(id integer primary key, v text)');d.close()`]);
  }
  return ['-config', path.join(dir, 'lifeboat.yml')];
}

/** startToExec runs the init with an app that prints its start time; returns ms. */
function startToExec(kind) {
  const args = scenarioArgs(kind);
  return new Promise((resolve, reject) => {
    const t0 = performance.timeOrigin + performance.now();
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI, 'init', ...args, 'sh', '-c', 'date +%s%N'], { env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const ns = /^(\d{19})$/m.exec(out);
      if (code !== 0 || !ns) return reject(new Error(`init exited ${code}:\n${out}`));
      resolve(Number(BigInt(ns[1]) / 1000n) / 1000 - t0);
    });
  });
}

/** idleRss runs the init with a long-running app and reads its RSS once settled. */
function idleRss(kind) {
  const args = scenarioArgs(kind);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI, 'init', ...args, 'sleep', '30'], { env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      if (!/app started/.test(out)) return reject(new Error(`app not started:\n${out}`));
      const rss = rssMB(child.pid);
      child.once('exit', () => resolve(rss));
      child.kill('SIGTERM');
    }, 1500 + (kind === 'none' ? 0 : 1000));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 && code !== 143) reject(new Error(`init exited ${code}:\n${out}`));
    });
  });
}

async function measure(kind) {
  const times = [];
  const rss = [];
  for (let i = 0; i < RUNS; i++) times.push(await startToExec(kind));
  for (let i = 0; i < Math.min(RUNS, 3); i++) rss.push(await idleRss(kind));
  const anon = median(rss.map((r) => r.anon));
  return { time: median(times), timeMin: Math.min(...times), timeMax: Math.max(...times), rss: median(rss.map((r) => r.rss)), anon };
}

const SCENARIOS = [
  ['none', 'no config (no replicator)'],
  ['replicator', 'replicator, database exists (readiness included, nothing to restore)'],
  ['first-boot', 'replicator, first boot (restore child finds no replica, then readiness)'],
];

const flags = NODE_FLAGS.length ? `, init node flags: ${NODE_FLAGS.join(' ')}` : '';
console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${RUNS} runs each (RSS: median of ${Math.min(RUNS, 3)})${flags}\n`);
console.log('| scenario | start → app exec (median, min–max) | init RSS idle (of which private) |');
console.log('|---|---|---|');
try {
  for (const [kind, label] of SCENARIOS) {
    try {
      const r = await measure(kind);
      console.log(`| ${label} | ${r.time.toFixed(0)} ms (${r.timeMin.toFixed(0)}–${r.timeMax.toFixed(0)}) | ${r.rss.toFixed(1)} MB (${r.anon.toFixed(1)} MB) |`);
    } catch (err) {
      console.log(`| ${label} | failed: ${String(err.message).split('\n')[0]} | |`);
    }
  }
} finally {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
}
