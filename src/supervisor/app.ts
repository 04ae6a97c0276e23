/**
 * app: the application process — spawned in its own process group (a new session) with
 * the init's stdio inherited and unprefixed (its TTY detection still works), signals
 * forwarded to the whole group, stopped with a grace time and then SIGKILL. Shared by
 * `lifeboat init` and `lifeboat replicate -exec`.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { describeSpawnError } from './script.js';
import type { Exit } from './service-table.js';
import { signalGroup } from './signals.js';

/** AppOptions tune the spawn; stdio defaults to inherited. */
export interface AppOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
}

/** AppProcess is a running (or finished) app; its pid is also its process group id. */
export interface AppProcess {
  /** pid is undefined when the spawn failed (then `exited` resolves with 127 or 126). */
  readonly pid: number | undefined;
  /** spawned resolves true once the command runs (Node's 'spawn' event), false when it could not start. */
  readonly spawned: Promise<boolean>;
  /** exited resolves once with how the app ended. */
  readonly exited: Promise<Exit>;
  /** exit is set once the app has ended. */
  readonly exit: Exit | undefined;
  /** spawnError is the reason the command could not be started, if so. */
  readonly spawnError: Error | undefined;
  /** signal sends `sig` to the app's process group; false when it is gone. */
  signal(sig: NodeJS.Signals): boolean;
  /** stop sends `sig`, waits up to `graceMs` (cut short by `skip`), then SIGKILLs the group; resolves with the exit. */
  stop(sig: NodeJS.Signals, graceMs: number, skip?: AbortSignal): Promise<Exit>;
}

/** spawnApp starts `argv` in its own process group; a failed spawn exits 127 (not found) or 126. */
export function spawnApp(argv: string[], opts: AppOptions = {}): AppProcess {
  if (argv.length === 0) throw new Error('spawn app: empty command');
  const child = spawn(argv[0], argv.slice(1), {
    detached: true,
    stdio: opts.stdio ?? 'inherit',
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  let exit: Exit | undefined;
  let spawnError: Error | undefined;
  const spawned = new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(child.pid !== undefined));
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve((exit = { code, signal })));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) return;
      spawnError = new Error(describeSpawnError(argv[0], err, argv[0], opts.cwd), { cause: err });
      resolve((exit = { code: err.code === 'EACCES' ? 126 : 127, signal: null }));
    });
  });
  const signal = (sig: NodeJS.Signals): boolean =>
    child.pid !== undefined && exit === undefined && signalGroup(child.pid, sig);
  return {
    get pid() {
      return child.pid;
    },
    spawned,
    exited,
    get exit() {
      return exit;
    },
    get spawnError() {
      return spawnError;
    },
    signal,
    stop: (sig, graceMs, skip) => stopApp(exited, () => exit, signal, sig, graceMs, skip),
  };
}

async function stopApp(
  exited: Promise<Exit>,
  current: () => Exit | undefined,
  signal: (sig: NodeJS.Signals) => boolean,
  sig: NodeJS.Signals,
  graceMs: number,
  skip?: AbortSignal,
): Promise<Exit> {
  if (current()) return exited;
  signal(sig);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
    onAbort = () => resolve();
    if (skip?.aborted) resolve();
    skip?.addEventListener('abort', onAbort, { once: true });
  });
  await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (onAbort) skip?.removeEventListener('abort', onAbort);
  if (!current()) signal('SIGKILL');
  return exited;
}
