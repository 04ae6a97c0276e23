import { describe, expect, it } from 'vitest';
import { LAG_BUCKET_MS, LAG_HISTORY_MS, LagHistory } from '../../src/replicator/lag-history.js';

const T0 = 1_700_000_000_000; // a multiple of LAG_BUCKET_MS

describe('LagHistory', () => {
  it('keeps one point per bucket, the largest lag sampled in it, then the current value', () => {
    const h = new LagHistory();
    h.record(T0 + 1_000, 200);
    h.record(T0 + 5_000, 1_500);
    h.record(T0 + 9_000, 0);
    h.record(T0 + LAG_BUCKET_MS + 2_000, 300);
    expect(h.history(T0 + LAG_BUCKET_MS + 3_000, 40)).toEqual([
      [T0, 1_500],
      [T0 + LAG_BUCKET_MS, 300],
      [T0 + LAG_BUCKET_MS + 3_000, 40],
    ]);
    expect(h.history(T0 + LAG_BUCKET_MS + 3_000)).toHaveLength(2);
  });

  it('reaches back one hour at most: 360 buckets of samples every second, bounded', () => {
    const h = new LagHistory();
    const end = T0 + 2 * LAG_HISTORY_MS;
    for (let t = T0; t <= end; t += 1_000) h.record(t, (t - T0) / 1_000);
    const points = h.history(end);
    expect(points).toHaveLength(LAG_HISTORY_MS / LAG_BUCKET_MS);
    expect(points[0][0]).toBeGreaterThan(end - LAG_HISTORY_MS);
    expect(points[points.length - 1]).toEqual([end, (end - T0) / 1_000]);
    // An hour later with no sample (a database closed meanwhile): nothing old is shown.
    expect(h.history(end + LAG_HISTORY_MS, 0)).toEqual([[end + LAG_HISTORY_MS, 0]]);
  });

  it('ignores a sample older than its newest bucket (a clock stepped back)', () => {
    const h = new LagHistory();
    h.record(T0 + LAG_BUCKET_MS, 100);
    h.record(T0, 9_999);
    expect(h.history(T0 + LAG_BUCKET_MS)).toEqual([[T0 + LAG_BUCKET_MS, 100]]);
  });

  it('returns a copy', () => {
    const h = new LagHistory();
    h.record(T0, 5);
    h.history(T0)[0][1] = 99;
    expect(h.history(T0)).toEqual([[T0, 5]]);
  });
});
