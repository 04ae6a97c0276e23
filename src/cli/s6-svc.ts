/**
 * s6-svc: `s6-svc [-wu|-wU|-wd|-wD|-wr|-wR] [-T ms] [-s SIG|-abqhkti12pcy] [-oduOrx] DIR` —
 * s6's s6-svc for the services of `lifeboat init` (supervisor/svscan.ts): `-u` up, `-d` down
 * (the down-signal, and no restart), `-o` once, `-O` no restart, `-r` restart (the
 * down-signal; the init restarts it), `-x` the init takes no more commands for it once it is
 * down, a letter or `-s` a signal to its `run`; `-w` then waits for a state, at most `-T`
 * ms. Exit 0; 1 timed out; 100 usage or no such service; 111 the init not reachable.
 */
import os from 'node:os';
import { SVC_SIGNALS } from '../supervisor/svscan.js';
import { ask, EXIT_S6_USAGE, fail, getopt, millis, S6Failure, status, target, waitFor, WANTS, type Want } from './s6-common.js';

const PROG = 's6-svc';
const USAGE = '[ -wu | -wU | -wd | -wD | -wr | -wR ] [ -T timeout ] [ -s signal | -abqhkti12pcy ] [ -oduOrx ] servicedir';
const STATE_LETTERS = 'uodOrx';

/** run controls one service directory; returns s6-svc's exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await svc(argv);
  } catch (err) {
    return fail(PROG, err, USAGE);
  }
}

async function svc(argv: string[]): Promise<number> {
  const { opts, operands } = getopt(argv, `w:T:s:${Object.keys(SVC_SIGNALS).join('')}${STATE_LETTERS}DUPCK`);
  if (operands.length !== 1) throw new S6Failure(`expected one service directory, got ${operands.length}`, EXIT_S6_USAGE);
  let want: Want | undefined;
  let timeoutMs = 0;
  const cmds: string[] = [];
  for (const [letter, value] of opts) {
    if (letter === 'w') {
      if (!WANTS.includes(value!)) throw new S6Failure(`-w: not one of u U d D r R: ${JSON.stringify(value)}`, EXIT_S6_USAGE);
      want = value as Want;
    } else if (letter === 'T') timeoutMs = millis('T', value!);
    else if (letter === 's') cmds.push(`sig:${signalName(value!)}`);
    else if ('DUPCK'.includes(letter)) throw new S6Failure(`-${letter} is not supported under lifeboat init`, EXIT_S6_USAGE);
    else cmds.push(letter);
  }
  const t = target(operands[0]);
  const before = want ? await status(t, EXIT_S6_USAGE) : undefined;
  const query = [`service=${encodeURIComponent(t.name)}`, ...cmds.map((c) => `cmd=${encodeURIComponent(c)}`)].join('&');
  await ask(t.socket, `/svc?${query}`, t.dir, EXIT_S6_USAGE);
  if (!want || !before) return 0;
  const code = await waitFor([t], want, [before], { all: true, timeoutMs });
  if (code === 0) return 0;
  throw new S6Failure(code === 99 ? `timed out waiting for ${t.dir}` : `${t.dir} failed for good`, 1);
}

/** signalName accepts a signal s6-svc may send, by name (any case, with or without SIG) or number. */
function signalName(value: string): NodeJS.Signals {
  const allowed = Object.values(SVC_SIGNALS);
  const upper = value.toUpperCase();
  const byName = allowed.find((s) => s === upper || s === `SIG${upper}`);
  if (byName) return byName;
  const byNumber = allowed.find((s) => /^\d+$/.test(value) && (os.constants.signals as Record<string, number>)[s] === Number(value));
  if (byNumber) return byNumber;
  throw new S6Failure(`-s: not a signal s6-svc sends: ${JSON.stringify(value)}`, EXIT_S6_USAGE);
}

