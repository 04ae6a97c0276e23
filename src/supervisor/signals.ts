/**
 * signals: which signals the init handles, signalling a child's process group, and the
 * exit-code mapping (a code, or 128+N for signal N).
 *
 * As PID 1 a signal without a handler is dropped, so every signal the init cares about
 * gets one. A listener on SIGUSR1 also turns off Node's "SIGUSR1 starts the inspector".
 */
import os from 'node:os';
import { releaseHeldSignals } from '../process/held-signals.js';
import type { Exit } from './service-table.js';

/** STOP_SIGNALS take the container down: the app first, the replicator last. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'];

/** FORWARD_SIGNALS are passed on to the app and change nothing else. */
export const FORWARD_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** signalNumber is the number of a signal name (15 for SIGTERM). */
export function signalNumber(signal: NodeJS.Signals): number {
  return (os.constants.signals as Record<string, number>)[signal] ?? 0;
}

/** exitCode maps an exit to a shell-style code: the code, or 128+N when killed by signal N. */
export function exitCode(exit: Exit): number {
  if (exit.signal) return 128 + signalNumber(exit.signal);
  return exit.code ?? 1;
}

/** describeExit renders an exit for logs: `code=3` or `signal=SIGKILL`. */
export function describeExit(exit: Exit): { code?: number; signal?: string } {
  return exit.signal ? { signal: exit.signal } : { code: exit.code ?? undefined };
}

/**
 * onSignals calls `handler` for every stop and forward signal; returns a function that
 * removes the handlers. Signals held since the process started (process/held-signals.ts)
 * are handed to `handler` first, on the next tick, in the order they came.
 */
export function onSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  const all = [...STOP_SIGNALS, ...FORWARD_SIGNALS];
  const listeners = all.map((sig) => {
    const listener = (): void => handler(sig);
    process.on(sig, listener);
    return [sig, listener] as const;
  });
  const held = releaseHeldSignals();
  if (held.length > 0) process.nextTick(() => held.forEach((sig) => handler(sig)));
  return () => {
    for (const [sig, listener] of listeners) process.off(sig, listener);
  };
}

/** signalGroup sends `signal` to process group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 'SIGKILL'): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** signalPid sends `signal` to one process; false when it is gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
