/**
 * early: the first module the CLI evaluates (main.ts imports it before anything else, and
 * ES modules run in import order). For the long-running commands it holds the stop
 * signals (process/held-signals.ts) from the first line of JavaScript, so a stop sent
 * while the rest loads is acted on, not dropped (as PID 1) or fatal (143) before the final
 * sync. Other commands keep Node's default handling.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { holdSignals } from '../process/held-signals.js';

/** EARLY_SIGNALS maps a command to the signals held from its start. */
export const EARLY_SIGNALS: Record<string, readonly NodeJS.Signals[]> = {
  init: ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'],
  replicate: ['SIGTERM', 'SIGINT'],
};

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
  if (cmd !== undefined && Object.hasOwn(EARLY_SIGNALS, cmd)) holdSignals(EARLY_SIGNALS[cmd]);
}
