/**
 * s6-svstat: `s6-svstat [-uwNrpest | -o FIELD,…] [-n] DIR` — s6's s6-svstat for the services
 * of `lifeboat init`. Without options, s6's summary line:
 *
 *   up (pid 123) 45 seconds, ready 45 seconds
 *   down (exitcode 0) 3 seconds, normally up, want up, ready 3 seconds
 *
 * With options, the fields asked for, space-separated on one line, as s6 prints them
 * (`true`/`false`, -1 for none, `NA` for no signal, TAI64N labels for the `since` fields).
 * Exit 0; 100 usage; 111 the init not reachable or no such service.
 */
import os from 'node:os';
import type { SvStatus } from '../supervisor/sv-status.js';
import { EXIT_S6_USAGE, fail, getopt, S6Failure, status, target } from './s6-common.js';

const PROG = 's6-svstat';
const USAGE = '[ -uwNrpest | -o up,wantedup,normallyup,ready,paused,pid,pgid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor ] [ -n ] servicedir';

/** SHORT maps the one-letter options to their fields. */
const SHORT: Readonly<Record<string, string>> = { u: 'up', w: 'wantedup', N: 'normallyup', r: 'ready', p: 'pid', e: 'exitcode', s: 'signal', t: 'updownfor' };

/** FIELDS print each field of a status at Unix time `now` (ms). */
const FIELDS: Readonly<Record<string, (st: SvStatus, now: number) => string>> = {
  up: (st) => String(st.up),
  wantedup: (st) => String(st.wantedUp),
  normallyup: (st) => String(st.normallyUp),
  ready: (st) => String(st.ready),
  paused: (st) => String(st.paused),
  pid: (st) => String(st.pid),
  pgid: (st) => String(st.pid),
  exitcode: (st) => String(st.exitcode),
  signal: (st) => st.signal ?? 'NA',
  signum: (st) => String(st.signal ? signum(st.signal) : -1),
  updownsince: (st) => tai64n(st.updownSince),
  readysince: (st) => tai64n(st.readySince),
  updownfor: (st, now) => String(secondsSince(st.updownSince, now)),
  readyfor: (st, now) => String(st.ready ? secondsSince(st.readySince, now) : 0),
};

/** run prints the status of one service directory; returns s6-svstat's exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { fields, numeric, dir } = parse(argv);
    const st = await status(target(dir));
    const now = Date.now();
    process.stdout.write(`${fields.length > 0 ? fields.map((f) => FIELDS[f](st, now)).join(' ') : summary(st, now, numeric)}\n`);
    return 0;
  } catch (err) {
    return fail(PROG, err, USAGE);
  }
}

function parse(argv: string[]): { fields: string[]; numeric: boolean; dir: string } {
  const { opts, operands } = getopt(argv, `${Object.keys(SHORT).join('')}o:n`);
  if (operands.length !== 1) throw new S6Failure(`expected one service directory, got ${operands.length}`, EXIT_S6_USAGE);
  const fields: string[] = [];
  let numeric = false;
  for (const [letter, value] of opts) {
    if (letter === 'n') numeric = true;
    else if (letter === 'o') fields.push(...value!.split(',').map((f) => checkField(f)));
    else fields.push(SHORT[letter]);
  }
  return { fields, numeric, dir: operands[0] };
}

function checkField(field: string): string {
  if (!Object.hasOwn(FIELDS, field)) throw new S6Failure(`-o: unknown field: ${JSON.stringify(field)}`, EXIT_S6_USAGE);
  return field;
}

/** summary is s6-svstat's line without options (`numeric`: -n, a signal as its number). */
export function summary(st: SvStatus, now: number, numeric = false): string {
  const how = st.signal ? `(signal ${numeric ? signum(st.signal) : st.signal}) ` : st.exitcode >= 0 ? `(exitcode ${st.exitcode}) ` : '';
  let line = st.up ? `up (pid ${st.pid}) ` : `down ${how}`;
  line += `${secondsSince(st.updownSince, now)} seconds`;
  if (st.up && !st.normallyUp) line += ', normally down';
  if (!st.up && st.normallyUp) line += ', normally up';
  if (st.up && st.paused) line += ', paused';
  if (!st.up && st.wantedUp) line += ', want up';
  if (st.up && !st.wantedUp) line += ', want down';
  if (st.ready) line += `, ready ${secondsSince(st.readySince, now)} seconds`;
  return line;
}

function secondsSince(unixMs: number, now: number): number {
  return Math.max(0, Math.floor((now - unixMs) / 1000));
}

function signum(sig: NodeJS.Signals): number {
  return (os.constants.signals as Record<string, number>)[sig] ?? -1;
}

/** tai64n is the TAI64N label of Unix time `unixMs`, as s6 prints it (`@4000…`, TAI = UTC + 10 s). */
export function tai64n(unixMs: number): string {
  const secs = BigInt(Math.floor(unixMs / 1000)) + 10n + (1n << 62n);
  const nanos = (unixMs % 1000) * 1_000_000;
  return `@${secs.toString(16).padStart(16, '0')}${nanos.toString(16).padStart(8, '0')}`;
}
