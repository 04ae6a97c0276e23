/**
 * retry: capped exponential backoff with jitter for storage requests. The S3 client turns
 * the SDK's own retries off and wraps each request in `withRetry`, so every retry is
 * logged once, with the operation and the key, and an abort stops the wait at once.
 * The log line's `attempt` is the number of the attempt about to start (2 = first retry).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';

/** RetryPolicy bounds the retries of one request: `attempts` in all, waits doubling from `baseDelay` up to `maxDelay` ms. */
export interface RetryPolicy {
  attempts: number;
  baseDelay: number;
  maxDelay: number;
}

/** DEFAULT_RETRY_POLICY: 6 attempts, waits of about 100, 200, 400, 800, 1600 ms (at most 3.1 s of waiting). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 6, baseDelay: 100, maxDelay: 5_000 };

/** RetryContext names the request for the log and says which errors are worth another attempt. */
export interface RetryContext {
  op: string;
  key: string;
  logger: Logger;
  policy?: RetryPolicy;
  signal?: AbortSignal;
  /** retryable reports whether a failed attempt may be repeated. */
  retryable: (err: unknown) => boolean;
  /** describe renders an error for the log line (never a secret). */
  describe: (err: unknown) => string;
}

/**
 * backoffDelay returns the wait before retry number `retry` (1 = after the first failure):
 * the capped exponential `min(maxDelay, baseDelay·2^(retry-1))`, jittered into its upper half.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelay, policy.baseDelay * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * withRetry runs `fn` until it succeeds, fails with an error that is not retryable, or runs
 * out of attempts; the last error is thrown as is. An abort (before or during a wait)
 * rejects with the signal's reason.
 */
export async function withRetry<T>(fn: () => Promise<T>, ctx: RetryContext): Promise<T> {
  const policy = ctx.policy ?? DEFAULT_RETRY_POLICY;
  for (let attempt = 1; ; attempt++) {
    ctx.signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      if (attempt >= policy.attempts || !ctx.retryable(err)) throw err;
      const delay = backoffDelay(attempt, policy);
      ctx.logger.warn('retrying', { op: ctx.op, key: ctx.key, attempt: attempt + 1, delay, error: ctx.describe(err) });
      await abortableSleep(delay, ctx.signal);
    }
  }
}

/** abortableSleep waits `ms`, rejecting with the signal's reason when it aborts. */
export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
