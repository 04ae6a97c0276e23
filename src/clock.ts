/**
 * clock: a monotonic clock for timeouts, backoff and ages. `performance.now()` is the same
 * kind of clock, but its first use loads Node's performance timeline (perf_hooks and its
 * internals: +1.4 MB resident on Node 26, docs/benchmarks.md "The init"), where
 * `process.hrtime` loads nothing.
 */

/** nowMs is the time in milliseconds (fractional) on a monotonic clock; only differences mean anything. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
