/**
 * early: the first module the CLI evaluates (main.ts imports it before anything else, and
 * ES modules run in import order). For the long-running commands it holds the stop
 * signals (process/held-signals.ts) from the first line of JavaScript, so a stop sent
 * while the rest loads is acted on, not dropped (as PID 1) or fatal (143) before the final
 * sync. Other commands keep Node's default handling.
 *
 * Before this line runs, nothing of ours can catch a signal: Node's own start-up handler
 * for SIGTERM ends the process (143), or, in a namespace's PID 1, the kernel drops the
 * signal. docs/replication.md gives the measured delay after exec.
 */
import { fs } from '../builtin.js';
import { fileURLToPath } from 'node:url';
import { holdSignals } from '../process/held-signals.js';

/** EARLY_SIGNALS maps a command to the signals held from its start. */
export const EARLY_SIGNALS: Record<string, readonly NodeJS.Signals[]> = {
  init: ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGPWR', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'],
  replicate: ['SIGTERM', 'SIGINT'],
};

/**
 * TEST_SIGNALS_HELD_ENV names a file this module writes (the time, ms since the epoch)
 * once the stop signals are held, and removes it from the environment. TEST ONLY: the tests read it to send a signal at a known
 * delay after the first instant a process can handle one. Not a user setting.
 */
export const TEST_SIGNALS_HELD_ENV = 'LIFEBOAT_TEST_SIGNALS_HELD';

/** isCliScript reports whether node was started with this package's CLI, through a symlink too (not a test importing it). */
function isCliScript(): boolean {
  try {
    const main = fileURLToPath(new URL('./main.js', import.meta.url));
    return process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === main;
  } catch {
    return false;
  }
}

if (isCliScript()) {
  const cmd = process.argv[2];
  if (cmd !== undefined && Object.hasOwn(EARLY_SIGNALS, cmd)) {
    holdSignals(EARLY_SIGNALS[cmd]);
    const marker = process.env[TEST_SIGNALS_HELD_ENV];
    if (marker) fs.writeFileSync(marker, `${Date.now()}\n`);
    // Not inherited: the processes this one starts would write it again.
    delete process.env[TEST_SIGNALS_HELD_ENV];
  }
}
