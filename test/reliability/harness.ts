/**
 * harness: the reliability harness's moving parts — the numbered writer running as a real
 * app process, `lifeboat replicate` started and killed, restores checked with verify.ts —
 * shared by the quick runs in `npm test` and the long runs of bench/reliability.mjs (which
 * sets the LIFEBOAT_HARNESS_* counts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lifeboat, ROOT } from '../helpers/cli.js';
import { startReplicate, type Running } from '../helpers/replicate.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';
import { verifyNumbered, type Verdict } from './verify.js';

/** NUMBERED_WRITER is the app fixture that commits numbered transactions until SIGTERM. */
export const NUMBERED_WRITER = path.join(ROOT, 'test/fixtures/numbered-writer.mjs');

/**
 * count reads a harness count from the environment (bench/reliability.mjs), else `quick`;
 * a positive integer, or with `zeroOk` a non-negative one.
 */
export function count(name: string, quick: number, zeroOk = false): number {
  const v = process.env[`LIFEBOAT_HARNESS_${name}`];
  if (v === undefined || v === '') return quick;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new Error(`LIFEBOAT_HARNESS_${name}: not a ${zeroOk ? 'non-negative' : 'positive'} integer: ${JSON.stringify(v)}`);
  return n;
}

/** Target is a replica URL and the environment `lifeboat` needs for it. */
export interface Target {
  url: string;
  env: Record<string, string>;
  /** stored is where the replica's objects lie on this machine (s3rver's data), kept with a failure. */
  stored?: string;
}

/** Writer is the running numbered writer. */
export interface Writer {
  /** stop sends SIGTERM and resolves with the number of the last committed transaction. */
  stop(): Promise<number>;
  /** kill ends it at once (cleanup after a failure). */
  kill(): void;
}

/** startWriter runs the numbered writer on `db` (transactions of 1..maxRows rows, `pauseMs` apart) until stopped. */
export async function startWriter(db: string, maxRows: number, pauseMs = 0): Promise<Writer> {
  const child = spawn(process.execPath, [NUMBERED_WRITER, db, String(maxRows), String(pauseMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  await waitUntil(() => /started at \d+/.test(out), { what: 'the numbered writer to start', detail: () => out });
  return {
    async stop() {
      child.kill('SIGTERM');
      const code = await exited(child);
      const m = /committed (\d+)/.exec(out);
      if (code !== 0 || !m) throw new Error(`numbered writer: exit ${code}: ${out}`);
      return Number(m[1]);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

/** exited resolves with a child's exit code (128+N for a signal). */
export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0))));
}

/** restoreAndVerify restores the latest state of `target` into a fresh file and verifies it. */
export async function restoreAndVerify(target: Target): Promise<Verdict & { file: string }> {
  const file = path.join(tmpDir('lifeboat-harness-restore-'), 'restored.db');
  const res = await lifeboat(['restore', '-o', file, target.url], { env: target.env });
  if (res.exitCode !== 0) return { file, transactions: 0, problem: `restore exit ${res.exitCode}: ${String(res.all).trim()}` };
  return { file, ...verifyNumbered(file) };
}

/**
 * keep copies a failed restore's output, the replica (a file replica's directory, or the
 * target's `stored` objects) and the replicator runs' output so far (`logs`) to
 * $LIFEBOAT_HARNESS_KEEP (if set) for a look afterwards; returns where, for the report.
 */
function keep(target: Target, restored: string, logs: string[]): string {
  const dir = process.env.LIFEBOAT_HARNESS_KEEP;
  if (!dir) return '';
  fs.mkdirSync(dir, { recursive: true });
  const to = fs.mkdtempSync(path.join(dir, 'failure-'));
  if (fs.existsSync(restored)) fs.copyFileSync(restored, path.join(to, 'restored.db'));
  const replica = target.url.startsWith('file://') ? target.url.slice('file://'.length) : target.stored;
  if (replica && fs.existsSync(replica)) fs.cpSync(replica, path.join(to, 'replica'), { recursive: true });
  fs.writeFileSync(path.join(to, 'replicate.log'), logs.join('\n') + '\n');
  return ` (kept in ${to})`;
}

/** KillOptions: how many kill -9 cycles, how long the replicator runs in each, how often to restore meanwhile. */
export interface KillOptions {
  cycles: number;
  maxRows: number;
  upMs: [number, number];
  restoreEvery: number;
  /** pauseMs: the writer's pause after each transaction (0: full speed). */
  pauseMs: number;
}

/** KillReport is what a run of kill cycles saw. */
export interface KillReport {
  cycles: number;
  restores: number;
  /** committed is the writer's last transaction; restored the final restore's. */
  committed: number;
  restored: number;
  problems: string[];
}

/**
 * killCycles runs the writer throughout while `lifeboat replicate` is started, left running
 * for a random time in `upMs`, and killed with SIGKILL, `cycles` times; every
 * `restoreEvery` cycles, while it is down, a restore must hold whole transactions 1..N
 * with N never going back. Then the writer stops, a last replicator stops with SIGTERM
 * (exit 0), and the restore must hold every committed transaction.
 */
export async function killCycles(db: string, target: Target, opts: KillOptions): Promise<KillReport> {
  const report: KillReport = { cycles: 0, restores: 0, committed: 0, restored: 0, problems: [] };
  const writer = await startWriter(db, opts.maxRows, opts.pauseMs);
  let floor = 0;
  let rep: Running | undefined;
  // Every run's output, for a failure kept (keep).
  const logs: string[] = [];
  try {
    for (let i = 1; i <= opts.cycles; i++) {
      logs.push(`=== kill cycle ${i}`);
      rep = startReplicate([db, target.url], target.env);
      await rep.waitFor(/replicating/, 30_000);
      // The first run completes a generation (its WAL, then its snapshot): from then on every
      // restore must find one, however busy the machine.
      if (i === 1) await rep.waitFor(/snapshot written/, 120_000);
      // The kill comes at a random moment: mid-copy, mid-upload, mid-checkpoint or idle.
      const up = opts.upMs[0] + Math.floor(Math.random() * (opts.upMs[1] - opts.upMs[0]));
      await new Promise((resolve) => setTimeout(resolve, up));
      rep.proc.kill('SIGKILL');
      logs.push(String((await rep.proc).all ?? ''));
      rep = undefined;
      report.cycles = i;
      if (i % opts.restoreEvery !== 0) {
        console.log(`kill cycle ${i}/${opts.cycles}: killed after ${up} ms`);
        continue;
      }
      const restoreStarted = Date.now();
      const v = await restoreAndVerify(target);
      console.log(`kill cycle ${i}/${opts.cycles}: killed after ${up} ms; restored ${v.transactions} transactions in ${Date.now() - restoreStarted} ms`);
      report.restores++;
      if (v.problem) report.problems.push(`cycle ${i}: ${v.problem}${keep(target, v.file, logs)}`);
      else if (v.transactions < floor) report.problems.push(`cycle ${i}: restored ${v.transactions} transactions, fewer than the ${floor} restored before`);
      floor = Math.max(floor, v.transactions);
    }
  } finally {
    rep?.proc.kill('SIGKILL');
    report.committed = await writer.stop();
  }
  // The last run meets the killed run's unreleased claim, so its final sync uploads a new
  // generation's snapshot: the default shutdown-sync-timeout (3 s) is for a platform's stop
  // timeout, not for a busy test machine, and this checks the data, not the time.
  console.log(`kill cycles: the writer stopped at ${report.committed}; a last replicate and a final restore`);
  const last = startReplicate(['-shutdown-sync-timeout', '120s', db, target.url], target.env);
  await last.waitFor(/replicating/, 30_000);
  const { exitCode, output } = await last.stop('SIGTERM');
  logs.push('=== last run', output);
  if (exitCode !== 0) report.problems.push(`final replicate exit ${exitCode}: ${output.split('\n').slice(-5).join(' | ')}`);
  const v = await restoreAndVerify(target);
  report.restored = v.transactions;
  if (v.problem) report.problems.push(`final restore: ${v.problem}${keep(target, v.file, logs)}`);
  else if (v.transactions !== report.committed) report.problems.push(`final restore holds ${v.transactions} of ${report.committed} committed transactions`);
  return report;
}
