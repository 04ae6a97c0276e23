/**
 * fatal: the init's last resort for its own bugs. An uncaught exception or unhandled
 * rejection in PID 1 must not kill it on the spot (the kernel would SIGKILL every process
 * in the container, the app mid-write and the final sync never run) nor leave it running
 * in an unknown state. It is logged and turned into a stop: the app stopped, the final
 * sync, leftovers killed, exit 111. Should that shutdown itself hang, a backstop kills
 * every descendant and exits 111 once every grace time has passed. Its timer is armed at
 * the error for the whole shutdown, then re-armed when the final sync starts for what is
 * left (the sync, each cont-finish.d script, the leftovers' grace): a stop of the services
 * that took longer than its share (a service and its logger, the v3 tree's chain, oneshots'
 * `down`s) never gets the final sync cut short.
 */
import type { Logger } from '../log.js';
import { exitProcess } from '../exit.js';
import { descendantsOf } from '../proc.js';
import type { Knobs } from './knobs.js';
import { listScripts } from './oneshot.js';
import { signalPid } from './signals.js';

/** EXIT_FATAL is the exit code after an internal error (as "the init could not do its job"). */
export const EXIT_FATAL = 111;

/** BACKSTOP_MARGIN is added to the sum of the grace times before the backstop fires (ms). */
export const BACKSTOP_MARGIN = 5_000;

/** armed is the backstop once an internal error started a stop: its timer, re-armed by finalSyncStarting. */
let armed: { timer: NodeJS.Timeout; log: Logger; knobs: Knobs } | undefined;

/** onFatal installs the handlers: the first error calls `stop(message)` and arms the backstop; later ones are logged. */
export function onFatal(log: Logger, knobs: Knobs, stop: (message: string) => void): void {
  let seen = false;
  const handle = (what: string, err: unknown): void => {
    const message = `internal error (${what}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    log.error(message.replace(/\s*\n\s*/g, ' | '));
    if (seen) return;
    seen = true;
    arm(log, knobs, knobs.appGrace + knobs.servicesGrace + fromSyncMs(knobs));
    stop(`internal error (${what}): ${err instanceof Error ? err.message : String(err)}`);
  };
  process.on('uncaughtException', (err) => handle('uncaught exception', err));
  process.on('unhandledRejection', (reason) => handle('unhandled rejection', reason));
}

/** finalSyncStarting re-arms an armed backstop for the rest of the shutdown from the final sync on (nothing when no error). */
export function finalSyncStarting(): void {
  if (armed) arm(armed.log, armed.knobs, fromSyncMs(armed.knobs));
}

/** fromSyncMs bounds the shutdown from the final sync's start: the sync, each cont-finish.d script, the leftovers' grace. */
export function fromSyncMs(knobs: Knobs): number {
  let scripts = 1;
  try {
    scripts = Math.max(1, listScripts(knobs.contFinishDir).length);
  } catch {
    // Unreadable: cont-finish.d will fail the same way; count one script.
  }
  return knobs.syncGrace + scripts * knobs.contFinishTimeout + knobs.killGrace;
}

/** arm (re)starts the backstop's timer: `ms` plus BACKSTOP_MARGIN from now. */
function arm(log: Logger, knobs: Knobs, ms: number): void {
  if (armed) clearTimeout(armed.timer);
  const timer = setTimeout(() => backstop(log), ms + BACKSTOP_MARGIN).unref();
  armed = { timer, log, knobs };
}

/** backstop kills every descendant and exits: the shutdown after a fatal error did not end. */
function backstop(log: Logger): void {
  log.error('shutdown after an internal error did not finish: killing every process', { code: EXIT_FATAL });
  for (const pid of descendantsOf('self')) signalPid(pid, 'SIGKILL');
  exitProcess(EXIT_FATAL);
}

/** testFailure is the test-only hook (LIFEBOAT_TEST_FAIL): fail the way an init bug would, outside any handler. */
export function testFailure(mode: NonNullable<Knobs['testFail']>): void {
  if (mode === 'uncaught') setImmediate(() => { throw new Error('LIFEBOAT_TEST_FAIL=uncaught'); });
  else void Promise.reject(new Error('LIFEBOAT_TEST_FAIL=rejection'));
}
