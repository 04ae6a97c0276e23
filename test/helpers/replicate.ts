/**
 * replicate: run `lifeboat replicate` (or another replicator) as a real child process and
 * watch its log lines, their leading timestamps taken off (test/log.test.ts and the CLI
 * tests check those); Lifeboat's output is captured for the secrets scan.
 */
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { captureOutput } from './capture.js';
import { CLI, ROOT } from './cli.js';
import { untimed } from './log-lines.js';

/** WRITER is the tiny app fixture that commits rows (`writer.mjs DB COUNT [DELAY_MS] [ROW_BYTES] [WAL_AUTOCHECKPOINT]`). */
export const WRITER = path.join(ROOT, 'test/fixtures/writer.mjs');

/** Running is a started process whose stdout and stderr lines are collected as they come. */
export interface Running {
  proc: ResultPromise;
  lines: string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<{ exitCode: number | undefined; output: string }>;
}

/** startReplicate runs `lifeboat replicate ARGS…` and collects its stderr/stdout lines. */
export function startReplicate(args: string[], env: Record<string, string> = {}): Running {
  return startWatched(process.execPath, [CLI, 'replicate', ...args], env);
}

/** startWatched runs `file ARGS…` (environment: ours plus `env`) and collects its stderr/stdout lines. */
export function startWatched(file: string, args: string[], env: Record<string, string> = {}): Running {
  // forceKillAfterDelay: false — execa would SIGKILL 5 s after a kill(), cutting a final
  // sync short on a busy machine; a test waits for the exit instead.
  const proc = execa(file, args, { reject: false, all: true, env, buffer: true, forceKillAfterDelay: false });
  if (args[0] === CLI) captureOutput(proc, `lifeboat-${args[1] ?? ''}`);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let partial = '';
  proc.all!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const raw of parts) {
      const line = untimed(raw);
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.re.test(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  return {
    proc,
    lines,
    waitFor(re, timeoutMs = 15_000) {
      const found = lines.find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timeout waiting for ${re}; output:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
    async stop(signal = 'SIGTERM') {
      proc.kill(signal);
      const res = await proc;
      return { exitCode: res.exitCode, output: lines.join('\n') + untimed(partial) };
    },
  };
}

/** runWriter runs the writer fixture to completion. */
export async function runWriter(db: string, count: number, delayMs = 0, rowBytes = 100, walAutocheckpoint?: number): Promise<void> {
  const extra = walAutocheckpoint === undefined ? [] : [String(walAutocheckpoint)];
  await execa(process.execPath, [WRITER, db, String(count), String(delayMs), String(rowBytes), ...extra]);
}
