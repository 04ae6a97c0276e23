import { describe, expect, it } from 'vitest';
import { MAX_SEEN, MERGE_WITHIN, PositionLog, replicaLag, type Seen } from '../../src/replicator/lag.js';
import type { Pos } from '../../src/replicator/pos.js';

const G1 = '0000000000000001';
const G2 = '0000000000000002';
const at = (generation: string, index: number, offset: number): Pos => ({ generation, index, offset });

describe('replicaLag', () => {
  const seen: Seen[] = [
    { pos: at(G1, 1, 100), at: 1_000 },
    { pos: at(G1, 1, 200), at: 5_000 },
    { pos: at(G1, 2, 50), at: 9_000 },
  ];

  it('is 0 while the replica holds the database position, however old the last commit', () => {
    expect(replicaLag(seen, at(G1, 2, 50), 1_000_000)).toBe(0);
    expect(replicaLag([], undefined, 1_000_000)).toBe(0);
  });

  it('grows from the first commit the replica does not hold', () => {
    expect(replicaLag(seen, at(G1, 1, 200), 12_000)).toBe(3_000);
    expect(replicaLag(seen, at(G1, 1, 100), 12_000)).toBe(7_000);
    expect(replicaLag(seen, at(G1, 1, 150), 12_000)).toBe(7_000);
  });

  it('a replica holding nothing restorable lags from the first position seen', () => {
    expect(replicaLag(seen, undefined, 12_000)).toBe(11_000);
  });

  it('a later generation holds the earlier ones (its snapshot); an earlier one holds none of the later', () => {
    const gens: Seen[] = [...seen, { pos: at(G2, 1, 0), at: 10_000 }, { pos: at(G2, 1, 80), at: 11_000 }];
    expect(replicaLag(gens, at(G2, 1, 0), 12_000)).toBe(1_000);
    expect(replicaLag(gens, at(G1, 2, 50), 12_000)).toBe(2_000);
    expect(replicaLag(gens, at('00000000000000ff', 9, 9), 12_000)).toBe(11_000);
  });

  it('is never negative (a clock that stepped back)', () => {
    expect(replicaLag(seen, at(G1, 1, 200), 8_000)).toBe(0);
  });
});

describe('PositionLog', () => {
  it('ignores repeats, merges close positions keeping the older time, and prunes what every replica holds', () => {
    const log = new PositionLog();
    log.observe(at(G1, 1, 100), 0);
    log.observe(at(G1, 1, 100), 5_000);
    log.observe(at(G1, 1, 200), 10_000);
    log.observe(at(G1, 1, 300), 10_000 + MERGE_WITHIN - 1);
    expect(log.seen.map((s) => [s.pos.offset, s.at])).toEqual([
      [100, 0],
      [300, 10_000],
    ]);
    expect(log.lag(at(G1, 1, 100), 20_000)).toBe(10_000);
    log.prune([at(G1, 1, 100), at(G1, 1, 300)]);
    expect(log.seen).toHaveLength(1);
    log.prune([at(G1, 1, 300)]);
    expect(log.seen).toHaveLength(1);
    expect(log.lag(at(G1, 1, 300), 99_000)).toBe(0);
  });

  it('stays bounded and only ever overstates a lag when it merges', () => {
    const log = new PositionLog();
    const exact: Seen[] = [];
    for (let i = 1; i <= MAX_SEEN * 3; i++) {
      const p = at(G1, 1, i * 10);
      log.observe(p, i * 1_000);
      exact.push({ pos: p, at: i * 1_000 });
    }
    expect(log.seen.length).toBeLessThanOrEqual(MAX_SEEN);
    expect(log.seen.at(-1)!.pos).toEqual(at(G1, 1, MAX_SEEN * 3 * 10));
    const now = MAX_SEEN * 3 * 1_000 + 500;
    for (const r of [undefined, at(G1, 1, 10), at(G1, 1, 12345), at(G1, 1, MAX_SEEN * 3 * 10 - 10)]) {
      expect(log.lag(r, now)).toBeGreaterThanOrEqual(replicaLag(exact, r, now));
    }
    expect(log.lag(at(G1, 1, MAX_SEEN * 3 * 10), now)).toBe(0);
  });
});
