/**
 * s6-svscanctl: `s6-svscanctl -t SCANDIR` — s6's s6-svscanctl for `lifeboat init`: `-t` (and
 * -q, -b, -i, -0, -6, -7, -8: each ends s6-svscan, which in a container ends it) stops the
 * container with the ordered stop of a SIGTERM — the app first, the services, the final
 * sync last. `-a`, `-h`, `-n`, `-N` (rescan) change nothing: the init reads its services at
 * boot. SCANDIR is a scan directory the init made (/var/run/s6/services, /run/service).
 * Exit 0; 100 usage; 111 the init not reachable.
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { scanSocket } from '../supervisor/svscan.js';
import { ask, EXIT_S6_SYSTEM, EXIT_S6_USAGE, fail, getopt, S6Failure } from './s6-common.js';

const PROG = 's6-svscanctl';
const USAGE = '[ -tqbi0678 | -ahnN ] scandir';
const STOPS = 'tqbi0678';
const RESCANS = 'ahnN';

/** run sends the command to the init; returns s6-svscanctl's exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    const { opts, operands } = getopt(argv, `${STOPS}${RESCANS}z`);
    if (operands.length !== 1) throw new S6Failure(`expected one scan directory, got ${operands.length}`, EXIT_S6_USAGE);
    const z = opts.find(([l]) => l === 'z');
    if (z) throw new S6Failure('-z is not supported under lifeboat init', EXIT_S6_USAGE);
    const dir = operands[0];
    const socket = scanSocket(realpath(dir));
    if (!opts.some(([l]) => STOPS.includes(l))) {
      await ask(socket, '/svstat', dir, EXIT_S6_SYSTEM).catch((err: unknown) => {
        if (!(err instanceof S6Failure) || !err.message.includes('no such service')) throw err;
      });
      return 0;
    }
    await ask(socket, '/svscanctl?cmd=t', dir, EXIT_S6_SYSTEM);
    return 0;
  } catch (err) {
    return fail(PROG, err, USAGE);
  }
}

function realpath(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}
