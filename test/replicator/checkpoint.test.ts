import { describe, expect, it } from 'vitest';
import { type CheckpointInput, decideCheckpoint, nextLookIn, stepAsideIn } from '../../src/replicator/checkpoint.js';
import { WAL_HEADER_SIZE, frameSize } from '../../src/replicator/wal.js';

const PAGE = 4096;
const size = (pages: number): number => WAL_HEADER_SIZE + pages * frameSize(PAGE);
const base: CheckpointInput = {
  pageSize: PAGE,
  walSize: size(10),
  shadowSize: size(10),
  dbModifiedMs: 0,
  nowMs: 1000,
  minCheckpointPageCount: 1000,
  maxCheckpointPageCount: 10_000,
  checkpointInterval: 60_000,
};

describe('decideCheckpoint', () => {
  it('applies the spec rules, first match wins', () => {
    expect(decideCheckpoint(base)).toBeUndefined();
    expect(decideCheckpoint({ ...base, shadowSize: size(1000) })).toBe('PASSIVE');
    expect(decideCheckpoint({ ...base, shadowSize: size(10_000) })).toBe('RESTART');
    expect(decideCheckpoint({ ...base, shadowSize: size(10_000), maxCheckpointPageCount: 0 })).toBe('PASSIVE');
    expect(decideCheckpoint({ ...base, walSize: size(500_000), shadowSize: size(10_000) })).toBe('TRUNCATE');
    expect(decideCheckpoint({ ...base, nowMs: 61_000 })).toBe('PASSIVE');
    expect(decideCheckpoint({ ...base, nowMs: 61_000, shadowSize: size(1) })).toBeUndefined();
  });
});

describe('stepAsideIn', () => {
  const at = (shadowPages: number, framesPerMs: number) => stepAsideIn({ shadowPages, minCheckpointPageCount: 1000, framesPerMs, lookAheadMs: 20 });

  it('gives the time until the WAL reaches min-checkpoint-page-count when that comes before the next look', () => {
    expect(at(400, 60)).toBe(10);
    expect(at(990, 1)).toBe(10);
    expect(at(100, 40)).toBeUndefined();
    expect(at(979, 1)).toBeUndefined();
  });

  it('past the threshold, gives the time until the next frame (the commit whose checkpoint can empty the WAL)', () => {
    expect(at(1000, 60)).toBeCloseTo(1 / 60);
    expect(at(1500, 0.5)).toBe(2);
    expect(at(1500, 0.01)).toBeUndefined();
  });

  it('never steps aside for a WAL that is not growing', () => {
    expect(at(999, 0)).toBeUndefined();
    expect(at(5000, 0)).toBeUndefined();
  });
});

describe('nextLookIn', () => {
  it('asks for a look halfway to the threshold, never later than the lead before it', () => {
    expect(nextLookIn(16, 4)).toBe(8);
    expect(nextLookIn(10, 4)).toBe(5);
    expect(nextLookIn(7, 4)).toBe(3);
    expect(nextLookIn(5, 4)).toBe(1);
    expect(nextLookIn(3, 4)).toBe(0);
  });
});
