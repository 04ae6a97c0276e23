/**
 * procs: real-process helpers for the supervisor tests — the fixtures in test/fixtures/bin
 * on PATH, running the built `lifeboat init` (optionally as PID 1 in a new PID namespace)
 * with stdout and stderr in one file so the order of lines is the order of writes (a file
 * of the run's log directory, scanned for secrets), and counting a process tree's zombies
 * through /proc.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logFile } from './capture.js';
import { CLI, ROOT } from './cli.js';
import { untimed } from './log-lines.js';
import { DEFAULT_WAIT_MS, waitUntil } from './wait.js';

/** FIXTURES_BIN holds the tiny process fixtures (forever.js, trap-term.js …). */
export const FIXTURES_BIN = path.join(ROOT, 'test/fixtures/bin');

/** fixture is the absolute path of a fixture. */
export function fixture(name: string): string {
  return path.join(FIXTURES_BIN, name);
}

/** fixturesEnv is `process.env` with the fixtures first on PATH, plus `extra`. */
export function fixturesEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${FIXTURES_BIN}:${process.env.PATH ?? ''}`, ...extra };
}

/**
 * FAST_KNOBS keep the init's waits short in tests and point its dirs at nothing; the
 * container environment is not saved and no s6 scan directories are made (as PID 1 they
 * would go to the real /run).
 */
export const FAST_KNOBS: NodeJS.ProcessEnv = {
  LIFEBOAT_CONTAINER_ENV_DIR: '',
  LIFEBOAT_SCAN_DIRS: '',
  LIFEBOAT_SERVICES_DIR: '/nonexistent/services.d',
  LIFEBOAT_CONT_INIT_DIR: '/nonexistent/cont-init.d',
  LIFEBOAT_CONT_FINISH_DIR: '/nonexistent/cont-finish.d',
  LIFEBOAT_FIX_ATTRS_DIR: '/nonexistent/fix-attrs.d',
  LIFEBOAT_S6_OVERLAY_DIR: '/nonexistent/s6-overlay',
  LIFEBOAT_APP_GRACETIME: '2000',
  LIFEBOAT_SERVICES_GRACETIME: '1000',
  LIFEBOAT_SYNC_GRACETIME: '4000',
  LIFEBOAT_KILL_GRACETIME: '200',
  LIFEBOAT_READY_TIMEOUT: '5000',
  LIFEBOAT_CONFIG: '',
  LITESTREAM_CONFIG: '',
  LIFEBOAT_DEFAULT_CONFIG: '',
};

/** InitRun is a running `lifeboat init`. */
export interface InitRun {
  /** pid is the init's pid as seen from here (inside a namespace it is 1 there). */
  pid: number;
  child: ChildProcess;
  /** done resolves with the exit of the process we spawned (unshare passes the init's on). */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** output is everything written to stdout and stderr so far, in order, leading timestamps taken off. */
  output(): string;
  lines(): string[];
  /** raw is the output as written, timestamps included. */
  raw(): string;
  /** waitFor resolves with the first line matching `re`, or throws after `ms` (default DEFAULT_WAIT_MS) with the output. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  /** signal sends `sig` to the init itself. */
  signal(sig: NodeJS.Signals): void;
}

/** StartOptions: environment additions (on top of fixturesEnv + FAST_KNOBS), cwd, PID namespace. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** pid1 runs the init as PID 1 in `unshare --pid --fork --mount-proc`. */
  pid1?: boolean;
}

/** startInit runs `node dist/cli/main.js init ARGS` with stdout and stderr in one file. */
export async function startInit(args: string[], opts: StartOptions = {}): Promise<InitRun> {
  const out = logFile('init');
  const fd = fs.openSync(out, 'w');
  const argv = [process.execPath, CLI, 'init', ...args];
  const cmd = opts.pid1 ? ['unshare', '--pid', '--fork', '--mount-proc', ...argv] : argv;
  const child = spawn(cmd[0], cmd.slice(1), {
    env: fixturesEnv({ ...FAST_KNOBS, ...opts.env }),
    cwd: opts.cwd,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = opts.pid1 ? await childPid(child.pid!) : child.pid!;
  const raw = (): string => fs.readFileSync(out, 'utf8');
  const output = (): string => untimed(raw());
  const lines = (): string[] => output().split('\n').filter(Boolean);
  const waitFor = async (re: RegExp, ms = DEFAULT_WAIT_MS): Promise<string> => {
    const end = Date.now() + ms;
    for (;;) {
      const exited = child.exitCode !== null || child.signalCode !== null;
      const hit = lines().find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (exited) throw new Error(`exited without a line matching ${re}; output:\n${output()}`);
      if (Date.now() > end) throw new Error(`no line matching ${re} within ${ms} ms; output:\n${output()}`);
      await sleep(20);
    }
  };
  return { pid, child, done, output, lines, raw, waitFor, signal: (sig) => process.kill(pid, sig) };
}

/** runInit runs the init to completion and returns its exit code and output (lines and text untimed, raw as written). */
export async function runInit(args: string[], opts: StartOptions = {}): Promise<{ code: number | null; lines: string[]; output: string; raw: string }> {
  const run = await startInit(args, opts);
  const { code } = await run.done;
  return { code, lines: run.lines(), output: run.output(), raw: run.raw() };
}

/** indexOf is the index of the first line matching `re` (-1 if none). */
export function indexOf(lines: string[], re: RegExp): number {
  return lines.findIndex((l) => re.test(l));
}

/** childrenOf lists a process's children through /proc (every thread's `children`). */
export function childrenOf(pid: number): number[] {
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((t) => {
    try {
      return fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

/** descendants lists every descendant of `pid`. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  for (let queue = childrenOf(pid); queue.length > 0; ) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...childrenOf(p));
  }
  return out;
}

/** procStat reads a process's state letter and parent pid; undefined when it is gone. */
export function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** zombiesUnder counts the zombies among `pid`'s descendants. */
export function zombiesUnder(pid: number): number {
  return descendants(pid).filter((p) => procStat(p)?.state === 'Z').length;
}

/**
 * pollsFd reports whether process `pid` waits for events on its descriptor `fd`: whether
 * one of its epoll instances lists `fd` (/proc/PID/fdinfo `tfd:` lines). A Node process
 * reading a pipe with a stream registers it there once its event loop runs.
 */
export function pollsFd(pid: number, fd: number): boolean {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return false;
  }
  const target = new RegExp(`^tfd:\\s+${fd}\\s`, 'm');
  return fds.some((f) => {
    try {
      return target.test(fs.readFileSync(`/proc/${pid}/fdinfo/${f}`, 'utf8'));
    } catch {
      return false;
    }
  });
}

/** childPid waits for `pid`'s first child (unshare's forked child is the namespace's PID 1). */
async function childPid(pid: number): Promise<number> {
  return waitUntil(() => childrenOf(pid)[0], { what: `a child of ${pid} (the init under unshare)`, timeoutMs: 10_000, intervalMs: 10 });
}

let unshareProbe: { ok: boolean; reason: string } | undefined;

/** unshareSupport reports whether `unshare --pid --fork --mount-proc` works here, and why not. */
export function unshareSupport(): { ok: boolean; reason: string } {
  if (unshareProbe) return unshareProbe;
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { encoding: 'utf8' });
  if (r.error) unshareProbe = { ok: false, reason: `unshare not runnable: ${r.error.message}` };
  else if (r.status !== 0) unshareProbe = { ok: false, reason: `unshare --pid --fork --mount-proc failed: ${r.stderr.trim()}` };
  else unshareProbe = { ok: true, reason: '' };
  return unshareProbe;
}

/**
 * requireUnshare says whether PID-namespace tests can run. Where they cannot, it prints the
 * reason and returns false (the tests skip) — unless CI=true, where it throws (they must run).
 */
export function requireUnshare(): boolean {
  const { ok, reason } = unshareSupport();
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but PID-namespace tests cannot run: ${reason}`);
  console.warn(`skipping PID-namespace tests: ${reason}`);
  return false;
}

/** makeService writes `services.d/<name>/` with `run` (a shell script body) and other setting files. */
export function makeService(servicesDir: string, name: string, run: string, files: Record<string, string> = {}): string {
  const dir = path.join(servicesDir, name);
  fs.mkdirSync(dir, { recursive: true });
  writeScript(path.join(dir, 'run'), run);
  for (const [file, body] of Object.entries(files)) {
    if (file === 'finish') writeScript(path.join(dir, file), body);
    else fs.writeFileSync(path.join(dir, file), body);
  }
  return dir;
}

/**
 * waitForFileSh is a shell snippet that waits until `file` exists and is not empty (a
 * marker another process writes when something happened), polling every 20 ms; after about
 * `seconds` it prints why and exits 1.
 */
export function waitForFileSh(file: string, seconds = 30): string {
  const q = `'${file.replaceAll("'", `'\\''`)}'`;
  return `i=0; while [ ! -s ${q} ]; do i=$((i + 1)); if [ "$i" -gt ${seconds * 50} ]; then echo "timed out waiting for ${file}"; exit 1; fi; sleep 0.02; done`;
}

/** writeScript writes an executable `#!/bin/sh` script. */
export function writeScript(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}
