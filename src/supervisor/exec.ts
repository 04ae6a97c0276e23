/**
 * exec: `lifeboat replicate -exec "CMD"` — Litestream's single-process mode, done better.
 * The app starts only once every database's read lock is held (the reference starts it
 * about a second earlier); it gets the signals; when it exits (by itself or after the
 * forwarded stop signal) the replicator does its final sync and Lifeboat exits with the
 * app's code (the reference always exits 1). Restore is not implied (use `lifeboat init`).
 */
import { errorMessage } from '../errors.js';
import { log } from '../log.js';
import type { Replicator } from '../replicator/replicator.js';
import { spawnApp } from './app.js';
import { readKnobs } from './knobs.js';
import { appStopSignal, describeExit, exitCode, FORWARD_SIGNALS, onSignals } from './signals.js';

/**
 * runWithApp runs `argv` as the app beside a started replicator and returns the exit code:
 * the app's (128+N if killed by signal N), or 1 instead of 0 when the final sync failed
 * (or did not finish within `syncTimeoutMs`).
 */
export async function runWithApp(replicator: Replicator, argv: string[], syncTimeoutMs = Infinity): Promise<number> {
  const knobs = readKnobs();
  const app = spawnApp(argv);
  const skipGrace = new AbortController();
  let stopping = false;
  const off = onSignals((sig) => {
    if (FORWARD_SIGNALS.includes(sig)) {
      app.signal(sig);
      return;
    }
    if (stopping) {
      skipGrace.abort();
      return;
    }
    stopping = true;
    log.info('signal received, stopping app', { signal: sig });
    void app.stop(appStopSignal(sig), knobs.appGrace, skipGrace.signal);
  });
  const exit = await app.exited;
  if (app.spawnError) log.error(`app could not start: ${app.spawnError.message}`, { code: exitCode(exit) });
  else log.info('app exited', describeExit(exit));
  let synced = false;
  try {
    synced = await replicator.stop(true, syncTimeoutMs);
  } catch (err) {
    log.error('final sync failed', { error: errorMessage(err) });
  } finally {
    off();
  }
  if (!synced) log.error(`final sync incomplete: not synced: ${replicator.unsynced.join('; ') || 'see the errors above'}`);
  const code = exitCode(exit);
  return code === 0 && !synced ? 1 : code;
}
