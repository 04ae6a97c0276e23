/**
 * final-sync: one replica's last upload on stop, bounded by a deadline. A failed attempt
 * (a reset connection, a 503, a timeout) is retried every SHUTDOWN_SYNC_INTERVAL (the last
 * wait cut to the deadline) while time is left, so a transient fault costs retries, not the data; at the deadline the
 * attempt in flight is abandoned and the answer is false, so the process can exit within
 * its stop timeout (the caller then closes the storage clients, which ends the requests).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SHUTDOWN_SYNC_INTERVAL } from '../config/defaults.js';
import { errorMessage } from '../errors.js';
import type { Replica } from './replica.js';

/** finalSync flushes `replica` until it holds every frame, retrying until `deadline` (Date.now() clock; Infinity: no limit). */
export async function finalSync(replica: Replica, deadline: number): Promise<boolean> {
  const state = { expired: false };
  const attempts = flushUntil(replica, deadline, state);
  if (!Number.isFinite(deadline)) return attempts;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  const ok = await Promise.race([attempts, late]);
  clearTimeout(timer);
  if (!ok && !(await settledBy(attempts))) {
    state.expired = true;
    replica.log.error('final sync failed: shutdown-sync-timeout reached');
  }
  return ok;
}

/**
 * flushUntil repeats the flush after each failure until `deadline`: the wait before the next
 * attempt is SHUTDOWN_SYNC_INTERVAL, cut to the time left, so the whole budget is used (an
 * attempt still running at the deadline is abandoned by finalSync).
 */
async function flushUntil(replica: Replica, deadline: number, state: { expired: boolean }): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await replica.flush();
      return true;
    } catch (err) {
      if (state.expired) return false;
      const left = deadline - Date.now();
      if (left <= 0) {
        replica.log.error('final sync failed', { attempt, error: errorMessage(err) });
        return false;
      }
      replica.log.warn('final sync failed: retrying', { attempt, left_ms: Math.round(left), error: errorMessage(err) });
      await sleep(Math.min(SHUTDOWN_SYNC_INTERVAL, left));
      if (state.expired) return false;
    }
  }
}

/** settledBy reports whether `p` has already settled (its own failure was logged by flushUntil). */
async function settledBy(p: Promise<boolean>): Promise<boolean> {
  const pending = Symbol('pending');
  return (await Promise.race([p.then(() => true, () => true), Promise.resolve(pending)])) !== pending;
}
