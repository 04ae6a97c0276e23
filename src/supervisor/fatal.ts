/**
 * fatal: the init's last resort for its own bugs. An uncaught exception or unhandled
 * rejection in PID 1 must not kill it on the spot (the kernel would SIGKILL every process
 * in the container, the app mid-write and the final sync never run) nor leave it running
 * in an unknown state. It is logged and turned into a stop: the app stopped, the final
 * sync, leftovers killed, exit 111. Should that shutdown itself hang, a backstop kills
 * every descendant and exits 111 once every grace time has passed.
 */
import type { Logger } from '../log.js';
import { descendantsOf } from '../proc.js';
import type { Knobs } from './knobs.js';
import { signalPid } from './signals.js';

/** EXIT_FATAL is the exit code after an internal error (as "the init could not do its job"). */
export const EXIT_FATAL = 111;

/** BACKSTOP_MARGIN is added to the sum of the grace times before the backstop fires (ms). */
export const BACKSTOP_MARGIN = 5_000;

/** onFatal installs the handlers: the first error calls `stop(message)` and arms the backstop; later ones are logged. */
export function onFatal(log: Logger, knobs: Knobs, stop: (message: string) => void): void {
  let seen = false;
  const handle = (what: string, err: unknown): void => {
    const message = `internal error (${what}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    log.error(message.replace(/\s*\n\s*/g, ' | '));
    if (seen) return;
    seen = true;
    const budget = knobs.appGrace + knobs.servicesGrace + knobs.syncGrace + knobs.contFinishTimeout + knobs.killGrace;
    setTimeout(() => backstop(log), budget + BACKSTOP_MARGIN).unref();
    stop(`internal error (${what}): ${err instanceof Error ? err.message : String(err)}`);
  };
  process.on('uncaughtException', (err) => handle('uncaught exception', err));
  process.on('unhandledRejection', (reason) => handle('unhandled rejection', reason));
}

/** backstop kills every descendant and exits: the shutdown after a fatal error did not end. */
function backstop(log: Logger): void {
  log.error('shutdown after an internal error did not finish: killing every process', { code: EXIT_FATAL });
  for (const pid of descendantsOf('self')) signalPid(pid, 'SIGKILL');
  process.exit(EXIT_FATAL);
}

/** testFailure is the test-only hook (LIFEBOAT_TEST_FAIL): fail the way an init bug would, outside any handler. */
export function testFailure(mode: NonNullable<Knobs['testFail']>): void {
  if (mode === 'uncaught') setImmediate(() => { throw new Error('LIFEBOAT_TEST_FAIL=uncaught'); });
  else void Promise.reject(new Error('LIFEBOAT_TEST_FAIL=rejection'));
}
