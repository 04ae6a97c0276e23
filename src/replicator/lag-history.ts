/**
 * lag-history: a replica's lag over the last hour, for the status page's sparkline. Samples
 * fall into buckets of LAG_BUCKET_MS, each keeping the largest lag sampled in it (a short
 * spike is not lost between two points); buckets older than LAG_HISTORY_MS are dropped, so
 * the memory is bounded. Pure: no clock, no I/O.
 */

/** LAG_HISTORY_MS is how far back the history reaches: one hour. */
export const LAG_HISTORY_MS = 60 * 60 * 1000;

/** LAG_BUCKET_MS is the width of one bucket (one point of the sparkline). */
export const LAG_BUCKET_MS = 10_000;

/** LAG_SAMPLE_MS is how often the replicator samples each replica's lag. */
export const LAG_SAMPLE_MS = 1_000;

/** LagPoint is `[unix_ms, lag_ms]`: a bucket's start and the largest lag sampled in it. */
export type LagPoint = [number, number];

/** LagHistory holds one replica's lag samples, one point per bucket, oldest first. */
export class LagHistory {
  private readonly points: LagPoint[] = [];

  /** record samples `lag` (ms) at `at` (ms since the epoch); a sample older than the newest bucket is ignored. */
  record(at: number, lag: number): void {
    const start = at - (at % LAG_BUCKET_MS);
    const last = this.points[this.points.length - 1];
    if (last && last[0] === start) last[1] = Math.max(last[1], lag);
    else if (!last || last[0] < start) this.points.push([start, lag]);
    while (this.points.length > 0 && this.points[0][0] <= at - LAG_HISTORY_MS) this.points.shift();
  }

  /** history is the points within LAG_HISTORY_MS of `now`, then `[now, current]` when given (a copy). */
  history(now: number, current?: number): LagPoint[] {
    const out = this.points.filter(([t]) => t > now - LAG_HISTORY_MS).map(([t, l]): LagPoint => [t, l]);
    if (current !== undefined) out.push([now, current]);
    return out;
  }
}
