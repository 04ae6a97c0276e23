/**
 * oneshot: short-lived children run to completion — `cont-init.d` and `cont-finish.d`
 * scripts (made executable, or run through their `#!` interpreter, as script.ts says), and
 * the restore on boot — each in its own process group with output prefixed, bounded by an
 * optional timeout and cut short by an abort (the init being stopped).
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { fs } from '../builtin.js';
import path from 'node:path';
import { outputDrained, outputEnv, outputStdio, pipeOutput, runStdio } from './output.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { describeSpawnError, scriptCommand } from './script.js';
import type { Exit } from './service-table.js';
import { signalGroup } from './signals.js';

/** OneshotOptions name the output prefix and bound the run. */
export interface OneshotOptions {
  /** name prefixes output lines (`name | `). */
  name: string;
  prefix: boolean;
  /** timeoutMs: SIGKILL the group after this long (none when undefined). */
  timeoutMs?: number;
  /** abort: SIGTERM the group when aborted. */
  abort?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** file is the user's script `argv` runs (its interpreter may be argv[0]), named when it cannot start. */
  file?: string;
  /** input is written on the child's descriptor `fd` (a pipe), then its end. */
  input?: { fd: number; data: string };
}

/** OneshotResult is how the child ended; `error` says why it could not start, `timedOut` if killed for time. */
export interface OneshotResult extends Exit {
  error?: string;
  timedOut: boolean;
}

/** runOneshot runs `argv` to completion; never throws (a failed spawn is exit 127 or 126 with `error`). */
export function runOneshot(argv: string[], opts: OneshotOptions): Promise<OneshotResult> {
  return new Promise((resolve) => {
    const stdio = opts.input ? runStdio(opts.prefix, [opts.input.fd]) : outputStdio(opts.prefix);
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio, env: outputEnv(opts.prefix, opts.env) });
    pipeOutput(child, opts.name);
    if (opts.input) writeInput(child.stdio[opts.input.fd] as Writable | null, opts.input.data);
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
          }, opts.timeoutMs);
    const onAbort = (): void => void (child.pid !== undefined && signalGroup(child.pid, 'SIGTERM'));
    if (opts.abort?.aborted) onAbort();
    opts.abort?.addEventListener('abort', onAbort, { once: true });
    const done = (r: OneshotResult): void => {
      clearTimeout(timer);
      opts.abort?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    child.once('exit', (code, signal) => void outputDrained(child).then(() => done({ code, signal, timedOut })));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      const error = describeSpawnError(argv[0], err, opts.file ?? argv[0]);
      done({ code: err.code === 'EACCES' ? 126 : 127, signal: null, timedOut, error });
    });
  });
}

/** writeInput writes `data` and the end on a child's pipe; a child that does not read it (EPIPE) is not an error here. */
function writeInput(pipe: Writable | null, data: string): void {
  if (!pipe) return;
  pipe.on('error', () => {});
  pipe.end(data);
}

/**
 * runScript runs a user's script to completion (cont-init.d, cont-finish.d): made
 * executable or run through its `#!` interpreter; one that has neither fails at once
 * (126) with `error` naming it.
 */
export function runScript(file: string, opts: OneshotOptions, log?: Logger): Promise<OneshotResult> {
  let argv: string[];
  try {
    argv = scriptCommand(file, log).argv;
  } catch (err) {
    return Promise.resolve({ code: 126, signal: null, timedOut: false, error: errorMessage(err) });
  }
  return runOneshot(argv, { ...opts, file });
}

/** listScripts lists the files of `dir` in lexical order, skipping dotfiles; none when `dir` is missing. */
export function listScripts(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((n) => path.join(dir, n))
    .filter((p) => fs.statSync(p).isFile());
}

/** failed reports whether a oneshot did not exit 0. */
export function failed(r: OneshotResult): boolean {
  return r.code !== 0 || r.signal !== null;
}
