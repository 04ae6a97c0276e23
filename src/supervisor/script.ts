/**
 * script: running the files a user wrote (services.d `run` and `finish`, cont-init.d and
 * cont-finish.d scripts) as s6-overlay v2 does — it makes them executable at boot, so a
 * tree kept in git with mode 0644 still runs — and saying why a program could not start,
 * naming the one that is missing (the file, or the interpreter of its `#!` line).
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';

/** SHEBANG_MAX is how much of a file's first line the kernel reads for `#!` (Linux ≥ 5.1). */
export const SHEBANG_MAX = 256;

/** MAX_INTERPRETER_DEPTH is how many `#!` scripts may interpret one another (the kernel's limit). */
const MAX_INTERPRETER_DEPTH = 4;

/** Shebang is a `#!` line as the kernel reads it: the interpreter and at most one argument. */
export interface Shebang {
  interpreter: string;
  arg?: string;
}

/** ScriptCommand is how to run a user's `file`: `argv` is the file itself, or its interpreter, argument and the file. */
export interface ScriptCommand {
  file: string;
  argv: string[];
}

/**
 * parseShebang reads a `#!` line as Linux does: blanks after `#!` skipped, the interpreter
 * up to the next blank, the rest (trimmed of blanks) as one argument. A `\r` is not a
 * blank: a CRLF script's interpreter ends in `\r`, and is not found.
 */
export function parseShebang(head: string): Shebang | undefined {
  if (!head.startsWith('#!')) return undefined;
  const nl = head.indexOf('\n');
  const line = (nl < 0 ? head : head.slice(0, nl)).slice(2).replace(/^[ \t]+|[ \t]+$/g, '');
  if (line === '') return undefined;
  const blank = line.search(/[ \t]/);
  if (blank < 0) return { interpreter: line };
  const arg = line.slice(blank).replace(/^[ \t]+/, '');
  return { interpreter: line.slice(0, blank), ...(arg === '' ? {} : { arg }) };
}

/** readShebang reads the `#!` line of `file`; undefined when it has none or cannot be read. */
export function readShebang(file: string): Shebang | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(SHEBANG_MAX);
    const n = fs.readSync(fd, buf, 0, SHEBANG_MAX, 0);
    return parseShebang(buf.subarray(0, n).toString('utf8'));
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * scriptCommand says how to run a user's `file`. Executable: the file itself. Not
 * executable but with a `#!` line: it is made executable (an x bit added wherever an r bit
 * is, 0644 → 0755, as s6-overlay v2 does at boot); where the file system refuses (read-only,
 * another owner, noexec) it is run through its interpreter instead. Neither: a ConfigError
 * naming the file. `log` notes what was done.
 */
export function scriptCommand(file: string, log?: Logger): ScriptCommand {
  if (isExecutable(file)) return { file, argv: [file] };
  const shebang = readShebang(file);
  if (!shebang) throw new ConfigError(file, 'not executable and no #! line (chmod +x it, or start it with #!/bin/sh)');
  const refused = makeExecutable(file);
  if (refused === undefined && isExecutable(file)) {
    log?.info('made executable, as s6-overlay does', { file });
    return { file, argv: [file] };
  }
  const argv = [shebang.interpreter, ...(shebang.arg === undefined ? [] : [shebang.arg]), file];
  log?.info('not executable and cannot be made so: running it through its #! interpreter', { file, interpreter: shebang.interpreter, reason: refused ?? 'noexec' });
  return { file, argv };
}

/** makeExecutable adds an x bit wherever `file` has an r bit; returns why it could not (an errno code). */
function makeExecutable(file: string): string | undefined {
  try {
    const mode = fs.statSync(file).mode & 0o7777;
    fs.chmodSync(file, mode | ((mode & 0o444) >> 2));
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * describeSpawnError says why `command` could not start, naming what is missing: the
 * command (on PATH, or no such file), the interpreter of its `#!` line (or of its
 * interpreter's, which may be a script too), or the permission. `file` is the user's script
 * when `command` is its interpreter (scriptCommand); `cwd` is where it was started.
 */
export function describeSpawnError(command: string, err: NodeJS.ErrnoException, file = command, cwd = process.cwd()): string {
  if (err.code === 'ENOENT') {
    if (file !== command) return `${file}: interpreter ${show(command)} not found`;
    if (!command.includes('/')) return `command not found: ${command} (not in any PATH directory)`;
    if (!fs.existsSync(path.resolve(cwd, command))) return `command not found: ${command} (no such file)`;
    const missing = missingInterpreter(path.resolve(cwd, command), cwd);
    if (missing) return `${missing.script}: interpreter ${show(missing.interpreter)} not found`;
    return `cannot run ${command}: ENOENT (its #! interpreter or its ELF loader was not found)`;
  }
  if (err.code === 'EACCES') return `cannot run ${file}: permission denied (is it executable?)`;
  return `cannot run ${file}: ${err.code ?? err.message}`;
}

/** missingInterpreter follows `#!` lines from `file` down to the first interpreter that does not exist. */
function missingInterpreter(file: string, cwd: string): { script: string; interpreter: string } | undefined {
  let script = file;
  for (let depth = 0; depth < MAX_INTERPRETER_DEPTH; depth++) {
    const shebang = readShebang(script);
    if (!shebang) return undefined;
    const interpreter = path.resolve(cwd, shebang.interpreter);
    if (!fs.existsSync(interpreter)) return { script, interpreter: shebang.interpreter };
    script = interpreter;
  }
  return undefined;
}

/** show quotes a name that holds a control character; a trailing `\r` is a script saved with CRLF line endings. */
function show(name: string): string {
  if (name.endsWith('\r')) return `${JSON.stringify(name)} (the script has CRLF line endings)`;
  return /[\u0000-\u001f]/.test(name) ? JSON.stringify(name) : name;
}
