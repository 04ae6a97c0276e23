/**
 * cleanup: the last step of a shutdown — TERM every descendant still alive, KILL what is
 * left after a grace, and reap them, so that nothing is cut mid-write by the kernel's
 * SIGKILL when PID 1 exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { descendantsOf, processState } from '../proc.js';
import type { Reaper } from './reaper.js';
import { signalPid } from './signals.js';

/** POLL_INTERVAL is how often leftovers are checked while waiting for them to go. */
export const POLL_INTERVAL = 20;

/** REAP_WAIT bounds the wait for killed leftovers to be reaped. */
export const REAP_WAIT = 500;

/** living lists our descendants that are not zombies. */
export function living(): number[] {
  return descendantsOf('self').filter((pid) => processState(pid) !== 'Z');
}

/** killLeftovers TERMs every living descendant, waits up to `graceMs`, KILLs the rest, reaps; returns how many it signalled. */
export async function killLeftovers(graceMs: number, reaper: Reaper | undefined, log: Logger): Promise<number> {
  const first = living();
  if (first.length === 0) return 0;
  log.info('terminating leftover processes', { count: first.length, grace_ms: graceMs });
  for (const pid of first) signalPid(pid, 'SIGTERM');
  await waitUntil(() => living().length === 0, graceMs);
  const rest = living();
  if (rest.length > 0) {
    log.warn('killing leftover processes', { count: rest.length });
    for (const pid of rest) signalPid(pid, 'SIGKILL');
  }
  await waitUntil(() => {
    reaper?.scan();
    return descendantsOf('self').every((pid) => processState(pid) === undefined);
  }, REAP_WAIT);
  return first.length;
}

async function waitUntil(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(POLL_INTERVAL);
}
