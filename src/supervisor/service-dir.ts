/**
 * service-dir: read `services.d/<name>/` into service definitions, one setting per file
 * as s6 does (`run`, `finish`, `down`, `notification-fd`, `timeout-kill`, `timeout-finish`,
 * `down-signal`, `essential`). A bad file is a ConfigError naming the file and its value.
 * `run` and `finish` need not be executable when they have a `#!` line (script.ts).
 */
import type { Dirent } from 'node:fs';
import { fs } from '../builtin.js';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { scriptCommand, type ScriptCommand } from './script.js';

/** DEFAULT_TIMEOUT_FINISH is how long `finish` may run before SIGKILL (s6's default). */
export const DEFAULT_TIMEOUT_FINISH = 5_000;

/** DEFAULT_DOWN_SIGNAL stops a service unless its `down-signal` names another. */
export const DEFAULT_DOWN_SIGNAL: NodeJS.Signals = 'SIGTERM';

/** ServiceDef is one longrun service: how to run it and how to stop it. */
export interface ServiceDef {
  name: string;
  /** command is argv: `[run, name]` for a service directory (`[interpreter, arg, run, name]` through its `#!` line). */
  command: string[];
  /** file is the program `command` runs, named in errors (the `run` file); default `command[0]`. */
  file?: string;
  /** cwd is where `run` and `finish` start (the service directory, as s6). */
  cwd: string;
  /** finish runs after every exit, its arguments appended to `finish.argv`. */
  finish?: ScriptCommand;
  down: boolean;
  notificationFd?: number;
  /** timeoutKill is ms from the down-signal to SIGKILL; undefined (no file, or 0): never, as s6. */
  timeoutKill?: number;
  timeoutFinish: number;
  downSignal: NodeJS.Signals;
  essential: boolean;
  /** maxDeathTally is how many deaths s6 keeps on record (`max-death-tally`, 0–4096); the crash-loop tally keeps no more. */
  maxDeathTally?: number;
  /** logger is the `log/` subdirectory: a service of its own whose stdin is this service's stdout. */
  logger?: ServiceDef;
}

/** readServicesDir reads every service under `dir` in lexical order; a missing dir has none. `log` notes run files made executable. */
export function readServicesDir(dir: string, log?: Logger): ServiceDef[] {
  let entries: Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(dir, `read services: ${(err as Error).message}`);
  }
  return entries
    .filter((e) => !e.name.startsWith('.') && isDir(path.join(dir, e.name)))
    .map((e) => e.name)
    .sort()
    .map((name) => readServiceDir(path.join(dir, name), log));
}

/**
 * readServiceDir reads one service directory; its base name is the service name. Paths are
 * made absolute: `run` starts in the service directory, so a relative `-services svc`
 * would not name it from there.
 */
export function readServiceDir(given: string, log?: Logger): ServiceDef {
  const dir = path.resolve(given);
  const name = path.basename(dir);
  const run = path.join(dir, 'run');
  if (!fs.existsSync(run)) throw new ConfigError(run, 'missing: a service needs a run file');
  const finish = path.join(dir, 'finish');
  return {
    name,
    command: [...scriptCommand(run, log).argv, name],
    file: run,
    cwd: dir,
    finish: fs.existsSync(finish) ? scriptCommand(finish, log) : undefined,
    down: fs.existsSync(path.join(dir, 'down')),
    notificationFd: setting(dir, 'notification-fd', parseFd),
    timeoutKill: setting(dir, 'timeout-kill', parseMillis) || undefined,
    timeoutFinish: setting(dir, 'timeout-finish', parseMillis) ?? DEFAULT_TIMEOUT_FINISH,
    downSignal: setting(dir, 'down-signal', parseSignal) ?? DEFAULT_DOWN_SIGNAL,
    essential: fs.existsSync(path.join(dir, 'essential')),
    maxDeathTally: setting(dir, 'max-death-tally', parseTally),
    logger: readLogger(dir, name, log),
  };
}

/** LOGGER_DIR is the subdirectory that holds a service's logger (s6: `log/run` reads the service's stdout). */
export const LOGGER_DIR = 'log';

/** readLogger reads `dir/log/` as the logger of service `name` (named `name/log`); undefined without `log/run`. */
function readLogger(dir: string, name: string, log?: Logger): ServiceDef | undefined {
  const sub = path.join(dir, LOGGER_DIR);
  if (!fs.existsSync(path.join(sub, 'run'))) return undefined;
  const def = readServiceDir(sub, log);
  return { ...def, name: `${name}/${LOGGER_DIR}`, command: [...def.command.slice(0, -1), name], logger: undefined };
}

/** parseSignal accepts `SIGTERM`, `TERM` or a number; returns the signal's name. */
export function parseSignal(text: string): NodeJS.Signals {
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) {
    const found = Object.keys(signals).find((k) => signals[k] === Number(text));
    if (found) return found as NodeJS.Signals;
  }
  const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
  if (name in signals) return name as NodeJS.Signals;
  throw new Error(`not a signal name`);
}

function parseMillis(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new Error('not a whole number of milliseconds');
  return Number(text);
}

function parseTally(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 4096) throw new Error('not a whole number from 0 to 4096');
  return Number(text);
}

function parseFd(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 3 || Number(text) > 255) throw new Error('not a file descriptor from 3 to 255');
  return Number(text);
}

/** setting reads `dir/file` (trimmed) through `parse`; undefined when the file is absent; a bad value is a ConfigError naming the file. */
export function setting<T>(dir: string, file: string, parse: (text: string) => T): T | undefined {
  const p = path.join(dir, file);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(p, `read: ${(err as Error).message}`);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new ConfigError(p, `${(err as Error).message}: ${JSON.stringify(text)}`, text);
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
