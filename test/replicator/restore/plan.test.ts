/** plan: generation choice, snapshot choice and segment continuity, as pure functions. */
import { describe, expect, it } from 'vitest';
import type { GenerationSummary } from '../../../src/replicator/generations.js';
import { chooseGeneration, latestTies, planRestore } from '../../../src/replicator/restore/plan.js';
import { CorruptError, NoBackupError } from '../../../src/replicator/restore/errors.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);

/** gen builds a summary: snapshots as [index, second], segments as [index, offset, second]. */
function gen(generation: string, snaps: [number, number][], segs: [number, number, number][], replica = 'file'): GenerationSummary {
  const snapshots = snaps.map(([index, s]) => ({ generation, index, size: 100, createdAt: at(s) }));
  const segments = segs.map(([index, offset, s]) => ({ generation, index, offset, size: 10, createdAt: at(s) }));
  const times = [...snapshots, ...segments].map((f) => f.createdAt.getTime());
  return { replica, generation, snapshots, segments, createdAt: new Date(Math.min(...times)), updatedAt: new Date(Math.max(...times)) };
}

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

describe('chooseGeneration', () => {
  it('latest update wins', () => {
    const g = chooseGeneration([gen(A, [[0, 0]], [[0, 0, 50]]), gen(B, [[0, 10]], [[0, 0, 20]])], {});
    expect(g.generation).toBe(A);
  });

  it('on an updatedAt tie, the generation that started later wins, in either listing order', () => {
    const older = gen(A, [[0x77, 0]], [[0x77, 0, 30]]);
    const newer = gen(B, [[0, 25]], [[1, 0, 30]]);
    expect(chooseGeneration([older, newer], {}).generation).toBe(B);
    expect(chooseGeneration([newer, older], {}).generation).toBe(B);
  });

  it('on a full tie (a store that keeps whole seconds), a generation that follows the other wins; without markers the higher position does', () => {
    const first = gen(A, [[0, 5]], [[0, 0, 5], [1, 0, 5], [2, 0, 5]]);
    const second = gen(B, [[0, 5]], [[0, 0, 5]]);
    expect(latestTies([first, second], {}).sort()).toEqual([A, B]);
    expect(chooseGeneration([first, second], {}).generation).toBe(A);
    const follows = new Map([[B, new Set([A])]]);
    expect(chooseGeneration([first, second], {}, follows).generation).toBe(B);
    expect(chooseGeneration([second, first], {}, follows).generation).toBe(B);
    expect(chooseGeneration([first, gen(B, [[0, 5]], [[0, 0, 6]])], {}, new Map([[A, new Set([B])]])).generation).toBe(B);
  });

  it('the tie rule does not depend on listing order: three tied generations, or two that follow each other', () => {
    const C = 'cccccccccccccccc';
    const a = gen(A, [[0, 5]], [[0, 0, 5], [1, 0, 5], [2, 0, 5]]);
    const b = gen(B, [[0, 5]], [[0, 0, 5]]);
    const c = gen(C, [[0, 5]], [[0, 0, 5], [1, 0, 5]]);
    const orders = [[a, b, c], [a, c, b], [b, a, c], [b, c, a], [c, a, b], [c, b, a]];
    const bFollowsA = new Map([[B, new Set([A])]]);
    expect(new Set(orders.map((o) => chooseGeneration(o, {}, bFollowsA).generation))).toEqual(new Set([C]));
    const mutual = new Map([[A, new Set([B])], [B, new Set([A])]]);
    expect(new Set(orders.map((o) => chooseGeneration(o, {}, mutual).generation))).toEqual(new Set([A]));
    const chain = new Map([[B, new Set([A])], [C, new Set([B])]]);
    expect(new Set(orders.map((o) => chooseGeneration(o, {}, chain).generation))).toEqual(new Set([C]));
  });

  it('latestTies: none for one newest generation, for the same generation on two replicas, or with -generation', () => {
    expect(latestTies([gen(A, [[0, 0]], [[0, 0, 9]]), gen(B, [[0, 0]], [[0, 0, 8]])], {})).toEqual([]);
    expect(latestTies([gen(A, [[0, 0]], [[0, 0, 9]], 'one'), gen(A, [[0, 0]], [[0, 0, 9]], 'two')], {})).toEqual([]);
    expect(latestTies([gen(A, [[0, 9]], []), gen(B, [[0, 9]], [])], { generation: A })).toEqual([]);
  });

  it('the same generation on two replicas: the higher position wins a tie', () => {
    const behind = gen(A, [[0, 0]], [[0, 0, 9], [0, 0x1000, 9]], 'one');
    const ahead = gen(A, [[0, 0]], [[0, 0, 9], [0, 0x1000, 9], [0, 0x2000, 9]], 'two');
    expect(chooseGeneration([behind, ahead], {}).replica).toBe('two');
    expect(chooseGeneration([ahead, behind], {}).replica).toBe('two');
  });

  it('no generations, unknown generation and a time outside every generation are NoBackupError', () => {
    expect(() => chooseGeneration([], {})).toThrow(NoBackupError);
    expect(() => chooseGeneration([gen(A, [[0, 0]], [])], { generation: B })).toThrow(/generation bbbbbbbbbbbbbbbb not found/);
    expect(() => chooseGeneration([gen(A, [[0, 0]], [[0, 0, 5]])], { timestamp: at(6) })).toThrow(NoBackupError);
  });

  it('-timestamp skips generations whose range excludes it', () => {
    const all = [gen(A, [[0, 0]], [[0, 0, 10]]), gen(B, [[0, 20]], [[0, 0, 30]])];
    expect(chooseGeneration(all, { timestamp: at(5) }).generation).toBe(A);
    expect(chooseGeneration(all, { timestamp: at(25) }).generation).toBe(B);
  });

  it('a generation without a snapshot is not chosen; alone, it is an error, not "no backup"', () => {
    expect(chooseGeneration([gen(A, [[0, 0]], [[0, 0, 1]]), gen(B, [], [[0, 0, 9]])], {}).generation).toBe(A);
    expect(() => chooseGeneration([gen(B, [], [[0, 0, 9]])], {})).toThrow(CorruptError);
  });
});

describe('planRestore', () => {
  const g = gen(A, [[0, 0], [2, 20]], [[0, 0, 1], [0, 0x1000, 2], [1, 0, 10], [1, 0x800, 11], [2, 0, 21], [2, 0x40, 22], [3, 0, 30]]);

  it('latest: newest snapshot, then every index from its own', () => {
    const p = planRestore([g], {});
    expect(p.snapshot.index).toBe(2);
    expect(p.indexes.map((i) => [i.index, i.segments.map((s) => s.offset)])).toEqual([[2, [0, 0x40]], [3, [0]]]);
  });

  it('-index is inclusive and picks the highest snapshot at or below it', () => {
    const p = planRestore([g], { index: 1 });
    expect(p.snapshot.index).toBe(0);
    expect(p.indexes.map((i) => i.index)).toEqual([0, 1]);
  });

  it('-index past the highest stored index is an error naming it', () => {
    expect(() => planRestore([g], { index: 9 })).toThrow('no wal index 00000009 (highest is 00000003)');
  });

  it('-timestamp: newest snapshot at or before it, segments up to the first after it', () => {
    const p = planRestore([g], { timestamp: at(10) });
    expect(p.snapshot.index).toBe(0);
    expect(p.indexes.map((i) => [i.index, i.segments.length])).toEqual([[0, 2], [1, 1]]);
  });

  it('-index with -timestamp is refused', () => {
    expect(() => planRestore([g], { index: 1, timestamp: at(1) })).toThrow(/cannot combine/);
  });

  it('a missing initial segment names the index and the segment', () => {
    const bad = gen(A, [[0, 0]], [[0, 0, 1], [1, 0x800, 11]]);
    expect(() => planRestore([bad], {})).toThrow('wal index 00000001: missing initial segment 00000001_00000000.wal.lz4 (first stored is 00000001_00000800.wal.lz4)');
  });

  it('a missing whole index is named', () => {
    const bad = gen(A, [[0, 0]], [[0, 0, 1], [2, 0, 11]]);
    expect(() => planRestore([bad], {})).toThrow('missing wal index 00000001 (next stored is 00000002)');
  });

  it('segments below the snapshot index are ignored; a snapshot with no segments restores alone', () => {
    const p = planRestore([gen(A, [[5, 9]], [[4, 0, 1]])], {});
    expect(p.snapshot.index).toBe(5);
    expect(p.indexes).toEqual([]);
  });
});
