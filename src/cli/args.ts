/**
 * args: the one command-line normaliser every command uses, with Go `flag` package habits
 * (as Litestream's commands have them):
 *
 * - `-name` and `--name` are the same flag; values as `-name value` or `-name=value`.
 * - Boolean flags take no separate value: `-flag`, `-flag=true`, `-flag=false`. A
 *   separate `true` / `false` (`-flag false`) is an error naming the flag and the value
 *   (Go would take it as the first argument, and then blame another one), except where
 *   the arguments are a command line (`init`: `-no-expand-env true` runs `true`).
 * - A flag may have a one-letter alias (`-o out.db`); letters are never bundled.
 * - Parsing stops at the first positional argument, at a lone `-`, or after `--`;
 *   everything after is positional, even if it looks like a flag.
 * - `-h`, `-help`, `--help` throw HelpRequested (the CLI prints usage to stdout, exit 0).
 *
 * Commander is not used: its option model (bundled short flags, `--no-x`, options after
 * positionals) is not Go's, and bending it costs more code than this parser.
 */
import { UsageError } from '../errors.js';

/** FlagSpec declares one flag: `name` (long, used as the key in ParsedArgs.flags), optional one-letter `short`. */
export interface FlagSpec {
  name: string;
  type: 'boolean' | 'string';
  short?: string;
  /** placeholder names the value in usage (`-config PATH`); default `VALUE`. */
  placeholder?: string;
  description: string;
}

/** CommandSpec declares a command: `usage` is its synopsis (`restore [flags] DB_PATH`), `lifeboat ` prefix optional. */
export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  minArgs?: number;
  maxArgs?: number;
  /** argsAreCommand: the arguments are a command line, so `true` / `false` after a boolean flag is the command. */
  argsAreCommand?: boolean;
}

/** ParsedArgs: flag values by long name (booleans default false, strings undefined) and positional args. */
export interface ParsedArgs {
  flags: Record<string, string | boolean | undefined>;
  args: string[];
}

/** HelpRequested is thrown for -h / -help / --help; `spec` is the command whose usage to print. */
export class HelpRequested extends Error {
  readonly spec: CommandSpec | undefined;

  constructor(spec?: CommandSpec) {
    super('help requested');
    this.name = 'HelpRequested';
    this.spec = spec;
  }
}

/** ArgsError is the UsageError parseArgs throws; it carries the command so the CLI can print its usage. */
export class ArgsError extends UsageError {
  readonly spec: CommandSpec;

  constructor(spec: CommandSpec, message: string) {
    super(message);
    this.spec = spec;
  }
}

const HELP = new Set(['h', 'help']);

/** parseArgs parses `argv` (the arguments after the command name) against `spec`; throws ArgsError or HelpRequested. */
export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  for (const f of spec.flags) flags[f.name] = f.type === 'boolean' ? false : undefined;
  let i = 0;
  while (i < argv.length) {
    const s = argv[i];
    if (s.length < 2 || s[0] !== '-') break;
    if (s === '--') {
      i++;
      break;
    }
    const dashes = s[1] === '-' ? '--' : '-';
    const body = s.slice(dashes.length);
    if (body === '' || body[0] === '-' || body[0] === '=') throw new ArgsError(spec, `bad flag syntax: ${s}`);
    i++;
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (HELP.has(name)) throw new HelpRequested(spec);
    const flag = spec.flags.find((f) => f.name === name || f.short === name);
    if (!flag) throw new ArgsError(spec, `unknown flag: ${dashes}${name}`);
    if (flag.type === 'boolean') {
      if (eq < 0 && !spec.argsAreCommand) checkNoValue(spec, `${dashes}${name}`, argv[i]);
      flags[flag.name] = eq < 0 ? true : parseBool(spec, body.slice(eq + 1), `${dashes}${name}`);
    } else if (eq >= 0) {
      flags[flag.name] = body.slice(eq + 1);
    } else if (i < argv.length) {
      flags[flag.name] = argv[i++];
    } else {
      throw new ArgsError(spec, `flag needs an argument: ${dashes}${name}`);
    }
  }
  const args = argv.slice(i);
  checkArgCount(spec, args);
  return { flags, args };
}

const BOOL_WORDS = new Set(['true', 'TRUE', 'True', 'false', 'FALSE', 'False']);

/** checkNoValue rejects `-flag true` / `-flag false`: a boolean flag's value goes after `=`. */
function checkNoValue(spec: CommandSpec, flag: string, next: string | undefined): void {
  if (next === undefined || !BOOL_WORDS.has(next)) return;
  throw new ArgsError(spec, `flag ${flag} takes no value: ${JSON.stringify(next)} (write ${flag}=${next.toLowerCase()})`);
}

/** parseBool accepts Go strconv.ParseBool's spellings. */
function parseBool(spec: CommandSpec, v: string, flag: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new ArgsError(spec, `invalid boolean value ${JSON.stringify(v)} for flag ${flag}`);
}

function checkArgCount(spec: CommandSpec, args: string[]): void {
  const { minArgs = 0, maxArgs = Infinity } = spec;
  if (args.length > maxArgs) {
    const extra = args[maxArgs];
    const what = extra.startsWith('-') ? ` (flags go before arguments)` : '';
    throw new ArgsError(spec, `unexpected argument: ${JSON.stringify(extra)}${what}`);
  }
  if (args.length < minArgs) {
    throw new ArgsError(spec, `missing argument: expected ${minArgs === maxArgs ? minArgs : `at least ${minArgs}`}, got ${args.length}`);
  }
}

/** usage renders a command's help: synopsis, summary and one entry per flag (Go style). */
export function usage(spec: CommandSpec): string {
  const lines = spec.usage
    .trim()
    .split('\n')
    .map((l) => (l.trim().startsWith('lifeboat ') ? l.trim() : `lifeboat ${l.trim()}`));
  let out = `Usage: ${lines.join('\n       ')}\n\n${spec.summary}\n`;
  const entries = [...spec.flags.map(flagEntry), ['-h, -help', 'Show this help.'] as const];
  out += '\nFlags:\n';
  for (const [names, description] of entries) {
    out += `  ${names}\n`;
    for (const l of description.split('\n')) out += `        ${l}\n`;
  }
  return out;
}

function flagEntry(f: FlagSpec): readonly [string, string] {
  const names = f.short ? `-${f.short}, -${f.name}` : `-${f.name}`;
  return [f.type === 'string' ? `${names} ${f.placeholder ?? 'VALUE'}` : names, f.description];
}

/** parseFd reads a descriptor flag (`-notify-fd`, `-config-fd`…): undefined when absent, a UsageError naming the value unless an integer >= 3. */
export function parseFd(v: string | boolean | undefined, flag: string): number | undefined {
  if (v === undefined || v === false) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 3) throw new UsageError(`invalid -${flag} ${JSON.stringify(v)}: want a descriptor number >= 3`);
  return n;
}
