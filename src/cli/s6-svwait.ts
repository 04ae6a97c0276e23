/**
 * s6-svwait: `s6-svwait [-U|-u|-D|-d|-r|-R] [-a|-o] [-t ms] DIR…` — s6's s6-svwait for the
 * services of `lifeboat init`: waits until all (`-a`, the default) or any (`-o`) of the
 * services are up (`-u`, the default), up and ready (`-U`), down (`-d`), down with `finish`
 * done (`-D`), restarted (`-r`) or restarted and ready (`-R`), at most `-t` ms (0: no limit).
 * Exit 0; 99 timed out; 100 usage; 102 the init went away; 111 not reachable; n: n services
 * expected up failed for good.
 */
import { fail, getopt, millis, S6Failure, status, target, waitFor, type Want } from './s6-common.js';

const PROG = 's6-svwait';
const USAGE = '[ -U | -u | -D | -d | -r | -R ] [ -a | -o ] [ -t timeout ] servicedir...';

/** run waits for the service directories; returns s6-svwait's exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { opts, operands } = getopt(argv, 'uUdDrRaot:');
    let want: Want = 'u';
    let all = true;
    let timeoutMs = 0;
    for (const [letter, value] of opts) {
      if (letter === 'a' || letter === 'o') all = letter === 'a';
      else if (letter === 't') timeoutMs = millis('t', value!);
      else want = letter as Want;
    }
    if (operands.length === 0) return 0;
    const targets = operands.map(target);
    const before = await Promise.all(targets.map((t) => status(t)));
    const code = await waitFor(targets, want, before, { all, timeoutMs });
    if (code === 99) throw new S6Failure(`timed out`, 99);
    if (code > 0) process.stderr.write(`${PROG}: fatal: ${code} service(s) failed for good\n`);
    return code;
  } catch (err) {
    return fail(PROG, err, USAGE);
  }
}

