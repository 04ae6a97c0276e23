/**
 * s6-common: what `s6-svc`, `s6-svstat`, `s6-svwait` and `s6-svscanctl` share — s6's
 * option syntax (getopt: bundled letters, `-wU`, `-T 500`), finding the init's control
 * socket from a service directory (supervisor/svscan.ts), asking it, waiting for a state,
 * and s6's exit codes and `prog: fatal: …` messages.
 */
import { fs } from '../builtin.js';
import { nowMs } from '../clock.js';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import { askSocket, ControlUnreachable } from '../replicator/control-socket.js';
import type { SvStatus } from '../supervisor/sv-status.js';
import { scanSocket } from '../supervisor/svscan.js';

/** EXIT_S6_TIMEOUT: the wanted state did not come in time (s6-svwait). */
export const EXIT_S6_TIMEOUT = 99;
/** EXIT_S6_USAGE: wrong usage (s6). */
export const EXIT_S6_USAGE = 100;
/** EXIT_S6_GONE: the supervisor went away while waiting (s6-svwait). */
export const EXIT_S6_GONE = 102;
/** EXIT_S6_SYSTEM: a system call failed; here, the init could not be reached (s6). */
export const EXIT_S6_SYSTEM = 111;

/** POLL_MS is how often a wait asks the init for the state. */
export const POLL_MS = 50;

/** S6Failure is a failure with s6's exit code; `fail` prints it as `prog: fatal: message`. */
export class S6Failure extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'S6Failure';
  }
}

/** Getopt is a parsed command line: options in the order given, then the operands. */
export interface Getopt {
  opts: Array<[letter: string, value: string | undefined]>;
  operands: string[];
}

/**
 * getopt parses `argv` as POSIX getopt does with `optstring` (`o:` takes a value, glued or
 * next); `--` or the first operand ends the options. Unknown letter or missing value: S6Failure 100.
 */
export function getopt(argv: string[], optstring: string): Getopt {
  const opts: Getopt['opts'] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return { opts, operands: argv.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') break;
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      const at = optstring.indexOf(letter);
      if (letter === ':' || at === -1) throw new S6Failure(`unknown option: -${letter}`, EXIT_S6_USAGE);
      if (optstring[at + 1] !== ':') {
        opts.push([letter, undefined]);
        continue;
      }
      const value = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
      if (value === undefined) throw new S6Failure(`option -${letter} needs a value`, EXIT_S6_USAGE);
      opts.push([letter, value]);
      break;
    }
  }
  return { opts, operands: argv.slice(i) };
}

/** millis parses a timeout in milliseconds (0: none), naming the option when it is not one. */
export function millis(letter: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new S6Failure(`-${letter}: not a whole number of milliseconds: ${JSON.stringify(value)}`, EXIT_S6_USAGE);
  return Number(value);
}

/** Target is a service directory as the init serves it: its control socket and service name. */
export interface Target {
  dir: string;
  socket: string;
  name: string;
}

/** target finds service directory `dir`'s control socket: in its parent, the scan directory (symlinks resolved). */
export function target(dir: string): Target {
  let real = path.resolve(dir);
  try {
    real = fs.realpathSync(real);
  } catch {
    // not there: asking fails below, naming the directory
  }
  return { dir, socket: scanSocket(path.dirname(real)), name: path.basename(real) };
}

/** ask sends `route` to the init; 404 or no answer is "supervisor not listening" with `goneCode`. */
export async function ask(socket: string, route: string, what: string, goneCode: number): Promise<string> {
  let reply;
  try {
    reply = await askSocket(socket, route);
  } catch (err) {
    const why = err instanceof ControlUnreachable ? err.message : errorMessage(err);
    throw new S6Failure(`unable to control ${what}: supervisor not listening (${why})`, goneCode);
  }
  if (reply.status === 404) throw new S6Failure(`unable to control ${what}: supervisor not listening (${reply.body.trim()})`, goneCode);
  if (reply.status !== 200) throw new S6Failure(`unable to control ${what}: ${reply.body.trim()}`, EXIT_S6_SYSTEM);
  return reply.body;
}

/** status asks the init for the state of `t`. */
export async function status(t: Target, goneCode = EXIT_S6_SYSTEM): Promise<SvStatus> {
  return JSON.parse(await ask(t.socket, `/svstat?service=${encodeURIComponent(t.name)}`, t.dir, goneCode)) as SvStatus;
}

/** Want is a state to wait for: up, up and ready, down, down with finish done, restarted, restarted and ready. */
export type Want = 'u' | 'U' | 'd' | 'D' | 'r' | 'R';

/** WANTS are the letters of Want. */
export const WANTS: readonly string[] = ['u', 'U', 'd', 'D', 'r', 'R'];

/** reached says whether `st` is the wanted state; `before` is the state when the wait began (for r and R). */
export function reached(want: Want, st: SvStatus, before: SvStatus): boolean {
  const restarted = st.up && st.startedAt > before.startedAt;
  if (want === 'u') return st.up;
  if (want === 'U') return st.up && st.ready;
  if (want === 'd') return !st.up;
  if (want === 'D') return !st.up && st.ready;
  if (want === 'r') return restarted;
  return restarted && st.ready;
}

/** WaitOptions: all services (else any one), and the timeout in ms (0: none). */
export interface WaitOptions {
  all: boolean;
  timeoutMs: number;
}

/**
 * waitFor polls the init until the services reach `want` (all or any of them) and returns
 * s6-svwait's exit code: 0; EXIT_S6_TIMEOUT; the number of services that failed for good
 * while expected up. The init going away mid-wait is EXIT_S6_GONE.
 */
export async function waitFor(targets: Target[], want: Want, before: SvStatus[], opts: WaitOptions): Promise<number> {
  const deadline = opts.timeoutMs > 0 ? nowMs() + opts.timeoutMs : Infinity;
  const expectsUp = want !== 'd' && want !== 'D';
  for (;;) {
    const now = await Promise.all(targets.map((t) => status(t, EXIT_S6_GONE)));
    const done = now.map((st, i) => reached(want, st, before[i]));
    const failed = expectsUp ? now.filter((st) => st.failed).length : 0;
    if (opts.all ? done.every(Boolean) : done.some(Boolean)) return 0;
    if (failed > 0 && (opts.all || failed === targets.length)) return failed;
    if (nowMs() > deadline) return EXIT_S6_TIMEOUT;
    await sleep(POLL_MS);
  }
}

/** fail prints `prog: fatal: message` (or the usage line) and returns the exit code. */
export function fail(prog: string, err: unknown, usageLine: string): number {
  if (!(err instanceof S6Failure)) {
    process.stderr.write(`${prog}: fatal: ${errorMessage(err)}\n`);
    return EXIT_S6_SYSTEM;
  }
  process.stderr.write(`${prog}: fatal: ${err.message}\n`);
  if (err.code === EXIT_S6_USAGE) process.stderr.write(`${prog}: usage: ${prog} ${usageLine}\n`);
  return err.code;
}
