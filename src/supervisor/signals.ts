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
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGPWR'];

/** FORWARD_SIGNALS are passed on to the app and change nothing else. */
export const FORWARD_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * S6_STOP_SIGNALS are those that stop a container under s6-overlay v3 (s6-linux-init made
 * with -C): TERM and USR2 halt, INT reboots, USR1 and PWR power off. QUIT, HUP and WINCH
 * stop nothing there.
 */
export const S6_STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGUSR2', 'SIGINT', 'SIGUSR1', 'SIGPWR'];

/** CMD_SIGNALS are those S6_CMD_RECEIVE_SIGNALS diverts to the app while it runs. */
export const CMD_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGQUIT', 'SIGINT', 'SIGUSR1', 'SIGUSR2', 'SIGPWR', 'SIGWINCH'];

/** SignalMode: s6-overlay's meanings (a v3 tree is present), and S6_CMD_RECEIVE_SIGNALS. */
export interface SignalMode {
  s6: boolean;
  cmdReceivesSignals: boolean;
}

/** SignalAction: what the init does with a signal. */
export type SignalAction = 'stop' | 'forward' | 'ignore';

/** signalAction decides what `sig` does under `mode`, `appRunning` telling whether the app is up. */
export function signalAction(sig: NodeJS.Signals, mode: SignalMode, appRunning: boolean): SignalAction {
  if (mode.cmdReceivesSignals && appRunning && CMD_SIGNALS.includes(sig)) return 'forward';
  if (mode.s6) return S6_STOP_SIGNALS.includes(sig) ? 'stop' : 'ignore';
  return STOP_SIGNALS.includes(sig) ? 'stop' : 'forward';
}

/**
 * appStopSignal is what the app gets when `sig` stops the container: the same signal for
 * TERM, INT, QUIT and HUP; SIGTERM for PWR, USR1 and USR2 (s6 stops its processes with
 * SIGTERM, and an app may give USR1 or USR2 a meaning of its own).
 */
export function appStopSignal(sig: NodeJS.Signals): NodeJS.Signals {
  return sig === 'SIGPWR' || sig === 'SIGUSR1' || sig === 'SIGUSR2' ? 'SIGTERM' : sig;
}

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
