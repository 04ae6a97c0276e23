/**
 * held-signals: signals caught from the first instant of a long-running command, before
 * its real handlers exist. A namespace's PID 1 (the init in a container) has every signal
 * without a handler dropped by the kernel, and any other process dies of SIGTERM by
 * default: either way a stop sent while Node still loads the command's modules would be
 * lost. `holdSignals` queues them; the real handler, once installed, takes the queue with
 * `releaseHeldSignals` and acts on each as if it had just arrived.
 *
 * This module imports nothing, so the CLI evaluates it before any slow import.
 */

const queued: NodeJS.Signals[] = [];
const listeners: [NodeJS.Signals, () => void][] = [];

/** holdSignals queues every delivery of `signals` until released; idempotent per signal. */
export function holdSignals(signals: readonly NodeJS.Signals[]): void {
  for (const sig of signals) {
    if (listeners.some(([s]) => s === sig)) continue;
    const listener = (): void => void queued.push(sig);
    process.on(sig, listener);
    listeners.push([sig, listener]);
  }
}

/**
 * releaseHeldSignals removes the queueing handlers and returns the signals received so far,
 * in order. Call it after installing the real handlers, so no delivery meets a moment
 * without one.
 */
export function releaseHeldSignals(): NodeJS.Signals[] {
  for (const [sig, listener] of listeners.splice(0)) process.off(sig, listener);
  return queued.splice(0);
}
