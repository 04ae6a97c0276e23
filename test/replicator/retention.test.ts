import { describe, expect, it } from 'vitest';
import { planRetention } from '../../src/replicator/retention.js';
import type { SnapshotInfo, WALSegmentInfo } from '../../src/replicator/replica-client.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const snap = (generation: string, index: number, at: number): SnapshotInfo => ({ generation, index, size: 1, createdAt: new Date(at) });
const seg = (generation: string, index: number, offset: number): WALSegmentInfo => ({ generation, index, offset, size: 1, createdAt: new Date(0) });

describe('planRetention', () => {
  it('keeps snapshots after the cutoff and deletes older snapshots and the segments below the oldest kept one', () => {
    const plan = planRetention({
      current: A,
      cutoff: 100,
      generations: [A],
      snapshots: [snap(A, 0, 50), snap(A, 3, 150), snap(A, 5, 200)],
      segments: [seg(A, 0, 0), seg(A, 2, 4096), seg(A, 3, 0), seg(A, 5, 32)],
    });
    expect(plan.generations).toEqual([]);
    expect(plan.snapshots.map((s) => s.index)).toEqual([0]);
    expect(plan.segments.map((s) => [s.index, s.offset])).toEqual([
      [0, 0],
      [2, 4096],
    ]);
  });

  it('deletes other generations without a kept snapshot, never the current one', () => {
    const plan = planRetention({
      current: A,
      cutoff: 100,
      generations: [A, B],
      snapshots: [snap(B, 0, 10), snap(A, 0, 20)],
      segments: [seg(B, 0, 0), seg(A, 0, 0)],
    });
    expect(plan.generations).toEqual([B]);
    expect(plan.snapshots).toEqual([]);
    expect(plan.segments).toEqual([]);
  });

  it('keeps an older generation that still has a snapshot inside the retention period', () => {
    const plan = planRetention({
      current: A,
      cutoff: 100,
      generations: [A, B],
      snapshots: [snap(B, 2, 120), snap(A, 0, 130)],
      segments: [seg(B, 1, 0), seg(B, 2, 0)],
    });
    expect(plan.generations).toEqual([]);
    expect(plan.segments.map((s) => s.index)).toEqual([1]);
  });
});
