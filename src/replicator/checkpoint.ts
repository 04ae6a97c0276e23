/**
 * checkpoint: when the replicator checkpoints, as a pure function of sizes and times
 * (the spec's rules, first match wins).
 */
import { TRUNCATE_CHECKPOINT_PAGE_COUNT } from '../config/defaults.js';
import type { CheckpointMode } from './sqlite.js';
import { WAL_HEADER_SIZE, frameSize } from './wal.js';

/** MAX_SHADOW_BYTES forces a RESTART before one WAL index nears the 8-hex-digit offset limit. */
export const MAX_SHADOW_BYTES = 1024 * 1024 * 1024;

/** CheckpointInput is what the decision needs to know. */
export interface CheckpointInput {
  pageSize: number;
  walSize: number;
  shadowSize: number;
  dbModifiedMs: number;
  nowMs: number;
  minCheckpointPageCount: number;
  maxCheckpointPageCount: number;
  checkpointInterval: number;
}

/** pageCount is the number of whole frames in a WAL or shadow WAL file of `size` bytes. */
export function pageCount(size: number, pageSize: number): number {
  return size <= WAL_HEADER_SIZE ? 0 : Math.floor((size - WAL_HEADER_SIZE) / frameSize(pageSize));
}

/**
 * decideCheckpoint returns the checkpoint to run, if any: TRUNCATE when the real WAL
 * reaches 500,000 pages; RESTART at `max-checkpoint-page-count` shadow pages (0 = off) or
 * near the offset limit; PASSIVE at `min-checkpoint-page-count`, or when the database file
 * has not changed for `checkpoint-interval` and the shadow WAL holds more than one frame.
 */
export function decideCheckpoint(i: CheckpointInput): CheckpointMode | undefined {
  const walPages = pageCount(i.walSize, i.pageSize);
  const shadowPages = pageCount(i.shadowSize, i.pageSize);
  if (walPages >= TRUNCATE_CHECKPOINT_PAGE_COUNT) return 'TRUNCATE';
  if (i.maxCheckpointPageCount > 0 && shadowPages >= i.maxCheckpointPageCount) return 'RESTART';
  if (i.shadowSize >= MAX_SHADOW_BYTES) return 'RESTART';
  if (shadowPages >= i.minCheckpointPageCount) return 'PASSIVE';
  if (i.checkpointInterval > 0 && i.nowMs - i.dbModifiedMs >= i.checkpointInterval && shadowPages > 1) return 'PASSIVE';
  return undefined;
}

/** StepAsideInput is what the step-aside decision needs to know. */
export interface StepAsideInput {
  /** shadowPages is the current WAL's frame count (the shadow is caught up). */
  shadowPages: number;
  minCheckpointPageCount: number;
  /** framesPerMs is the rate the WAL grew at since the previous look. */
  framesPerMs: number;
  /** lookAheadMs is how far ahead to look: about the time until the next look. */
  lookAheadMs: number;
}

/**
 * stepAsideIn returns in how many ms the WAL is expected to reach
 * `min-checkpoint-page-count` pages — or, once there, to get its next frame (the commit
 * whose checkpoint can empty it) — when that happens before the next look, else
 * undefined; always undefined when the WAL is not growing. That is where a writing
 * app's own autocheckpoint (SQLite's default: 1000 pages) runs after every commit, and
 * where our read lock would make each of those checkpoints stop short of the end, so the
 * app could not restart the WAL (see checkpointer.ts).
 */
export function stepAsideIn(i: StepAsideInput): number | undefined {
  if (i.framesPerMs <= 0) return undefined;
  const ms = Math.max(i.minCheckpointPageCount - i.shadowPages, 1) / i.framesPerMs;
  return ms <= i.lookAheadMs ? ms : undefined;
}

/**
 * nextLookIn: when the WAL is expected to reach `min-checkpoint-page-count` in `inMs`, the
 * look to ask for: halfway there, and at least `leadMs` before it (at once when it is
 * nearer than that). A rate misjudged from one interval between looks is then corrected
 * by a closer look, rather than found out after the app's checkpoint ran.
 */
export function nextLookIn(inMs: number, leadMs: number): number {
  return Math.max(0, Math.min(inMs - leadMs, Math.max(inMs / 2, leadMs)));
}
