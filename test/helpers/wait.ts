/**
 * wait: wait for an event with a generous deadline instead of sleeping a fixed time. A
 * loaded machine makes everything slower, so a test waits for what it needs to see and
 * fails — naming what it waited for — only when that never comes.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** DEFAULT_WAIT_MS is the deadline of a wait that names none (half the tests' timeout). */
export const DEFAULT_WAIT_MS = 30_000;

/** WaitOptions: what is waited for (named in the error), the deadline and the polling period. */
export interface WaitOptions {
  /** what names the event, e.g. "the replica to hold 5 PUTs". */
  what: string;
  /** timeoutMs is the deadline (default DEFAULT_WAIT_MS). */
  timeoutMs?: number;
  /** intervalMs is how long to sleep between two probes (default 20). */
  intervalMs?: number;
  /** detail adds context to the timeout error, e.g. a process's output so far. */
  detail?: () => string | Promise<string>;
}

/**
 * waitUntil calls `probe` until it returns something other than undefined, null or false,
 * and resolves with that value; after the deadline it throws an error naming `opts.what`
 * (and the last value seen). An error thrown by `probe` ends the wait at once.
 */
export async function waitUntil<T>(
  probe: () => T | Promise<T>,
  opts: WaitOptions,
): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
  const end = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
    if (performance.now() > end) {
      const detail = opts.detail ? `\n${await opts.detail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what} (last probe: ${String(value)})${detail}`);
    }
    await sleep(opts.intervalMs ?? 20);
  }
}
