#!/usr/bin/env node
/**
 * demo: Lifeboat in 20 seconds, on this machine, without Docker or a cloud account.
 *
 *   npm ci && npm run demo     (npm run demo = npm run build && node scripts/demo.mjs)
 *
 * In a temporary directory it runs the demo app (examples/demo/server.mjs) under
 * `lifeboat init` with a config that replicates its SQLite database to a local directory;
 * writes notes through HTTP; stops everything with SIGTERM (the app first, then the
 * replicator's final sync); deletes the data directory, as if the disk were lost; starts
 * again: the init restores the database from the replica before the app starts, and the
 * notes are back. Exit 0 when they are, 1 otherwise. LIFEBOAT_DEMO_KEEP=1 keeps the
 * directory.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const APP = path.join(ROOT, 'examples/demo/server.mjs');
const NOTES = ['buy milk', 'call the plumber about the leak', 'back up the database (done: Lifeboat)'];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lifeboat-demo-'));
const dataDir = path.join(work, 'data');
const db = path.join(dataDir, 'app.db');
const replica = path.join(work, 'replica');
const config = path.join(work, 'lifeboat.yml');
let current;

/** step prints a numbered step and what it is for. */
function step(n, title, ...why) {
  console.log(`\n[${n}/6] ${title}`);
  for (const line of why) console.log(`      ${line}`);
}

/** freePort returns a TCP port that was free on 127.0.0.1 a moment ago. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** startInit runs `lifeboat init` with the demo app; its output is shown indented. */
function startInit(port) {
  const child = spawn(process.execPath, [CLI, 'init', '-config', config, '--', process.execPath, APP], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DB_PATH: db,
      PORT: String(port),
      HOST: '127.0.0.1',
      // Keep the demo to itself: no services, cont-init.d or cont-finish.d from /etc.
      LIFEBOAT_SERVICES_DIR: path.join(work, 'services.d'),
      LIFEBOAT_CONT_INIT_DIR: path.join(work, 'cont-init.d'),
      LIFEBOAT_CONT_FINISH_DIR: path.join(work, 'cont-finish.d'),
    },
  });
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      console.log(`    │ ${line}`);
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  current = { child, lines, exited };
  return current;
}

/** waitHealthy polls GET /healthz until 200; fails if the init exits first or after 15 s. */
async function waitHealthy(base, run) {
  let exit;
  void run.exited.then((e) => (exit = e));
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(100)) {
    if (exit) throw new Error(`lifeboat init exited (code ${exit.code}) before the app answered`);
    const res = await fetch(`${base}/healthz`).catch(() => undefined);
    if (res?.status === 200) return;
  }
  throw new Error('the app did not answer /healthz within 15 s');
}

/** stopInit sends SIGTERM and waits for the exit; returns the exit code. */
async function stopInit(run) {
  await sleep(200);
  run.child.kill('SIGTERM');
  const { code } = await run.exited;
  await sleep(50);
  return code;
}

/** listFiles lists the files under `dir`, relative to it. */
function listFiles(dir) {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

async function getNotes(base) {
  return (await fetch(`${base}/notes`)).json();
}

function showNotes(notes) {
  for (const n of notes) console.log(`      #${n.id}  ${n.text}`);
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(process.cwd(), CLI)} not found: run "npm run build" first`);
  fs.writeFileSync(config, `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${replica}\n`);
  fs.mkdirSync(dataDir);
  console.log('Lifeboat demo: a small notes app on SQLite, run by `lifeboat init`, which replicates');
  console.log('its database to a replica directory while it runs and restores it when it is lost.');
  console.log(`\n  directory  ${work}`);
  console.log(`  database   data/app.db (the app: examples/demo/server.mjs)`);
  console.log('  replica    replica/ (a file replica; in production an S3 bucket)');
  console.log(`  config     lifeboat.yml:\n${fs.readFileSync(config, 'utf8').trimEnd().replace(/^/gm, '               ')}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const command = `lifeboat init -config lifeboat.yml -- node examples/demo/server.mjs`;

  step(1, `Start: ${command}`, 'First boot: no database and no backup yet, so nothing to restore. The init starts', 'the replicator, waits until it is ready, then starts the app.');
  const first = startInit(port);
  await waitHealthy(base, first);

  step(2, `Write ${NOTES.length} notes through the app (POST ${base}/notes)`);
  for (const text of NOTES) await fetch(`${base}/notes`, { method: 'POST', body: text });
  const before = await getNotes(base);
  showNotes(before);

  step(3, 'Stop with SIGTERM', 'The init stops the app first, then the replicator, which syncs the last writes.');
  const code1 = await stopInit(first);
  console.log(`      lifeboat init exited with code ${code1}; the replica now holds:`);
  for (const f of listFiles(replica)) console.log(`        replica/${f}`);

  step(4, 'Empty the data directory, as if the disk were lost');
  const lost = fs.readdirSync(dataDir);
  for (const f of lost) fs.rmSync(path.join(dataDir, f), { recursive: true, force: true });
  console.log(`      removed from data/: ${lost.join(', ')}`);

  step(5, `Start again: ${command}`, 'The database is missing and the replica has a backup: the init restores it', 'before anything else starts.');
  const second = startInit(port);
  await waitHealthy(base, second);
  const restoredLine = second.lines.find((l) => /restored .* from /.test(l));

  step(6, `Read the notes back (GET ${base}/notes)`);
  const after = await getNotes(base);
  showNotes(after);
  console.log('      (stopping: SIGTERM)');
  const code2 = await stopInit(second);

  const same = JSON.stringify(after) === JSON.stringify(before);
  console.log('');
  if (same && restoredLine && code1 === 0 && code2 === 0) {
    console.log(`✔ All ${before.length} notes are back: the database was restored from the replica.`);
    return 0;
  }
  console.log('✘ The demo did not go as expected:');
  if (!restoredLine) console.log('  - lifeboat init did not report a restore');
  if (!same) console.log(`  - the notes differ: ${before.length} before, ${after.length} after`);
  if (code1 !== 0 || code2 !== 0) console.log(`  - lifeboat init exit codes: ${code1}, ${code2} (want 0)`);
  return 1;
}

function cleanup() {
  if (current && current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGKILL');
  if (process.env.LIFEBOAT_DEMO_KEEP === '1') console.log(`(kept ${work})`);
  else fs.rmSync(work, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

main().then(
  (code) => {
    cleanup();
    process.exitCode = code;
  },
  (err) => {
    console.error(`\n✘ demo failed: ${err.message}`);
    cleanup();
    process.exitCode = 1;
  },
);
