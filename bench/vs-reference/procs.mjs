/**
 * procs: the processes bench/vs-reference.mjs runs and how it measures them — each tool's
 * CLI (ours: the built `dist/cli/main.js` under this node; the reference: $LITESTREAM_BIN),
 * one restore under GNU time, a replicator read from /proc, s3rver, the latency proxy.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { REPLICATOR_NODE_FLAGS } from '../../dist/supervisor/builtin.js';

/** ROOT is the repository's root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** CLI is the built Lifeboat CLI. */
export const CLI = path.join(ROOT, 'dist/cli/main.js');

/** TIME_BIN is GNU time, which reports one child's user and system CPU and peak RSS (wait4's rusage). */
export const TIME_BIN = '/usr/bin/time';

/** REFERENCE_BIN is the reference Litestream binary, or undefined when $LITESTREAM_BIN is unset or empty. */
export const REFERENCE_BIN = process.env.LITESTREAM_BIN || undefined;

/** TOOLS names the tools measured: ours, then the reference when its binary is given. */
export const TOOLS = REFERENCE_BIN ? ['ours', 'reference'] : ['ours'];

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
const OUTPUT_KEPT = 8192;

/** argv returns the file and arguments that run `tool` with `args`. */
function argv(tool, args) {
  return tool === 'ours' ? [process.execPath, [CLI, ...args]] : [REFERENCE_BIN, args];
}

/** keepTail collects a child's stdout and stderr, keeping the last few kilobytes for error messages. */
function keepTail(child) {
  let out = '';
  const keep = (d) => (out = (out + d).slice(-OUTPUT_KEPT));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return () => out.trim();
}

/**
 * measured runs `tool ARGS` under `GNU time -o TIMEFILE -f '%e %U %S %M'` and resolves its
 * wall time (our clock, spawn to exit, in s), CPU (user + sys, s) and peak RSS (MB) — of
 * that one child, as wait4 reports them. Throws on a non-zero exit, with its output's tail.
 */
export async function measured(tool, args, timeFile) {
  const [file, rest] = argv(tool, args);
  const t = performance.now();
  const child = spawn(TIME_BIN, ['-o', timeFile, '-f', '%e %U %S %M', file, ...rest], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = keepTail(child);
  const exited = new Promise((resolve) => child.once('exit', () => resolve((performance.now() - t) / 1000)));
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const wall = await exited;
  if (code !== 0) throw new Error(`${tool} ${args[0]}: exit ${code}: ${output().split('\n').slice(-3).join(' | ')}`);
  const [, user, sys, kb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(/\s+/).map(Number);
  return { wall, cpu: user + sys, rss: kb / 1024 };
}

/**
 * startReplicator runs `tool replicate -config CFG` — ours with the V8 flags `lifeboat init`
 * gives its replicator (REPLICATOR_NODE_FLAGS). stop() sends SIGTERM (both tools then make a
 * final sync) and waits for the exit; SIGKILL after `graceMs`.
 */
export function startReplicator(tool, cfg) {
  const [file, rest] = argv(tool, ['replicate', '-config', cfg]);
  if (tool === 'ours') rest.unshift(...REPLICATOR_NODE_FLAGS);
  const child = spawn(file, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = keepTail(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    pid: child.pid,
    output,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop(graceMs = 120_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
}

/** waitUntil polls `check` every 50 ms; after `ms` it throws, naming `what`, with `context()` appended. */
export async function waitUntil(what, check, ms, context = () => '') {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}\n${context()}`);
    await sleep(50);
  }
}

/** cpuSeconds is a live process's user + system CPU so far, all its threads, from /proc/PID/stat (fields 14 and 15, in clock ticks). */
export function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** memory is a live process's resident set now (VmRSS) and at its peak so far (VmHWM), in MB. */
export function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)[1]) / 1024;
  return { rss: mb('VmRSS'), hwm: mb('VmHWM') };
}

/**
 * startS3rver runs the test suite's s3rver wrapper (with the legacy OpenSSL provider, for
 * listings past 1,000 keys) on `dataDir` with `bucket` made; resolves its port, a count of
 * the requests it answered so far, and stop (its stdin stays open: it exits when it closes).
 */
export async function startS3rver(dataDir, bucket) {
  fs.mkdirSync(path.join(dataDir, bucket), { recursive: true });
  const requestLog = `${dataDir}-requests.jsonl`;
  fs.writeFileSync(requestLog, '');
  const args = JSON.stringify({ dir: dataDir, requestLog, address: '127.0.0.1', fixPrefixes: true });
  const child = spawn(process.execPath, ['--openssl-legacy-provider', path.join(ROOT, 'test/helpers/s3rver-server.mjs'), args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`s3rver exited ${c}`)));
    child.stdout.once('data', (b) => resolve(JSON.parse(String(b).split('\n')[0]).port));
  });
  const requests = () => fs.readFileSync(requestLog, 'utf8').split('\n').filter(Boolean).length;
  return { port, requests, stop: () => child.kill('SIGTERM') };
}

/**
 * startProxy runs bench/latency-proxy.mjs in its own process (not sharing an in-process
 * restore's event loop), `ms` each way in front of `target`; resolves its port, a count of
 * the connections it accepted so far, and stop.
 */
export async function startProxy(target, ms) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/latency-proxy.mjs'), String(target), String(ms)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let connections = 0;
  let buf = '';
  const port = await new Promise((resolve) => {
    child.stdout.on('data', (b) => {
      buf += b;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) if (l === 'conn') connections++;
      else resolve(Number(l));
    });
  });
  return { port, connections: () => connections, stop: () => child.kill('SIGTERM') };
}
